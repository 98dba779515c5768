"""Shadow of MicroPython's `bluetooth` module on a bumble Device (virtual controller).

Firmware written for MicroPython's low-level IRQ API runs unchanged on CPython against bumble's real
ATT/GATT/SMP stack. The module exports exactly what the real module exports (`BLE`, `UUID`,
`FLAG_READ`, `FLAG_WRITE`, `FLAG_NOTIFY`, `FLAG_INDICATE`, `FLAG_WRITE_NO_RESPONSE`); IRQ codes and the
other flags are *not* module attributes on a board either, so firmware defines them with `const()`.
The `_IRQ_*` / `_FLAG_*` names below are private copies for this shadow's own use.

How sim code uses it
--------------------
1. Make `import bluetooth` resolve here: put `sim/shadow` first on `sys.path` (`sim/shadow/bluetooth.py`
   replaces itself with this module) or set `sys.modules["bluetooth"] = sim.bluetooth` (what
   `sim.env.install()` does). Either way firmware and sim share one module object, one singleton.
2. Attach a powered-on bumble Device before the firmware calls `bluetooth.BLE()`; `sim.radio` does it:

       async with radio.InProcessLink() as link:
           ble = link.peripheral_ble()          # == bluetooth.BLE() from now on
           service = BleService(ble, app)       # firmware code, unchanged
           async with link.client() as client:  # bleak.BleakClient on the bumble central
               ...

   Without an attached radio `BLE()` raises OSError(ENODEV). `attach(device, stack=, notify_pool=,
   btstack_heap_limit=, read_request_irq=)` binds one directly; `radio.InProcessLink(**those)` and
   `radio.serve_tcp(**those)` pass them through.

Behaviour copied from the real stacks (where firmware can get it wrong)
-----------------------------------------------------------------------
- _IRQ_GATTS_WRITE runs the handler synchronously, before the ATT write response and before the next
  write can overwrite the value, as the ESP32 and rp2 ports do (MICROPY_PY_BLUETOOTH_USE_SYNC_EVENTS):
  back-to-back writes each reach the handler with their own value. The other IRQs are delivered from
  the asyncio event loop (call_soon), in order. `addr` in connect/disconnect events is a read-only
  memoryview that is released when the handler returns: keep `bytes(addr)`, not the view.
- gatts_write, gatts_notify and gatts_indicate take any buffer, a str too (its UTF-8 bytes), as the
  real module does.
- `gatts_register_services` raises OSError(EBUSY) while advertising or connected (NimBLE's rule).
- A characteristic's value buffer holds 20 bytes until `gatts_write` (grows it) or `gatts_set_buffer`
  (resizes and clears it); longer client writes are truncated, as on the boards.
- `gatts_notify` builds and queues the ATT PDU at once; data beyond MTU-3 is cut. Stack profile
  "nimble" (ESP32, default) has a fixed pool of `notify_pool` notifications in flight: when it is
  used up, `gatts_notify` raises OSError(ENOMEM) with no ready event; yield to the loop and retry.
  Profile "btstack" (Pico W) copies queued notifications onto the heap and raises MemoryError only past
  `btstack_heap_limit` bytes in flight.
- `gatts_indicate` completes with _IRQ_GATTS_INDICATE_DONE (conn, handle, status) once confirmed.
- An MTU exchange (either side; `gattc_exchange_mtu` from the device) gives _IRQ_MTU_EXCHANGED.
- `_IRQ_GATTS_READ_REQUEST` (conn, handle) runs the handler before every read, as builds with sync
  events (ESP32, rp2, the unix builds of `make firmware`) do with BTstack and NimBLE alike: it may
  `gatts_write` a fresh value, and a non-zero return is the ATT error the client gets.
  `read_request_irq=False` models ring-buffer builds (STM32), where only _FLAG_READ_AUTHORIZED
  (0x0800) characteristics ask.
- FLAG_READ/WRITE_ENCRYPTED (0x0200/0x1000) and *_AUTHENTICATED require an encrypted (paired) link:
  unpaired reads/writes get ATT "insufficient encryption/authentication". `config(bond=, mitm=,
  le_secure=, io=)` set bumble's pairing (Secure Connections always offered); _IRQ_ENCRYPTION_UPDATE
  reports the result; bonds are stored and looked up through _IRQ_SET_SECRET / _IRQ_GET_SECRET
  (key: the peer's ble_addr_t, value: an opaque blob). `gap_pair(conn)` starts pairing from the
  device; `gap_passkey` is not shadowed (the e2mon boards have no input or display for passkeys).
  _IRQ_ENCRYPTION_UPDATE's fields are integers, as both stacks give them; authenticated is 1 only for a
  pairing with MITM protection (0 for Just Works).
- The GAP and GATT services ahead of the firmware's are the stack profile's (NimBLE: Device Name,
  Appearance, an indicating Service Changed; BTstack: Device Name, a read Service Changed).
- `gap_advertise(connectable=False)` is ADV_SCAN_IND, scan response data or not, as both stacks send it.
- Central role: `gap_scan` (a legacy scan: _IRQ_SCAN_RESULT per report, scan responses as adv_type 4,
  _IRQ_SCAN_DONE), `gap_connect` (_IRQ_PERIPHERAL_CONNECT/DISCONNECT), `gattc_discover_services`,
  `_characteristics` ((conn, end_handle, value_handle, properties, uuid)), `_descriptors` (from after the
  given value handle, as both stacks), `gattc_read`, `gattc_write` (mode 1: _IRQ_GATTC_WRITE_DONE), and
  _IRQ_GATTC_NOTIFY/INDICATE for every notification and indication.
- A program that blocks in `time.sleep_ms` (the MicroPython examples' style) runs on its own thread with
  sim.board_thread: its IRQs run while it waits, as the unix port's delay runs pending events.

Sim-only extras carry a `sim_` prefix (`sim_settle()`, `sim_stats`, `sim_device`); firmware must not
use them.
"""
import asyncio
import errno
import functools
import json
import sys
import traceback

from bumble import att, core, gatt, hci
from bumble.device import AdvertisingType
from bumble.keys import KeyStore, PairingKeys

from sim import board_thread

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

# Private: the real module does not export these either.
_FLAG_BROADCAST = 0x0001
_FLAG_AUTHENTICATED_SIGNED_WRITE = 0x0040
_FLAG_AUX_WRITE = 0x0100
_FLAG_READ_ENCRYPTED = 0x0200
_FLAG_READ_AUTHENTICATED = 0x0400
_FLAG_READ_AUTHORIZED = 0x0800
_FLAG_WRITE_ENCRYPTED = 0x1000
_FLAG_WRITE_AUTHENTICATED = 0x2000
_FLAG_WRITE_AUTHORIZED = 0x4000

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_READ_REQUEST = 4
_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6
_IRQ_PERIPHERAL_CONNECT = 7
_IRQ_PERIPHERAL_DISCONNECT = 8
_IRQ_GATTC_SERVICE_RESULT = 9
_IRQ_GATTC_SERVICE_DONE = 10
_IRQ_GATTC_CHARACTERISTIC_RESULT = 11
_IRQ_GATTC_CHARACTERISTIC_DONE = 12
_IRQ_GATTC_DESCRIPTOR_RESULT = 13
_IRQ_GATTC_DESCRIPTOR_DONE = 14
_IRQ_GATTC_READ_RESULT = 15
_IRQ_GATTC_READ_DONE = 16
_IRQ_GATTC_WRITE_DONE = 17
_IRQ_GATTC_NOTIFY = 18
_IRQ_GATTC_INDICATE = 19
_IRQ_GATTS_INDICATE_DONE = 20
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30
_SEC_TYPE_PEER = 2  # NimBLE's BLE_STORE_OBJ_TYPE_PEER_SEC

_DEFAULT_ATTR_LEN = 20  # MicroPython's MP_BLUETOOTH_DEFAULT_ATTR_LEN
_DEFAULT_MTU = 256  # NimBLE's preferred ATT MTU on ESP32
_MIN_MTU = 23
_MAX_MTU = 517
_NIMBLE_NOTIFY_POOL = 12  # ESP-IDF's default msys block count
_BTSTACK_HEAP_LIMIT = 16 * 1024
_STATUS_TIMEOUT = 13  # NimBLE BLE_HS_ETIMEOUT
_STATUS_NOT_CONNECTED = 7  # NimBLE BLE_HS_ENOTCONN
_INDICATION_TIMEOUT_S = 30  # ATT transaction timeout
_CCCD_UUID = gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR
_DEFAULT_GAP_NAMES = {"nimble": "MPY NIMBLE", "btstack": "MPY BTSTACK"}   # MICROPY_PY_BLUETOOTH_DEFAULT_GAP_NAME
_CONFIG_KEYS = ("mac", "addr_mode", "gap_name", "rxbuf", "mtu", "bond", "mitm", "io", "le_secure")

_attached = None  # the BLE singleton bound to a bumble Device, or None


class UUID:
    """bluetooth.UUID: from a 16-bit int, a 128-bit string, or 2/4/16 little-endian bytes
    (`bytes(uuid)` gives them back, as the real UUID's buffer protocol does)."""

    def __init__(self, value):
        if isinstance(value, UUID):
            self._le = value._le
        elif isinstance(value, int):
            if value < 0 or value > 0xFFFF:  # MicroPython takes only 16-bit ints
                raise ValueError("invalid UUID")
            self._le = value.to_bytes(2, "little")
        elif isinstance(value, str):
            digits = value.replace("-", "")
            if len(digits) != 32:
                raise ValueError("invalid UUID")
            try:
                self._le = bytes(reversed(bytes.fromhex(digits)))
            except ValueError:
                raise ValueError("invalid UUID") from None
        else:
            raw = bytes(value)
            if len(raw) not in (2, 4, 16):
                raise ValueError("invalid UUID")
            self._le = raw

    def __bytes__(self):
        return self._le

    def __eq__(self, other):
        return isinstance(other, UUID) and other._le == self._le

    def __hash__(self):
        return hash(self._le)

    def __repr__(self):
        if len(self._le) != 16:
            return "UUID(0x%04x)" % int.from_bytes(self._le, "little")
        h = bytes(reversed(self._le)).hex()
        return "UUID('%s-%s-%s-%s-%s')" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def _to_bumble(self):
        return core.UUID.from_bytes(self._le)


class _Value:
    """One characteristic's or descriptor's local value, as MicroPython's gatts_db entry."""

    __slots__ = ("data", "alloc", "append", "flags", "attribute", "characteristic")

    def __init__(self, flags):
        self.data = b""
        self.alloc = _DEFAULT_ATTR_LEN
        self.append = False
        self.flags = flags
        self.attribute = None
        self.characteristic = None  # the bumble Characteristic for value handles, None for descriptors


def _as_uuid(value):
    if not isinstance(value, UUID):
        raise TypeError("expected bluetooth.UUID, got %r" % (value,))
    return value._to_bumble()


def _permissions(flags):
    perms = att.Attribute.Permissions(0)
    if flags & (FLAG_READ | _FLAG_READ_ENCRYPTED | _FLAG_READ_AUTHENTICATED | _FLAG_READ_AUTHORIZED):
        perms |= att.Attribute.READABLE
    if flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE | _FLAG_AUX_WRITE | _FLAG_WRITE_ENCRYPTED
                | _FLAG_WRITE_AUTHENTICATED | _FLAG_WRITE_AUTHORIZED):
        perms |= att.Attribute.WRITEABLE
    if flags & _FLAG_READ_ENCRYPTED:
        perms |= att.Attribute.READ_REQUIRES_ENCRYPTION
    if flags & _FLAG_READ_AUTHENTICATED:
        perms |= att.Attribute.READ_REQUIRES_ENCRYPTION | att.Attribute.READ_REQUIRES_AUTHENTICATION
    if flags & _FLAG_WRITE_ENCRYPTED:
        perms |= att.Attribute.WRITE_REQUIRES_ENCRYPTION
    if flags & _FLAG_WRITE_AUTHENTICATED:
        perms |= att.Attribute.WRITE_REQUIRES_ENCRYPTION | att.Attribute.WRITE_REQUIRES_AUTHENTICATION
    return perms


def _buffer(data):
    """What the real module's buffer protocol gives: a str's UTF-8 bytes, any other buffer's bytes."""
    return data.encode() if isinstance(data, str) else bytes(data)


def _display_address(address):
    """MicroPython hands out addresses most significant byte first (as printed)."""
    return bytes(reversed(bytes(address)))


def attach(device, *, stack="nimble", notify_pool=_NIMBLE_NOTIFY_POOL,
           btstack_heap_limit=_BTSTACK_HEAP_LIMIT, read_request_irq=True):
    """Bind the BLE singleton to a bumble Device (powered on, running in this event loop).

    stack: "nimble" (ESP32: OSError(ENOMEM) past `notify_pool` notifications in flight) or
    "btstack" (Pico W: heap copies, MemoryError past `btstack_heap_limit` bytes in flight).
    Returns the BLE object that `bluetooth.BLE()` returns until `detach()`.
    """
    global _attached
    if stack not in ("nimble", "btstack"):
        raise ValueError("stack must be 'nimble' or 'btstack', not %r" % (stack,))
    if notify_pool < 1 or btstack_heap_limit < 1:
        raise ValueError("notify_pool and btstack_heap_limit must be positive")
    if _attached is not None:
        _attached._sim_detach()
    ble = object.__new__(BLE)
    ble._sim_setup(device, stack, notify_pool, btstack_heap_limit, read_request_irq)
    _attached = ble
    return ble


def detach():
    """Unbind the singleton (the radio is going away); later BLE() calls raise OSError(ENODEV)."""
    global _attached
    if _attached is not None:
        _attached._sim_detach()
    _attached = None


class _SecretKeyStore(KeyStore):
    """Bonds live where the firmware keeps them: bumble's key store asks the IRQ handler, as
    NimBLE does, with _IRQ_SET_SECRET (sec_type, key, value or None to delete) and
    _IRQ_GET_SECRET (sec_type, index, key or None for the index'th entry). `key` is the peer's
    ble_addr_t (type byte, then the address least significant byte first); `value` is an opaque
    blob the firmware stores as is (here JSON of bumble's keys, on NimBLE a C struct)."""

    def __init__(self, ble):
        self._ble = ble

    @staticmethod
    def _key(name):
        address = hci.Address(name)
        return bytes((address.address_type & 1,)) + bytes(address)

    def _ask(self, event, data):
        return self._ble._invoke(event, tuple(
            memoryview(item).toreadonly() if isinstance(item, bytes) else item for item in data))

    async def update(self, name, keys):
        value = json.dumps({"name": name, "keys": keys.to_dict()}).encode()
        self._ask(_IRQ_SET_SECRET, (_SEC_TYPE_PEER, self._key(name), value))

    async def delete(self, name):
        self._ask(_IRQ_SET_SECRET, (_SEC_TYPE_PEER, self._key(name), None))

    @staticmethod
    def _decode(value):
        if value is None:
            return None
        entry = json.loads(bytes(value))
        return entry["name"], PairingKeys.from_dict(entry["keys"])

    async def get(self, name):
        found = self._decode(self._ask(_IRQ_GET_SECRET, (_SEC_TYPE_PEER, 0, self._key(name))))
        return None if found is None else found[1]

    async def get_all(self):
        entries = []
        while True:
            found = self._decode(self._ask(_IRQ_GET_SECRET, (_SEC_TYPE_PEER, len(entries), None)))
            if found is None:
                return entries
            entries.append(found)


class BLE:
    """bluetooth.BLE(): returns the singleton bound by `attach`."""

    def __new__(cls):
        if _attached is None:
            raise OSError(errno.ENODEV, "no simulated radio attached (see sim.radio)")
        return _attached

    def __init__(self):
        pass

    # ---- sim plumbing -------------------------------------------------------------------------
    def _sim_setup(self, device, stack, notify_pool, heap_limit, read_request_irq):
        self.sim_device = device
        self._stack = stack
        self._notify_pool = notify_pool
        self._heap_limit = heap_limit
        self._read_request_irq = read_request_irq
        self._active = False
        self._handler = None
        self._board = None
        self._scan_task = None
        self._scanning = False
        self._mtu = _DEFAULT_MTU
        self._config = {"addr_mode": 1, "rxbuf": 1024, "bond": False, "mitm": False, "io": 3,
                        "le_secure": False}
        self._values = {}
        self._connections = {}  # conn_handle -> bumble Connection
        self._in_flight = {}  # conn_handle -> list of [acl_marker, nbytes] per queued notification
        self._indications = {}  # conn_handle -> [(value_handle, value)], head awaiting confirmation
        self._confirmations = {}  # conn_handle -> future of the head indication's confirmation
        self._adv_data = b""
        self._resp_data = b""
        self._advertising = False  # as the firmware last asked; a connection ends it, as on the stacks
        self._last_op = None
        self._tasks = set()
        self._detached = False
        self._install_builtin_services()
        self._base_attributes = len(device.gatt_server.attributes)
        self._base_services = len(device.gatt_server.services)
        self.sim_stats = {"notifications": 0, "notify_bytes": 0, "notify_refused": 0,
                          "indications": 0, "irqs": 0, "irq_errors": 0}
        self.sim_irq_exceptions = []
        self._set_gap_name(_DEFAULT_GAP_NAMES[stack])   # until the firmware sets one, as each stack shows
        device.on(device.EVENT_CONNECTION, self._on_connection)
        device.host.on("advertising_report", self._on_advertising_report)
        device.gatt_server.max_mtu = self._mtu
        self._previous_keystore = device.keystore
        device.keystore = _SecretKeyStore(self)

    def _install_builtin_services(self):
        """The GAP and GATT services each stack registers ahead of the firmware's, as a central discovers
        them (bumble's own add Client Supported Features and Database Hash, which neither stack has):
        NimBLE: GAP with Device Name and Appearance (0x0000), GATT with Service Changed (indicate only, its
        CCCD); BTstack: GAP with Device Name only, GATT with Service Changed (read, no CCCD). NimBLE's first
        handle is 10 on the boards (its first registration's handles are not reused): not modelled."""
        server = self.sim_device.gatt_server
        del server.attributes[:]
        del server.services[:]
        server.attributes_by_handle = {}
        self.sim_device.gatt_service = None
        props = gatt.Characteristic.Properties
        gap = [gatt.Characteristic(core.UUID.from_16_bits(0x2A00), props.READ, att.Attribute.READABLE, b"")]
        if self._stack == "nimble":
            gap.append(gatt.Characteristic(core.UUID.from_16_bits(0x2A01), props.READ, att.Attribute.READABLE,
                                           bytes(2)))
            service_changed = gatt.Characteristic(core.UUID.from_16_bits(0x2A05), props.INDICATE,
                                                  att.Attribute.Permissions(0), b"")
        else:
            service_changed = gatt.Characteristic(core.UUID.from_16_bits(0x2A05), props.READ,
                                                  att.Attribute.READABLE, b"")
        server.add_service(gatt.Service(core.UUID.from_16_bits(0x1800), gap))
        server.add_service(gatt.Service(core.UUID.from_16_bits(0x1801), [service_changed]))

    def _sim_detach(self):
        self._detached = True
        self._active = False
        self.sim_device.keystore = self._previous_keystore
        self.sim_device.remove_listener(self.sim_device.EVENT_CONNECTION, self._on_connection)
        self.sim_device.host.remove_listener("advertising_report", self._on_advertising_report)
        for task in list(self._tasks):
            task.cancel()

    async def sim_settle(self):
        """Wait until every operation queued by the synchronous API (advertise, indicate...) ran."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)

    def _spawn(self, coro, ordered=True):
        """Run a bumble coroutine behind earlier ordered ones; the sync API returns at once."""
        previous = self._last_op if ordered else None

        async def run():
            if previous is not None:
                try:
                    await previous
                except BaseException:  # noqa: B036 - an earlier op's failure is reported by that op
                    pass
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._detached:
                    print("sim.bluetooth: background operation failed:", file=sys.stderr)
                    traceback.print_exc()

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if ordered:
            self._last_op = task
        return task

    def _irq(self, event, data):
        if self._detached:
            return
        asyncio.get_running_loop().call_soon(self._invoke, event, data)

    def _invoke(self, event, data):
        if self._detached or self._handler is None:
            return None
        board = self._board
        if board is not None and board.alive and board_thread.current() is None:
            return board.deliver(self._run_handler, event, data)   # on the program's thread, at its next wait
        return self._run_handler(event, data)

    def _run_handler(self, event, data):
        self.sim_stats["irqs"] += 1
        try:
            return self._handler(event, data)
        except Exception as exc:  # MicroPython prints and carries on; so do we, and keep a record
            self.sim_stats["irq_errors"] += 1
            self.sim_irq_exceptions.append(exc)
            print("Unhandled exception in IRQ callback handler", file=sys.stderr)
            traceback.print_exc()
            return None
        finally:
            for item in data:
                if isinstance(item, memoryview):
                    try:
                        item.release()
                    except BufferError:
                        pass

    def _require_active(self):
        if not self._active:
            raise OSError(errno.EPERM, "BLE not active")

    def _connection(self, conn_handle):
        connection = self._connections.get(conn_handle)
        if connection is None:
            raise OSError(errno.ENOTCONN, "not connected: %r" % (conn_handle,))
        return connection

    def _value(self, value_handle):
        entry = self._values.get(value_handle)
        if entry is None:
            raise OSError(errno.EINVAL, "unknown value handle %r" % (value_handle,))
        return entry

    # ---- bumble events ------------------------------------------------------------------------
    def _on_connection(self, connection):
        if not self._active:
            return
        if connection.role == hci.Role.CENTRAL:
            self._on_peripheral_connected(connection)
            return
        handle = connection.handle
        self._connections[handle] = connection
        self._in_flight[handle] = []
        self._advertising = False
        addr_type = connection.peer_address.address_type & 1

        def address_view():
            return memoryview(_display_address(connection.peer_address)).toreadonly()

        def on_disconnection(reason):
            self._connections.pop(handle, None)
            self._in_flight.pop(handle, None)
            # Unconfirmed indications fail first (NimBLE reports them before the disconnect).
            confirmed = self._confirmations.pop(handle, None)
            queued = self._indications.pop(handle, [])
            if confirmed is not None and not confirmed.done():
                confirmed.set_exception(ConnectionError("link lost"))
            for value_handle, _ in queued:
                self._irq(_IRQ_GATTS_INDICATE_DONE, (handle, value_handle, _STATUS_NOT_CONNECTED))
            self._irq(_IRQ_CENTRAL_DISCONNECT, (handle, addr_type, address_view()))

        def on_mtu():
            self._irq(_IRQ_MTU_EXCHANGED, (handle, connection.att_mtu))

        def on_encryption(*_):
            # Integers, as both stacks give them; "authenticated" is MITM protection (0 for Just Works),
            # not bumble's connection.authenticated (set by any encryption).
            encrypted = 1 if connection.encryption else 0
            bonded = 1 if self._config["bond"] and encrypted else 0
            self._irq(_IRQ_ENCRYPTION_UPDATE, (handle, encrypted, self._mitm_protected(connection) if encrypted
                                               else 0, bonded, connection.encryption_key_size or 16))

        def on_parameters(*_):
            p = connection.parameters
            interval = int(round(p.connection_interval / 1.25))
            timeout = int(round(p.supervision_timeout / 10))
            self._irq(_IRQ_CONNECTION_UPDATE, (handle, interval, p.peripheral_latency, timeout, 0))

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)
        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE, on_mtu)
        connection.on(connection.EVENT_CONNECTION_ENCRYPTION_CHANGE, on_encryption)
        connection.on(connection.EVENT_CONNECTION_PARAMETERS_UPDATE, on_parameters)
        self._irq(_IRQ_CENTRAL_CONNECT, (handle, addr_type, address_view()))

    def _mitm_protected(self, connection):
        """1 when the link's key came from an authenticated pairing (passkey, numeric comparison), else 0:
        the pairing in progress says, or else the bond it was stored with."""
        from bumble.smp import PairingMethod

        session = self.sim_device.smp_manager.sessions.get(connection.handle)
        if session is not None and session.pairing_method is not None:
            return 0 if session.pairing_method == PairingMethod.JUST_WORKS else 1
        entry = self._stored_bond(connection.peer_address)
        return 1 if entry is not None and entry.ltk is not None and entry.ltk.authenticated else 0

    def _stored_bond(self, address):
        store = self.sim_device.keystore
        if not isinstance(store, _SecretKeyStore):
            return None
        found = store._decode(store._ask(_IRQ_GET_SECRET, (_SEC_TYPE_PEER, 0, store._key(str(address)))))
        return None if found is None else found[1]

    def _remote_read(self, handle, bearer):
        entry = self._values[handle]
        if not entry.attribute.permissions & att.Attribute.READABLE:
            raise att.ATT_Error(error_code=att.ATT_READ_NOT_PERMITTED_ERROR)  # bumble leaves this to us
        if self._read_request_irq or entry.flags & _FLAG_READ_AUTHORIZED:
            # Synchronous, like ports that run the stack in the scheduler: the handler may
            # gatts_write a fresh value or deny the read with an ATT error code.
            result = self._invoke(_IRQ_GATTS_READ_REQUEST, (bearer.handle, handle))
            if result:
                raise att.ATT_Error(error_code=int(result))
        return bytes(entry.data)

    def _remote_write(self, handle, bearer, value):
        entry = self._values[handle]
        if not entry.attribute.permissions & att.Attribute.WRITEABLE:
            raise att.ATT_Error(error_code=att.ATT_WRITE_NOT_PERMITTED_ERROR)
        value = bytes(value)
        if entry.append:
            entry.data = (entry.data + value)[:entry.alloc]
        else:
            entry.data = value[:entry.alloc]
        if not self._detached:
            self._invoke(_IRQ_GATTS_WRITE, (bearer.handle, handle))   # synchronous, as on the boards

    # ---- configuration ------------------------------------------------------------------------
    def active(self, *args):
        if args:
            want = bool(args[0])
            if want and not self._active:
                if not self.sim_device.powered_on:
                    self._spawn(self.sim_device.power_on())
                self._active = True
            elif not want and self._active:
                self._active = False
                self._spawn(self.sim_device.stop_advertising())
                for connection in list(self._connections.values()):
                    self._spawn(connection.disconnect(), ordered=False)
        return self._active

    def config(self, *args, **kwargs):
        if args and kwargs or len(args) > 1:
            raise TypeError("config takes one parameter name or keyword arguments")
        if args:
            name = args[0]
            if name == "mac":
                self._require_active()
                return (1, _display_address(self.sim_device.random_address))
            if name == "gap_name":
                return self.sim_device.name.encode()
            if name == "mtu":
                return self._mtu
            if name in self._config:
                return self._config[name]
            raise ValueError("unknown config param")
        for name in kwargs:
            if name not in _CONFIG_KEYS or name == "mac":
                raise ValueError("unknown config param")
        for name, value in kwargs.items():
            if name == "gap_name":
                self._set_gap_name(value)
            elif name == "mtu":
                if not _MIN_MTU <= value <= _MAX_MTU:
                    raise ValueError("mtu must be %d..%d" % (_MIN_MTU, _MAX_MTU))
                self._mtu = value
                self.sim_device.gatt_server.max_mtu = value
            elif name == "addr_mode":
                self._set_address_mode(value)
            else:
                self._config[name] = value
                if name in ("bond", "mitm", "io", "le_secure"):
                    self._apply_pairing_config()
        return None

    def _set_address_mode(self, mode):
        """As both stacks: 1 (random) sets a new static random address at each call (LE Set Random Address);
        2 (RPA) and 3 (NRPA) are stored (NimBLE's RPA rotation is not simulated)."""
        self._require_active()
        if mode not in (0, 1, 2, 3):
            raise ValueError("addr_mode must be 0..3")
        self._config["addr_mode"] = mode
        if mode == 1:
            device = self.sim_device
            address = hci.Address.generate_static_address()
            device.random_address = address
            self._spawn(device.send_command(hci.HCI_LE_Set_Random_Address_Command(random_address=address)))

    def _set_gap_name(self, value):
        name = value.decode() if isinstance(value, (bytes, bytearray, memoryview)) else str(value)
        self.sim_device.name = name
        device_name = core.UUID.from_16_bits(0x2A00)
        for attribute in self.sim_device.gatt_server.attributes:
            if isinstance(attribute, gatt.Characteristic) and attribute.uuid == device_name:
                attribute.value = name.encode()

    def _apply_pairing_config(self):
        from bumble import pairing

        config = self._config
        io = pairing.PairingDelegate.IoCapability(config["io"]) if config["io"] in (0, 1, 2, 3, 4) \
            else pairing.PairingDelegate.IoCapability.NO_OUTPUT_NO_INPUT
        delegate = pairing.PairingDelegate(io_capability=io)
        self.sim_device.pairing_config_factory = lambda connection: pairing.PairingConfig(
            sc=True, mitm=bool(config["mitm"]), bonding=bool(config["bond"]), delegate=delegate,
            identity_address_type=pairing.PairingConfig.AddressType.RANDOM)   # the address it advertises on

    def irq(self, handler):
        self._handler = handler
        self._board = board_thread.current()   # a program on its own thread (sim.board_thread) gets them there

    # ---- GAP ----------------------------------------------------------------------------------
    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._require_active()
        device = self.sim_device
        if interval_us is None:
            self._advertising = False
            self._spawn(device.stop_advertising())
            return
        self._advertising = True
        if adv_data is not None:
            self._adv_data = bytes(adv_data)
        if resp_data is not None:
            self._resp_data = bytes(resp_data)
        interval_ms = max(20.0, (int(interval_us) // 625) * 0.625)
        # Both stacks make non-connectable advertising scannable (ADV_SCAN_IND), scan response data or not
        # (extmod/btstack: adv_type 2; extmod/nimble: BLE_GAP_DISC_MODE_GEN): never ADV_NONCONN_IND.
        kind = (AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE if connectable
                else AdvertisingType.UNDIRECTED_SCANNABLE)

        async def restart():
            if device.is_advertising:
                await device.stop_advertising()
            await device.start_advertising(
                advertising_type=kind, advertising_data=self._adv_data,
                scan_response_data=self._resp_data or None,
                advertising_interval_min=interval_ms, advertising_interval_max=interval_ms)

        self._spawn(restart())

    def gap_disconnect(self, conn_handle):
        self._require_active()
        connection = self._connections.get(conn_handle)
        if connection is None:
            return False
        self._spawn(connection.disconnect(), ordered=False)
        return True

    def gap_pair(self, conn_handle):
        self._require_active()
        self._spawn(self._connection(conn_handle).pair(), ordered=False)

    # ---- central: scanning, connecting, GATT client --------------------------------------------
    def gap_scan(self, duration_ms, interval_us=1280000, window_us=11250, active=False):
        """As both stacks: a legacy scan; _IRQ_SCAN_RESULT (addr_type, addr, adv_type, rssi, adv_data) for
        every report, scan responses included (adv_type 4), then _IRQ_SCAN_DONE; 0 scans until stopped,
        None stops."""
        self._require_active()
        device = self.sim_device
        if self._scan_task is not None:
            self._scan_task.cancel()
            self._scan_task = None
        if duration_ms is None:
            self._spawn(self._stop_scan(done=True))
            return

        async def scan():
            try:
                await device.start_scanning(legacy=True, active=bool(active), filter_duplicates=False,
                                            scan_interval=max(2.5, int(interval_us) / 1000),
                                            scan_window=max(2.5, min(int(window_us), int(interval_us)) / 1000))
                self._scanning = True
                if duration_ms:
                    await asyncio.sleep(duration_ms / 1000)
                    await self._stop_scan(done=True)
            except asyncio.CancelledError:
                pass

        self._scan_task = self._spawn(scan(), ordered=False)

    async def _stop_scan(self, done):
        if self._scanning:
            self._scanning = False
            await self.sim_device.stop_scanning()
            if done:
                self._irq(_IRQ_SCAN_DONE, ())

    def _on_advertising_report(self, report):
        if not self._scanning or not isinstance(report, hci.HCI_LE_Advertising_Report_Event.Report):
            return
        address = report.address
        self._irq(_IRQ_SCAN_RESULT, (address.address_type & 1, memoryview(_display_address(address)).toreadonly(),
                                     int(report.event_type), report.rssi,
                                     memoryview(bytes(report.data)).toreadonly()))

    def gap_connect(self, addr_type, addr, scan_duration_ms=2000, *args):
        """Connect to (addr_type, addr: most significant byte first); _IRQ_PERIPHERAL_CONNECT (conn_handle,
        addr_type, addr) once connected. No connection within scan_duration_ms: nothing, as on NimBLE."""
        self._require_active()
        address = hci.Address(bytes(reversed(bytes(addr))), hci.Address.PUBLIC_DEVICE_ADDRESS if addr_type == 0
                              else hci.Address.RANDOM_DEVICE_ADDRESS)

        async def connect():
            await self._stop_scan(done=True)
            try:
                await self.sim_device.connect(address, own_address_type=hci.OwnAddressType.RANDOM,
                                              timeout=max(scan_duration_ms, 1) / 1000)
            except (core.TimeoutError, asyncio.TimeoutError, core.ConnectionError):
                pass

        self._spawn(connect(), ordered=False)
        return True

    def _on_peripheral_connected(self, connection):
        handle = connection.handle
        self._connections[handle] = connection
        self._in_flight[handle] = []
        addr_type = connection.peer_address.address_type & 1
        client = connection.gatt_client
        notified, indicated = client.on_att_handle_value_notification, client.on_att_handle_value_indication

        def address_view():
            return memoryview(_display_address(connection.peer_address)).toreadonly()

        def on_notification(notification):   # every one, subscribed through bumble or by a CCCD write
            self._irq(_IRQ_GATTC_NOTIFY, (handle, notification.attribute_handle,
                                          memoryview(bytes(notification.attribute_value)).toreadonly()))

        def on_indication(indication):
            self._irq(_IRQ_GATTC_INDICATE, (handle, indication.attribute_handle,
                                            memoryview(bytes(indication.attribute_value)).toreadonly()))
            indicated(indication)   # bumble confirms it

        client.on_att_handle_value_notification = on_notification
        client.on_att_handle_value_indication = on_indication
        del notified

        def on_disconnection(reason):
            self._connections.pop(handle, None)
            self._in_flight.pop(handle, None)
            self._irq(_IRQ_PERIPHERAL_DISCONNECT, (handle, addr_type, address_view()))

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)
        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE,
                      lambda: self._irq(_IRQ_MTU_EXCHANGED, (handle, connection.att_mtu)))
        self._irq(_IRQ_PERIPHERAL_CONNECT, (handle, addr_type, address_view()))

    def _gattc(self, conn_handle, operation, done_event, done_args):
        """Run a GATT client operation; its results as it reports them, then done_event (..., status)."""
        connection = self._connection(conn_handle)

        async def run():
            status = 0
            try:
                await operation(connection.gatt_client)
            except att.ATT_Error as error:
                status = error.error_code
            except (core.TimeoutError, asyncio.TimeoutError):
                status = _STATUS_TIMEOUT
            except (core.ConnectionError, ConnectionError):
                status = _STATUS_NOT_CONNECTED
            if done_event is not None:
                self._irq(done_event, done_args + (status,))

        self._spawn(run(), ordered=False)

    def gattc_discover_services(self, conn_handle, uuid=None):
        self._require_active()

        async def discover(client):
            for service in await client.discover_services([uuid._to_bumble()] if uuid is not None else []):
                self._irq(_IRQ_GATTC_SERVICE_RESULT, (conn_handle, service.handle, service.end_group_handle,
                                                      UUID(bytes(service.uuid.to_bytes()))))

        self._gattc(conn_handle, discover, _IRQ_GATTC_SERVICE_DONE, (conn_handle,))

    def gattc_discover_characteristics(self, conn_handle, start_handle, end_handle, uuid=None):
        self._require_active()
        from bumble.gatt_client import ServiceProxy

        async def discover(client):
            service = ServiceProxy(client, start_handle, end_handle, None)
            found = await client.discover_characteristics([uuid._to_bumble()] if uuid is not None else [],
                                                          service)
            for characteristic in found:
                self._irq(_IRQ_GATTC_CHARACTERISTIC_RESULT, (
                    conn_handle, characteristic.end_group_handle, characteristic.handle,
                    int(characteristic.properties), UUID(bytes(characteristic.uuid.to_bytes()))))

        self._gattc(conn_handle, discover, _IRQ_GATTC_CHARACTERISTIC_DONE, (conn_handle,))

    def gattc_discover_descriptors(self, conn_handle, start_handle, end_handle):
        """start_handle is the characteristic's value handle, as both stacks take it (BTstack's
        gatt_client_characteristic_t, NimBLE's ble_gattc_disc_all_dscs): descriptors come after it."""
        self._require_active()

        async def discover(client):
            if start_handle >= end_handle:
                return
            for descriptor in await client.discover_descriptors(start_handle=start_handle + 1,
                                                                end_handle=end_handle):
                self._irq(_IRQ_GATTC_DESCRIPTOR_RESULT, (conn_handle, descriptor.handle,
                                                         UUID(bytes(descriptor.type.to_bytes()))))

        self._gattc(conn_handle, discover, _IRQ_GATTC_DESCRIPTOR_DONE, (conn_handle,))

    def gattc_read(self, conn_handle, value_handle):
        self._require_active()

        async def read(client):
            value = await client.read_value(value_handle, no_long_read=True)
            self._irq(_IRQ_GATTC_READ_RESULT, (conn_handle, value_handle, memoryview(bytes(value)).toreadonly()))

        self._gattc(conn_handle, read, _IRQ_GATTC_READ_DONE, (conn_handle, value_handle))

    def gattc_write(self, conn_handle, value_handle, data, mode=0):
        """mode 0: write without response (no event); 1: with response, then _IRQ_GATTC_WRITE_DONE."""
        self._require_active()
        value = _buffer(data)

        async def write(client):
            await client.write_value(value_handle, value, with_response=bool(mode))

        self._gattc(conn_handle, write, _IRQ_GATTC_WRITE_DONE if mode else None, (conn_handle, value_handle))

    # ---- GATT server --------------------------------------------------------------------------
    def gatts_register_services(self, services_definition):
        self._require_active()
        if self._advertising or self._connections:
            # NimBLE's ble_gatts_reset() refuses while advertising or connected.
            raise OSError(errno.EBUSY, "stop advertising and disconnect before registering services")
        server = self.sim_device.gatt_server
        # Replace earlier registrations (the GAP/GATT services bumble added stay first).
        del server.attributes[self._base_attributes:]
        del server.services[self._base_services:]
        server.attributes_by_handle = {}
        self._values = {}
        result = []
        for service_def in services_definition:
            if len(service_def) != 2:
                raise ValueError("a service is (UUID, characteristics)")
            service_uuid, chars_def = service_def
            characteristics = []
            order = []  # (entry, attribute) in MicroPython's handle order
            for char_def in chars_def:
                if len(char_def) not in (2, 3):
                    raise ValueError("a characteristic is (UUID, flags[, descriptors])")
                flags = int(char_def[1])
                entry = _Value(flags)
                characteristic = gatt.Characteristic(
                    _as_uuid(char_def[0]), gatt.Characteristic.Properties(flags & 0xFF),
                    _permissions(flags), self._make_value(entry))
                entry.attribute = characteristic
                entry.characteristic = characteristic
                order.append(entry)
                descriptors = []
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    # NimBLE puts the CCCD straight after the value; bumble would append it.
                    descriptors.append(gatt.Descriptor(
                        _CCCD_UUID, att.Attribute.READABLE | att.Attribute.WRITEABLE,
                        server.make_descriptor_value(characteristic)))
                for desc_def in (char_def[2] if len(char_def) == 3 else ()):
                    if len(desc_def) != 2:
                        raise ValueError("a descriptor is (UUID, flags)")
                    dflags = int(desc_def[1])
                    dentry = _Value(dflags)
                    descriptor = gatt.Descriptor(_as_uuid(desc_def[0]), _permissions(dflags),
                                                 self._make_value(dentry))
                    dentry.attribute = descriptor
                    descriptors.append(descriptor)
                    order.append(dentry)
                characteristic.descriptors = descriptors
                characteristics.append(characteristic)
            server.add_service(gatt.Service(_as_uuid(service_uuid), characteristics))
            handles = []
            for entry in order:
                self._values[entry.attribute.handle] = entry
                handles.append(entry.attribute.handle)
            result.append(tuple(handles))
        return tuple(result)

    def _make_value(self, entry):
        return att.AttributeValueV2(
            read=lambda bearer: self._remote_read(entry.attribute.handle, bearer),
            write=lambda bearer, value: self._remote_write(entry.attribute.handle, bearer, value))

    def gatts_read(self, value_handle):
        entry = self._value(value_handle)
        data = bytes(entry.data)
        if entry.append:
            entry.data = b""
        return data

    def gatts_write(self, value_handle, data, send_update=False):
        entry = self._value(value_handle)
        entry.data = _buffer(data)
        if len(entry.data) > entry.alloc:
            entry.alloc = len(entry.data)
        if send_update and entry.characteristic is not None:
            subscribers = self.sim_device.gatt_server.subscribers
            for conn_handle, connection in list(self._connections.items()):
                cccd = subscribers.get(connection, {}).get(value_handle)
                if not cccd or len(cccd) != 2:
                    continue
                if cccd[0] & 0x01:
                    self._send_notification(conn_handle, connection, entry, entry.data, count=False)
                elif cccd[0] & 0x02:
                    self._queue_indication(conn_handle, connection, entry, entry.data)

    def gatts_set_buffer(self, value_handle, length, append=False):
        entry = self._value(value_handle)
        entry.alloc = int(length)
        entry.append = bool(append)
        entry.data = b""

    def gatts_notify(self, conn_handle, value_handle, data=None):
        self._require_active()
        connection = self._connection(conn_handle)
        entry = self._value(value_handle)
        self._send_notification(conn_handle, connection, entry,
                                entry.data if data is None else _buffer(data), count=True)

    def gatts_indicate(self, conn_handle, value_handle, data=None):
        self._require_active()
        connection = self._connection(conn_handle)
        entry = self._value(value_handle)
        self._queue_indication(conn_handle, connection, entry,
                               entry.data if data is None else _buffer(data))

    def gattc_exchange_mtu(self, conn_handle):
        self._require_active()
        connection = self._connection(conn_handle)
        self._spawn(connection.gatt_client.request_mtu(self._mtu), ordered=False)

    def _notifications_in_flight(self, conn_handle):
        """Drop queued notifications the controller has completed; return the rest."""
        queue = self.sim_device.host.get_data_packet_queue(conn_handle)
        pending = self._in_flight.get(conn_handle)
        if pending is None:
            return []
        completed = queue.completed if queue is not None else 1 << 62
        while pending and pending[0][0] <= completed:
            pending.pop(0)
        return pending

    def _send_notification(self, conn_handle, connection, entry, value, count):
        pending = self._notifications_in_flight(conn_handle)
        value = value[:connection.att_mtu - 3]
        if count:
            if self._stack == "nimble" and len(pending) >= self._notify_pool:
                self.sim_stats["notify_refused"] += 1
                raise OSError(errno.ENOMEM, "notification pool exhausted")
            if self._stack == "btstack" and sum(n for _, n in pending) + len(value) > self._heap_limit:
                self.sim_stats["notify_refused"] += 1
                raise MemoryError("memory allocation failed, queued notifications exceed heap")
        pdu = att.ATT_Handle_Value_Notification(attribute_handle=entry.attribute.handle,
                                                attribute_value=value)
        self.sim_device.gatt_server.send_gatt_pdu(connection, bytes(pdu))
        queue = self.sim_device.host.get_data_packet_queue(conn_handle)
        if queue is not None:
            pending.append([queue.queued, len(value)])
        self.sim_stats["notifications"] += 1
        self.sim_stats["notify_bytes"] += len(value)

    def _queue_indication(self, conn_handle, connection, entry, value):
        """Indications leave in call order with the notifications around them; ATT allows one
        unconfirmed per link, so later ones wait in a queue, as in the stacks."""
        queue = self._indications.setdefault(conn_handle, [])
        queue.append((entry.attribute.handle, value[:connection.att_mtu - 3]))
        if len(queue) == 1:
            self._send_indication(conn_handle, connection)

    def _send_indication(self, conn_handle, connection):
        queue = self._indications.get(conn_handle)
        if not queue:
            return
        value_handle, value = queue[0]
        server = self.sim_device.gatt_server
        confirmed = asyncio.get_running_loop().create_future()
        server.pending_confirmations[connection] = confirmed  # bumble resolves it on the confirmation
        self._confirmations[conn_handle] = confirmed
        pdu = att.ATT_Handle_Value_Indication(attribute_handle=value_handle, attribute_value=value)
        server.send_gatt_pdu(connection, bytes(pdu))

        async def wait_for_confirmation():
            status = 0
            try:
                await asyncio.wait_for(confirmed, _INDICATION_TIMEOUT_S)
            except asyncio.TimeoutError:
                status = _STATUS_TIMEOUT
            except ConnectionError:
                return  # the disconnect handler reported it
            if server.pending_confirmations.get(connection) is confirmed:
                server.pending_confirmations[connection] = None
            self._confirmations.pop(conn_handle, None)
            if queue and queue[0][0] == value_handle:
                queue.pop(0)
            if status == 0:
                self.sim_stats["indications"] += 1
            self._irq(_IRQ_GATTS_INDICATE_DONE, (conn_handle, value_handle, status))
            if status == 0 and conn_handle in self._connections:
                self._send_indication(conn_handle, connection)

        self._spawn(wait_for_confirmation(), ordered=False)


def _from_the_program(method):
    """A program on its own thread (sim.board_thread) calls the radio through its loop, as one stack."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        board = board_thread.current()
        if board is None:
            return method(self, *args, **kwargs)
        result = board.call(lambda: method(self, *args, **kwargs))
        if method.__name__ == "irq":
            self._board = board
        return result
    return call


for _name in [name for name in vars(BLE) if not name.startswith(("_", "sim_"))]:
    setattr(BLE, _name, _from_the_program(getattr(BLE, _name)))
