# The device's GATT server on MicroPython's low-level `bluetooth` module (IRQ API).
#
#   svc = BleService(ble, app, key=None, key_path=None, name=None, secure_link=False,
#                    max_in_flight=4, tick_ms=10, random_bytes=None)
#   svc.start()          # register services, advertise, start the pump task if a loop runs
#   svc.tick() -> int    # once per tick_ms (start() runs this in a task): new budget, then pump()
#   svc.pump() -> int    # send queued frames within the tick's budget of max_in_flight
#   svc.connected        # a central is connected
#   svc.idle_drops       # centrals dropped for opening no session in time, or for an idle session
#
# Only API that MicroPython's `bluetooth` documents is used: BLE.active/config/irq,
# gatts_register_services, gatts_set_buffer, gatts_read, gatts_write, gatts_notify,
# gatts_indicate(conn, handle), gap_advertise, gap_disconnect; sim/bluetooth.py shadows it.
#
# Flow control: NimBLE (ESP32) raises OSError(ENOMEM) from gatts_notify (older builds
# return False) when its buffers are full and never says when they drain; btstack
# (Pico W) never refuses: it copies queued notifications onto the heap and frees them once sent,
# so a link slower than the ticks would fill the heap. The free heap is btstack's only signal:
# no frame is handed over while the free heap may be below HEAP_FLOOR (heap_waits counts the pauses).
# gc.mem_free() walks the heap's whole allocation table (about 150,000 instructions on a 64 KB heap,
# more than sealing a frame), so it is read only when the last reading, less every frame handed to the
# stack since (_HANDED_COST bytes over its length), would be under the floor: a lower bound of the free
# heap, as a stack frees what it sent and the rest is garbage a collection takes back.
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
#
# Advertising (monitor.beacon): no name, no service UUID, only an identifier that changes
# every window; each new identifier comes with a new address (addr_mode 1, a new static random address
# on BTstack and NimBLE alike), or, on builds that bond (secure_link), a resolvable private address
# the bonded host resolves (addr_mode 2: NimBLE; BTstack refuses it with EINVAL and keeps addr_mode 1).
# Writes without a session: MicroPython's stacks store a write and answer the peer before the IRQ runs
# and ignore its return value, so only a characteristic's flags refuse at the ATT level. The time is
# read-only (set through a session frame on the requests characteristic); the custom characteristics
# take the handshake and session frames, so a write there is refused by the session (ERR_NO_SESSION)
# and its value is cleared at once (none of them is readable).
# Reads without a session: the time, the battery level and Device Information are empty until a session
# opens (a read request is refused where the stack lets Python refuse it), so nothing a stranger reads
# ties one advertised identifier to the next.
#
# One central at a time, so a stranger must not keep the device: a central that has no open session
# SESSION_WAIT_MS after connecting (or after its session closed) is disconnected, and so is a session with
# no host write and no frame sent for SESSION_IDLE_MS. A HELLO alone does not restart the clock.
import bluetooth
import time

from micropython import const

from device import power
from monitor import beacon, protocol
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
_ATT_READ_NOT_PERMITTED = const(0x02)

_WRITE_BUFFER = const(256)      # >= protocol.MAX_MTU - 3, the largest frame a host sends
_REFRESH_MS = const(1000)       # time and battery values refreshed this often
SESSION_WAIT_MS = protocol.SESSION_WAIT_MS
SESSION_IDLE_MS = const(60000)  # an open session with no host write and no frame sent for this long ends
HEAP_FLOOR = const(4096)        # bytes kept free while btstack queues notifications: 4 ticks' frames at MTU 247
_HANDED_COST = const(32)         # heap a queued notification takes besides its value (btstack's pending op)
KEY_FILE = sessions.KEY_FILE
MANUFACTURER = b"e2mon project"      # Device Information: what a central reads
MODEL_NUMBER = b"e2mon-1"
GAP_NAME = b""                       # the GAP device name: the same on every device, names nothing


_ADDR_MODE_RANDOM = const(1)    # BLE.config(addr_mode=): a new static random address at each call
_ADDR_MODE_RPA = const(2)       # resolvable private address (NimBLE only), rotated by the stack


class BleService:
    def __init__(self, ble, app, key=None, key_path=None, name=None, secure_link=False,
                 max_in_flight=4, tick_ms=10, random_bytes=None, wait_ms=SESSION_WAIT_MS,
                 idle_ms=SESSION_IDLE_MS):
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
        self._beacon_key = beacon.beacon_key(key) if key is not None else None
        self._unset_start = int.from_bytes(random_bytes(2), "little")   # boot-random clock-unset window
        self._window = None          # window of the identifier now advertised
        self._rpa = False            # the stack rotates a resolvable private address itself
        self._advertise_due = False  # a central left: advertise again at the next tick
        self.address_changes = 0     # addresses set by this service (addr_mode 1)
        self.writes_refused = 0      # writes without a session, their value cleared
        self._conn = None
        self.wait_ms = wait_ms
        self.idle_ms = idle_ms
        self.idle_drops = 0          # centrals disconnected by _drop_idle()
        self._since = 0              # uptime ms when the wait or idle clock last restarted
        self._was_open = False       # the session was open at the last write
        self._dropping = False       # gap_disconnect asked for this connection
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
        self._heap_left = 0          # the free heap read last, less what was handed to the stack since
        self._budget = max_in_flight
        self._task = None
        self._handles = {}
        self._channels = {}
        self._plain = ()  # type: tuple  # handles of Device Information, the time and the battery level
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
        # The time is set by a session frame on the requests characteristic, so the stack refuses any write
        # here (ATT Write Not Permitted); it reads empty without a session (_plain_values).
        cts = (UUID(protocol.CTS_SERVICE), ((UUID(protocol.CTS_CURRENT_TIME), _FLAG_READ),))
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
        if self.secure_link:
            try:
                ble.config(addr_mode=_ADDR_MODE_RPA)   # the bonded host resolves it with the IRK
                self._rpa = True
            except (ValueError, OSError):
                pass                                   # BTstack: EINVAL, a new static address per window
        try:   # the GATT device name only, never advertised; set, so no stack shows its own default
            ble.config(gap_name=self.name or GAP_NAME)
        except (ValueError, OSError):
            pass
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
            protocol.CH_TIME: requests,
        }
        self._channels = {}
        for channel in self._handles:
            self._channels[self._handles[channel]] = channel
        self._channels[requests] = protocol.SHARED_CHANNELS   # the frame's tag tells which
        for handle in (control, requests, auth):
            ble.gatts_set_buffer(handle, _WRITE_BUFFER)
        self._plain = (manufacturer, model, firmware, time_h, self._battery_handle)
        self._plain_values(False)
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
                if self._conn is None and (self.current_window() != self._window or self._provisioned_since()):
                    self._advertise()
            if sleep_ms is not None:
                await sleep_ms(self.tick_ms)
            else:
                await asyncio.sleep(self.tick_ms / 1000)

    def _provisioned_since(self):
        """Whether a key arrived over USB since boot (checked while there is none): advertise its identifier."""
        if self._beacon_key is not None:
            return False
        key = sessions.load_key(self.key_path)
        if key is None:
            return False
        self.endpoint.set_key(key)
        self._beacon_key = beacon.beacon_key(key)
        self._window = None   # a new identifier, so a new address too
        return True

    def current_window(self):
        """The identifier's window: from the wall clock, else counted from boot (monitor.beacon)."""
        now = self.app.clock_now()
        if now is not None:
            return beacon.clock_window(now[0], now[1])
        return beacon.unset_window(self._unset_start, _uptime_ms() // beacon.WINDOW_MS)

    def _advertise(self):
        ble = self._ble
        window = self.current_window()
        if window != self._window:
            ble.gap_advertise(None)   # the stack cannot change its address while advertising
            if not self._rpa:
                try:
                    ble.config(addr_mode=_ADDR_MODE_RANDOM)   # a new identifier, a new address
                    self.address_changes += 1
                except (ValueError, OSError):
                    pass
            self._window = window
        ident = None
        if self._beacon_key is not None:
            ident = beacon.identifier(self._beacon_key, window)
        ble.gap_advertise(power.ADV_INTERVAL_US, adv_data=beacon.advertising_payload(ident), connectable=True)

    def _plain_values(self, session_open):
        """Device Information, the time and the battery level: their values in a session, else empty."""
        ble = self._ble
        if not session_open:
            for handle in self._plain:
                ble.gatts_write(handle, b"")
            return
        manufacturer, model, firmware, _time, _battery = self._plain
        ble.gatts_write(manufacturer, MANUFACTURER)
        ble.gatts_write(model, MODEL_NUMBER)
        ble.gatts_write(firmware, VERSION.encode())
        self.refresh_values()

    def refresh_values(self):
        """Keeps the plain-readable values current while a session is open: the CTS time and the battery."""
        if not self.endpoint.session.is_open:
            return
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
            self._since = _uptime_ms()
            self._was_open = False
            self._dropping = False
            self._plain_values(False)
            # BTstack resumes advertising by itself after a disconnection, with the old address and
            # identifier, racing tick()'s new ones: no advertising until tick() starts it again.
            self._ble.gap_advertise(None)
            self._encrypted = False
            self._indicating = False
            key = sessions.load_key(self.key_path)
            if key is not None:
                self.endpoint.set_key(key)       # provisioned over USB since boot
                self._beacon_key = beacon.beacon_key(key)
            self.endpoint.connected(protocol.DEFAULT_MTU)
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self._conn:
                self._conn = None
                self._indicating = False
                self.endpoint.disconnected()
                self._was_open = False
                self._plain_values(False)
                self._advertise_due = True   # from tick(): BTstack's addr_mode waits on the stack, never in an IRQ
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = data[0], data[1]
            channel = self._channels.get(handle)
            if conn != self._conn or channel is None:
                return None
            if self.secure_link and not self._encrypted:
                return None   # the stack enforces the flags; this guards stacks that do not
            data = self._ble.gatts_read(handle)
            if channel != protocol.CH_AUTH and not self.endpoint.session.is_open:
                self._ble.gatts_write(handle, b"")   # refused by the session (ERR_NO_SESSION): nothing kept
                self.writes_refused += 1
            if isinstance(channel, tuple):   # protocol.SHARED_CHANNELS
                channel = self.endpoint.session.channel_of(data, channel)
            self.endpoint.receive(channel, data)
            self._heap_left = 0   # a request may leave more in the heap: read it again before sending
            is_open = self.endpoint.session.is_open
            flipped = is_open != self._was_open
            if flipped:
                self._was_open = is_open
                self._plain_values(is_open)
            if is_open or flipped:   # a session's end restarts the wait; a HELLO alone does not
                self._since = _uptime_ms()
            self.pump()
        elif event == _IRQ_GATTS_READ_REQUEST:
            # NimBLE also asks before sending an indication of a stored value (conn: none): only the
            # plain values are refused without a session (NimBLE and the shadow; BTstack serves them empty)
            if not self.endpoint.session.is_open:
                return _ATT_READ_NOT_PERMITTED if data[1] in self._plain else 0
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
        self._drop_idle()
        if self._advertise_due and self._conn is None:
            self._advertise_due = False
            self._advertise()
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
            if mem_free is not None and self._heap_left < HEAP_FLOOR:
                self._heap_left = mem_free()
                if self._heap_left < HEAP_FLOOR:
                    import gc
                    gc.collect()    # garbage counts as used until collected: pause only for live data
                    self._heap_left = mem_free()
                    if self._heap_left < HEAP_FLOOR:
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
            self._heap_left -= len(frame) + _HANDED_COST
            self._budget -= 1
            sent += 1
        if sent and endpoint.session.is_open:   # a long pull or transfer is not idle; a challenge sent is no session
            self._since = _uptime_ms()
        return sent

    def _drop_idle(self):
        """Disconnects a central with no session after wait_ms, or with a session idle for idle_ms."""
        conn = self._conn
        if conn is None or self._dropping:
            return
        limit = self.idle_ms if self.endpoint.session.is_open else self.wait_ms
        if _elapsed_ms(self._since) > limit:
            self._dropping = True      # asked once; _conn stays until _IRQ_CENTRAL_DISCONNECT
            self.idle_drops += 1
            try:
                self._ble.gap_disconnect(conn)
            except OSError:
                self._dropping = False   # the stack is busy: ask again at the next tick

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



# time is imported once, at the top: pump() stamps the time after every frame it sends, tick() reads it.
def _elapsed_ms(since):
    ticks_diff = getattr(time, "ticks_diff", None)
    if ticks_diff is None:   # CPython (the shadow)
        return _uptime_ms() - since
    return ticks_diff(time.ticks_ms(), since)


def _uptime_ms():
    ticks_ms = getattr(time, "ticks_ms", None)
    if ticks_ms is None:   # CPython (the shadow)
        return int(getattr(time, "monotonic", time.time)() * 1000)
    return ticks_ms()   # wraps after 2**30 ms (12 days): one window sequence restarts, harmless
