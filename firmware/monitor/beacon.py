# What the device advertises, and how a provisioned host recognises it: no name, no product
# UUID, only a short identifier that changes every window and that only holders of the beacon key
# can compute or link.  The device (device/ble_service.py) and the host (host_tools/connect.py) import this.
#
#   key = beacon_key(device_key)                # HMAC(device_key, "e2mon beacon key"); the host keeps it
#   w = clock_window(day, minute)               # 15-minute window of the device's wall clock
#   w = unset_window(start, k)                  # clock unset: boot-random start, k windows since boot
#   ident = identifier(key, w)                  # HMAC-SHA256(key, "e2mon beacon" | w u32 LE)[:8]
#   payload = advertising_payload(ident)        # flags + manufacturer data (company 0xFFFF) ident
#   monitor.beacon_host.Matcher(key, day, minute).matches(ident)   # host: which window, if any
#
# The clock-unset windows sit apart (UNSET_FLAG) so they never equal a clock window; a device whose clock
# is unset starts at a random one of UNSET_SPAN windows at each boot (so reboots do not repeat one
# sequence) and the host finds it by trying all UNSET_SPAN of them (monitor.beacon_host, never on the device).
import struct

from monitor import session as sessions

from micropython import const

WINDOW_MINUTES = const(15)          # identifier and address change this often
WINDOW_MS = const(900000)           # the same window on the monotonic clock (clock unset)
ID_SIZE = const(8)                  # 64 bits: two devices of one host never collide in practice
UNSET_FLAG = const(0x20000000)      # bit 29: a window counted from boot, not from the wall clock
UNSET_SPAN = const(4096)            # boot-random windows a host tries for a device without a clock
COMPANY_ID = const(0xFFFF)          # SIG: "no company" (testing); names no vendor
AD_FLAGS = const(0x01)
AD_MANUFACTURER = const(0xFF)
LABEL_KEY = b"e2mon beacon key"
LABEL_ID = b"e2mon beacon"
_MINUTES_PER_DAY = const(1440)


def beacon_key(device_key):
    """The key both sides derive from the device key; a host keeps it beside its role key."""
    return sessions.hmac_sha256(device_key, LABEL_KEY)


def clock_window(day, minute):
    """The window of a wall-clock reading (day number since 2000, minute of day)."""
    return (day * _MINUTES_PER_DAY + minute) // WINDOW_MINUTES


def unset_window(start, k):
    """The k-th window since boot of a device whose clock is unset, from its boot-random start."""
    return UNSET_FLAG | ((start + k) % UNSET_SPAN)


def identifier(key, window):
    return sessions.hmac_sha256(key, LABEL_ID, struct.pack("<I", window))[:ID_SIZE]


def _field(kind, data):
    return bytes((len(data) + 1, kind)) + data


def advertising_payload(ident=None):
    """LE general discoverable, no BR/EDR; then the identifier (none on an unprovisioned device)."""
    payload = _field(AD_FLAGS, b"\x06")
    if ident is not None:
        payload += _field(AD_MANUFACTURER, struct.pack("<H", COMPANY_ID) + ident)
    return payload
