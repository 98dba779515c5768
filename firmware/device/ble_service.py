# The device's GATT server on MicroPython's low-level `bluetooth` module (IRQ API).
#
#   svc = BleService(ble, app, key=None, key_path=None, name="e2mon", secure_link=False,
#                    max_in_flight=4, tick_ms=10, random_bytes=None)
#   svc.start()          # register services, advertise, start the pump task if a loop runs
#   svc.tick() -> int    # once per tick_ms (start() runs this in a task): new budget, then pump()
#   svc.pump() -> int    # send queued frames within the tick's budget of max_in_flight
#   svc.connected        # a central is connected
#
# Only API that MicroPython's `bluetooth` documents is used: BLE.active/config/irq,
# gatts_register_services, gatts_set_buffer, gatts_read, gatts_write, gatts_notify,
# gatts_indicate(conn, handle), gap_advertise, gap_disconnect; sim/bluetooth.py shadows it.
#
# Flow control: NimBLE (ESP32) raises OSError(ENOMEM) from gatts_notify (older builds
# return False) when its buffers are full and never says when they drain; btstack
# (Pico W) never refuses: it copies queued notifications onto the heap and frees them once sent,
# so a link slower than the ticks would fill the heap. The free heap is btstack's only signal:
# no frame is handed over while gc.mem_free() is below HEAP_FLOOR (heap_waits counts the pauses).
# And each tick (tick_ms) sends at most
# max_in_flight notifications, whether from the tick or from IRQs, a refused one is put back at the head of the queue and
# retried on the next tick, and at most one indication is outstanding (ATT allows one).
# Explicit memory cap: max_in_flight * (MTU - 3) bytes handed to the stack per tick, plus
# the endpoint's queue (monitor.endpoint.MAX_QUEUED replies + one records frame).
#
# secure_link=True (ESP32 builds): LE Secure Connections bonding is required and every
# characteristic of the custom service and the time write carry the encrypted flags.
# The application session (monitor.session) protects PHI on every build regardless.
# The device key is never accepted over BLE: provisioning is USB only (monitor.framing).
import bluetooth

try:
    from micropython import const
except ImportError:  # CPython
    def const(__x):   # __x: positional-only, as micropython.const
        return __x

from monitor import protocol
from monitor import session as sessions
from monitor.endpoint import Endpoint
from monitor.version import VERSION

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)
_FLAG_READ_ENCRYPTED = const(0x0200)
_FLAG_WRITE_ENCRYPTED = const(0x1000)

_WRITE_BUFFER = const(256)      # >= protocol.MAX_MTU - 3, the largest frame a host sends
_ADV_INTERVAL_US = const(250000)
_REFRESH_MS = const(1000)       # time and battery values refreshed this often
HEAP_FLOOR = const(4096)        # bytes kept free while btstack queues notifications: 4 ticks' frames at MTU 247
KEY_FILE = sessions.KEY_FILE
MANUFACTURER = b"e2mon project"      # Device Information: what a central reads
MODEL_NUMBER = b"e2mon-1"


def uuid_bytes_le(uuid_string):
    """A 128-bit UUID string as the little-endian bytes advertising data carries."""
    raw = bytes.fromhex(uuid_string.replace("-", ""))
    return bytes(reversed(raw))


def _adv_field(kind, data):
    return bytes((len(data) + 1, kind)) + data


def advertising_payload():
    # flags: LE general discoverable, BR/EDR not supported; complete list of 128-bit services
    return _adv_field(0x01, b"\x06") + _adv_field(0x07, uuid_bytes_le(protocol.SERVICE_UUID))


def scan_response(name):
    return _adv_field(0x09, name.encode())


class BleService:
    def __init__(self, ble, app, key=None, key_path=None, name="e2mon", secure_link=False,
                 max_in_flight=4, tick_ms=10, random_bytes=None):
        self._ble = ble
        self.app = app
        self.name = name
        self.secure_link = secure_link
        self.max_in_flight = max_in_flight
        self.tick_ms = tick_ms
        if key_path is None:
            data_dir = getattr(app, "data_dir", None)
            key_path = (data_dir + "/" + KEY_FILE) if data_dir else KEY_FILE
        self.key_path = key_path
        self.secrets_path = key_path + ".bonds"
        if key is None:
            key = sessions.load_key(key_path)
        if random_bytes is None:
            import os
            random_bytes = os.urandom
        self.endpoint = Endpoint(app, key, random_bytes, allow_provision=False)
        self._conn = None
        self._encrypted = False
        self._indicating = False
        self._bonds = None           # device.ble_bonds.Bonds, loaded by a build that bonds or on demand
        if secure_link:
            self._bond_keys()
        self.notifications = 0       # notifications the stack accepted
        self.notify_refusals = 0     # refused by the stack (buffers full), retried later
        self.att_bytes = 0           # value bytes handed to the stack
        self.heap_waits = 0          # ticks cut short because the free heap was at HEAP_FLOOR
        import gc
        self._mem_free = getattr(gc, "mem_free", None)   # MicroPython; CPython (the shadow) has none
        self._budget = max_in_flight
        self._task = None
        self._handles = {}
        self._channels = {}
        self._started = False

    # -- setup ------------------------------------------------------------------------------------------
    def _services(self):
        enc_rw = (_FLAG_READ_ENCRYPTED | _FLAG_WRITE_ENCRYPTED) if self.secure_link else 0
        UUID = bluetooth.UUID
        custom = (UUID(protocol.SERVICE_UUID), (
            (UUID(protocol.CONTROL_UUID), _FLAG_WRITE | _FLAG_INDICATE | enc_rw),
            (UUID(protocol.RECORDS_UUID), _FLAG_NOTIFY | enc_rw),
            (UUID(protocol.REQUESTS_UUID), _FLAG_WRITE | _FLAG_NOTIFY | enc_rw),   # protocol.SHARED_CHANNELS
            (UUID(protocol.AUTH_UUID), _FLAG_WRITE | _FLAG_NOTIFY | enc_rw),
        ))
        # Reading the time is harmless; setting it needs a session frame (and the link on ESP32).
        cts = (UUID(protocol.CTS_SERVICE), (
            (UUID(protocol.CTS_CURRENT_TIME), _FLAG_READ | _FLAG_WRITE | _FLAG_NOTIFY |
             (_FLAG_WRITE_ENCRYPTED if self.secure_link else 0)),
        ))
        dis = (UUID(protocol.DIS_SERVICE), (
            (UUID(protocol.DIS_MANUFACTURER), _FLAG_READ),
            (UUID(protocol.DIS_MODEL_NUMBER), _FLAG_READ),
            (UUID(protocol.DIS_FIRMWARE_REVISION), _FLAG_READ),
        ))
        # Read only (notifying it is optional and unused): its CCCD would cost BTstack's table 10 bytes.
        battery = (UUID(protocol.BATTERY_SERVICE), ((UUID(protocol.BATTERY_LEVEL), _FLAG_READ),))
        return (custom, cts, dis, battery)

    def start(self):
        ble = self._ble
        ble.active(True)
        if self.secure_link:
            ble.config(bond=True, le_secure=True, mitm=False, io=3)   # io 3: no input, no output
        ble.config(mtu=protocol.MAX_MTU)
        try:
            ble.config(gap_name=self.name)
        except (ValueError, OSError):
            pass   # some ports keep the name in the scan response only
        ble.irq(self._irq)
        custom, cts, dis, battery = ble.gatts_register_services(self._services())
        control, records_h, requests, auth = custom
        (time_h,) = cts
        manufacturer, model, firmware = dis
        (self._battery_handle,) = battery
        self._time_handle = time_h
        self._handles = {
            protocol.CH_CONTROL: control, protocol.CH_RECORDS: records_h, protocol.CH_ENTRY: requests,
            protocol.CH_ALERTS: requests, protocol.CH_PROFILE: requests, protocol.CH_AUTH: auth,
            protocol.CH_TIME: time_h,
        }
        self._channels = {}
        for channel in self._handles:
            self._channels[self._handles[channel]] = channel
        self._channels[requests] = protocol.SHARED_CHANNELS   # the frame's tag tells which
        for handle in (control, requests, auth, time_h):
            ble.gatts_set_buffer(handle, _WRITE_BUFFER)
        ble.gatts_write(manufacturer, MANUFACTURER)
        ble.gatts_write(model, MODEL_NUMBER)
        ble.gatts_write(firmware, VERSION.encode())
        self.refresh_values()
        self._advertise()
        self._started = True
        self._start_task()

    def _start_task(self):
        try:
            import asyncio
            self._task = asyncio.create_task(self.run())
        except (ImportError, RuntimeError):
            self._task = None   # no running loop: the caller drives pump()

    async def run(self):
        import asyncio
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        ticks = 0
        while True:
            self.tick()
            ticks += 1
            if ticks * self.tick_ms >= _REFRESH_MS:
                ticks = 0
                self.refresh_values()
            if sleep_ms is not None:
                await sleep_ms(self.tick_ms)
            else:
                await asyncio.sleep(self.tick_ms / 1000)

    def _advertise(self):
        self._ble.gap_advertise(_ADV_INTERVAL_US, adv_data=advertising_payload(),
                                resp_data=scan_response(self.name), connectable=True)

    def refresh_values(self):
        """Keeps the plain-readable values current: the CTS time and the battery level."""
        now = self.app.clock_now()
        if now is not None:
            self._ble.gatts_write(self._time_handle, protocol.encode_cts(now[0], now[1], now[2], 0))
        percent = self.app.battery_percent()
        if percent is not None:
            self._ble.gatts_write(self._battery_handle, bytes((max(0, min(100, percent)),)))

    @property
    def connected(self):
        return self._conn is not None

    @property
    def memory_cap_bytes(self):
        """Most bytes this service hands the stack per tick (the btstack heap bound)."""
        return self.max_in_flight * (self.endpoint.mtu - protocol.ATT_HEADER)

    # -- events -----------------------------------------------------------------------------------------
    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            conn = data[0]
            if self._conn is not None:
                self._ble.gap_disconnect(conn)   # one central at a time
                return None
            self._conn = conn
            self._encrypted = False
            self._indicating = False
            key = sessions.load_key(self.key_path)
            if key is not None:
                self.endpoint.set_key(key)       # provisioned over USB since boot
            self.endpoint.connected(protocol.DEFAULT_MTU)
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self._conn:
                self._conn = None
                self._indicating = False
                self.endpoint.disconnected()
                self._advertise()
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = data[0], data[1]
            channel = self._channels.get(handle)
            if conn != self._conn or channel is None:
                return None
            if self.secure_link and not self._encrypted:
                return None   # the stack enforces the flags; this guards stacks that do not
            data = self._ble.gatts_read(handle)
            if isinstance(channel, tuple):   # protocol.SHARED_CHANNELS
                channel = self.endpoint.session.channel_of(data, channel)
            self.endpoint.receive(channel, data)
            self.pump()
        elif event == _IRQ_GATTS_READ_REQUEST:
            self.refresh_values()
            return 0
        elif event == _IRQ_GATTS_INDICATE_DONE:
            self._indicating = False
            self.pump()
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self._conn:
                self.endpoint.set_mtu(data[1])
        elif event == _IRQ_ENCRYPTION_UPDATE:
            if data[0] == self._conn:
                self._encrypted = bool(data[1])
        elif event == _IRQ_GET_SECRET:
            return self._bond_keys().get(data[0], data[1], data[2])
        elif event == _IRQ_SET_SECRET:
            return self._bond_keys().set(data[0], data[1], data[2])
        return None

    def _bond_keys(self):
        if self._bonds is None:
            from device.ble_bonds import Bonds
            self._bonds = Bonds(self.secrets_path, load=self.secure_link)
        return self._bonds

    # -- sending ----------------------------------------------------------------------------------------
    def tick(self):
        """A new tick: a fresh budget of max_in_flight frames, then send."""
        self._budget = self.max_in_flight
        return self.pump()

    def pump(self):
        """Sends what the endpoint has queued, in order, within this tick's budget; returns frames sent.
        Called from IRQs too (a reply goes out at once), so the budget, not the caller, bounds a tick."""
        conn = self._conn
        if conn is None:
            return 0
        sent = 0
        endpoint = self.endpoint
        mem_free = self._mem_free
        while self._budget > 0:
            if mem_free is not None and mem_free() < HEAP_FLOOR:
                import gc
                gc.collect()    # garbage counts as used until collected: pause only for live data
                if mem_free() < HEAP_FLOOR:
                    self.heap_waits += 1
                    break
            item = endpoint.next_frame()
            if item is None:
                break
            channel, frame = item
            handle = self._handles[channel]
            if channel == protocol.CH_CONTROL:
                if self._indicating:
                    endpoint.requeue(channel, frame)   # one indication at a time, order kept
                    break
                self._ble.gatts_write(handle, frame)
                ok = self._try(self._ble.gatts_indicate, conn, handle, None)
                if ok:
                    self._indicating = True
            else:
                ok = self._try(self._ble.gatts_notify, conn, handle, frame)
            if not ok:
                self.notify_refusals += 1
                endpoint.requeue(channel, frame)
                break
            self.notifications += 1
            self.att_bytes += len(frame)
            self._budget -= 1
            sent += 1
        return sent

    @staticmethod
    def _try(send, conn, handle, frame):
        try:
            if frame is None:
                result = send(conn, handle)
            else:
                result = send(conn, handle, frame)
        except (OSError, MemoryError):
            return False   # NimBLE: ENOMEM while its buffers are full; btstack: heap exhausted
        return result is not False

