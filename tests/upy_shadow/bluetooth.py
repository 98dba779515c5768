# A loopback `bluetooth` for the MicroPython unix port (which has none): the firmware's GATT service
# registers, writes and notifies through MicroPython's documented BLE API; a central (the sim_* methods,
# driven in this process or relayed from another) connects, writes characteristics and takes what was notified.
# Notifications in flight are bounded like NimBLE's pool: past _NOTIFY_POOL (8), gatts_notify raises
# OSError(ENOMEM) until the central has taken them. Pure Python, tiny, no allocation beyond the queue.
from micropython import const


_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_MTU_EXCHANGED = const(21)
_ENOMEM = const(12)
_NOTIFY_POOL = const(8)
_CONN = const(64)


class UUID:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, UUID) and self.value == other.value


class BLE:
    _singleton = None

    def __new__(cls):
        if BLE._singleton is None:
            BLE._singleton = object.__new__(cls)
            BLE._singleton._setup()
        return BLE._singleton

    def __init__(self):
        pass

    def _setup(self):
        self._active = False
        self._handler = None
        self._values = {}
        self._next_handle = 1
        self._inbox = []          # (handle, bytes, is_indication) the central has not taken yet
        self._connected = False
        self.advertising = False
        self.on_notify = None     # the central's hook: called with (handle, data, indication) when it takes a value

    def active(self, value=None):
        if value is not None:
            self._active = bool(value)
        return self._active

    def config(self, *names, **values):
        if names:
            if names[0] == "mtu":
                return 247
            if names[0] == "mac":
                return (0, b"\xc0\xe2\x00\x00\x00\x01")
            raise ValueError("unknown config param")
        return None

    def irq(self, handler):
        self._handler = handler

    def gatts_register_services(self, services):
        out = []
        for _uuid, chars in services:
            handles = []
            for _ch in chars:
                handles.append(self._next_handle)
                self._values[self._next_handle] = b""
                self._next_handle += 2   # value handle + CCCD, as the stacks number them
            out.append(tuple(handles))
        return tuple(out)

    def gatts_set_buffer(self, handle, size, append=False):
        self._values[handle] = b""

    def gatts_write(self, handle, data, send_update=False):
        self._values[handle] = bytes(data)

    def gatts_read(self, handle):
        return self._values[handle]

    def gatts_notify(self, conn, handle, data=None):
        if not self._connected or conn != _CONN:
            raise OSError(_ENOMEM)
        if len(self._inbox) >= _NOTIFY_POOL:
            raise OSError(_ENOMEM)
        self._inbox.append((handle, bytes(self._values[handle] if data is None else data), False))

    def gatts_indicate(self, conn, handle, data=None):
        self.gatts_notify(conn, handle, data)
        self._inbox[-1] = (handle, self._inbox[-1][1], True)

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self.advertising = interval_us is not None

    def gap_disconnect(self, conn):
        if self._connected and conn == _CONN:
            self.sim_disconnect()

    # -- the loopback central ------------------------------------------------------------------------
    def sim_connect(self, mtu):
        self._connected = True
        self._handler(_IRQ_CENTRAL_CONNECT, (_CONN, 0, b"\x00" * 6))
        self._handler(_IRQ_MTU_EXCHANGED, (_CONN, mtu))

    def sim_disconnect(self):
        self._connected = False
        self._inbox = []
        self._handler(_IRQ_CENTRAL_DISCONNECT, (_CONN, 0, b"\x00" * 6))

    def sim_write(self, handle, data):
        self._values[handle] = bytes(data)
        self._handler(_IRQ_GATTS_WRITE, (_CONN, handle))

    def sim_take(self):
        """Delivers everything in flight to on_notify, confirming indications; returns how many."""
        n = 0
        while self._inbox:
            handle, data, indication = self._inbox.pop(0)
            n += 1
            if self.on_notify is not None:
                self.on_notify(handle, data, indication)
            if indication:
                self._handler(_IRQ_GATTS_INDICATE_DONE, (_CONN, handle, 0))
        return n
