# Record kinds, codes and the 16-byte record layout shared by store, protocol and host.
# Analyte/unit tables, conversion and validation are added below by the rule-core work.
import struct
from binascii import crc32

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Kinds occupy the top two bits of the kind/code byte; the code the low six.
KIND_LAB = const(0)
KIND_DOSE = const(1)
KIND_SYMPTOM = const(2)
KIND_EVENT = const(3)
KIND_NAMES = ("lab", "dose", "symptom", "event")

# Events: things the device logs that are not clinical entries.
EVENT_CLOCK_SET = const(0)      # value: seconds the clock jumped (clamped to int32)
EVENT_ACK = const(1)            # value: reminder or rule index acknowledged
EVENT_SNOOZE = const(2)         # value: reminder index; flags: days snoozed
EVENT_SYNC_MARK = const(3)      # value: highest record number the host has stored
EVENT_PROFILE_SET = const(4)    # value: profile CRC (low 31 bits)
EVENT_TAPER_START = const(5)    # clinician-entered step-down begins
EVENT_TAPER_END = const(6)
EVENT_GOAL = const(7)           # value: goal index (see GOALS)
EVENT_NAMES = ("CLOCK_SET", "ACK", "SNOOZE", "SYNC_MARK", "PROFILE_SET", "TAPER_START", "TAPER_END", "GOAL")

# Layout on flash and on the wire, little-endian, 16 bytes:
#   seq u32 | day u16 (days since 2000-01-01) | minute u16 (0..1439) |
#   kindcode u8 | value i32 | flags u8 | check u16 (low 16 bits of CRC-32 over the first 14 bytes)
RECORD_FORMAT = "<IHHBiB"
RECORD_BODY = const(14)
RECORD_SIZE = const(16)


def kindcode(kind, code):
    return (kind << 6) | code


def record_check(buf, offset=0):
    return crc32(memoryview(buf)[offset:offset + RECORD_BODY]) & 0xFFFF


def pack_record(buf, offset, seq, day, minute, kind, code, value, flags):
    """Writes one record with its check into buf at offset (no allocation)."""
    struct.pack_into(RECORD_FORMAT, buf, offset, seq, day, minute, (kind << 6) | code, value, flags)
    struct.pack_into("<H", buf, offset + RECORD_BODY, record_check(buf, offset))


def record_ok(buf, offset=0):
    return struct.unpack_from("<H", buf, offset + RECORD_BODY)[0] == record_check(buf, offset)


def unpack_record(buf, offset=0):
    """Returns (seq, day, minute, kind, code, value, flags); the caller checks record_ok first."""
    seq, day, minute, kc, value, flags = struct.unpack_from(RECORD_FORMAT, buf, offset)
    return seq, day, minute, kc >> 6, kc & 0x3F, value, flags
