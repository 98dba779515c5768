# The device half of the BLE conformance suite (tests/ble/test_ble_conformance.py): one peripheral, written
# only against MicroPython's documented `bluetooth` API, that runs unchanged on the real module (the unix
# port with BTstack or NimBLE: `micropython tests/ble_conformance_peripheral.py`) and on the shadow
# (sim/bluetooth.py under CPython: Peripheral(ble)). The central drives it over the air: it writes a
# command to CMD and reads the answer from LOG, so every check crosses the same radio on every stack.
#
# Commands (ASCII, written to CMD with a response; the answer is in LOG before the response comes):
# Writes to CMD are not in the log (reading the log is a command); writes to RX are.
#   log [START]         the IRQs so far from START (0): "event:field,field;..." (ints in decimal, buffers
#                       in hex), as many whole ones as fit PAGE bytes (one read of LOG at any MTU >= 203)
#   clear               forget them
#   handles             the value handles gatts_register_services returned, in order
#   mac | mtu           config("mac") as "type,hex" | config("mtu")
#   lastread            the last _IRQ_GATTS_READ_REQUEST's (conn_handle, value_handle) as "conn,handle"
#   burst N SIZE        N gatts_notify on TX in one go (no yield): "accepted,refused,errors"
#   order N             N notifications on TX, then one indication on IND, then N more notifications:
#                       "accepted,refused,errors" of both bursts, ";" between
#   str                 gatts_write(TX, a str), then gatts_notify(conn, TX, a str)
#   disconnect          gap_disconnect(conn)
#   rx SIZE             gatts_set_buffer(RX, SIZE): room for a long write
#   rxinfo              the RX value's length and its last 4 bytes (hex) as "len,hex"
#
# `micropython tests/ble_conformance_peripheral.py [MODE]` (Peripheral(ble, MODE) on the shadow) advertises
# every 100 ms: "connectable" (the default), "scannable" (not connectable, with a scan response) or
# "nonconnectable" (not connectable, no scan response data); connectable and scannable ones carry RESP_DATA as
# their scan response.
import binascii
import bluetooth

try:
    from micropython import const
except ImportError:  # CPython (the shadow)
    def const(x):
        return x

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_MTU_EXCHANGED = const(21)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)

SERVICE_UUID = "c0f0a000-6e7f-4c1d-9a30-2b5e0e2a0001"
CMD_UUID = "c0f0a001-6e7f-4c1d-9a30-2b5e0e2a0001"
LOG_UUID = "c0f0a002-6e7f-4c1d-9a30-2b5e0e2a0001"
TX_UUID = "c0f0a003-6e7f-4c1d-9a30-2b5e0e2a0001"
IND_UUID = "c0f0a004-6e7f-4c1d-9a30-2b5e0e2a0001"
RX_UUID = "c0f0a005-6e7f-4c1d-9a30-2b5e0e2a0001"
RX_SIZE = const(32)
LOG_SIZE = const(512)
PAGE = const(200)


def _service():
    U = bluetooth.UUID
    return (U(SERVICE_UUID), (
        (U(CMD_UUID), _FLAG_WRITE),
        (U(LOG_UUID), _FLAG_READ),
        (U(TX_UUID), _FLAG_READ | _FLAG_NOTIFY),
        (U(IND_UUID), _FLAG_READ | _FLAG_INDICATE),
        (U(RX_UUID), _FLAG_READ | _FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE),
    ))


def _field(x):
    if isinstance(x, int):
        return str(x)
    if x is None:
        return "-"
    return binascii.hexlify(bytes(x)).decode()


def _adv():
    name = b"e2conf"
    return b"\x02\x01\x06" + bytes((len(name) + 1, 0x09)) + name


RESP_DATA = b"\x09\xffe2-resp"     # manufacturer data: only a scan response carries it
ADV_INTERVAL_US = const(100000)
MODES = ("connectable", "scannable", "nonconnectable")


class Peripheral:
    def __init__(self, ble, mode="connectable"):
        if mode not in MODES:
            raise ValueError("mode: " + " | ".join(MODES))
        self.ble = ble
        self.mode = mode
        ble.active(True)
        ble.config(mtu=512)
        ble.irq(self._irq)
        ((self.cmd, self.log, self.tx, self.ind, self.rx),) = ble.gatts_register_services((_service(),))
        ble.gatts_set_buffer(self.cmd, 64)
        ble.gatts_set_buffer(self.rx, RX_SIZE)
        ble.gatts_write(self.log, bytes(LOG_SIZE))   # grows the value buffer
        ble.gatts_write(self.log, b"")
        self.events = []
        self.last_read = ""
        self.conn = None
        self.advertise()

    def advertise(self):
        if self.mode == "nonconnectable":
            self.ble.gap_advertise(ADV_INTERVAL_US, _adv(), connectable=False)
        else:
            self.ble.gap_advertise(ADV_INTERVAL_US, _adv(), resp_data=RESP_DATA,
                                   connectable=self.mode == "connectable")

    def _irq(self, event, data):
        if event == _IRQ_GATTS_WRITE:
            conn, handle = data
            value = self.ble.gatts_read(handle)   # read in the handler: the value of this very write
            if handle == self.cmd:                # commands are not logged: reading the log is one
                self._command(conn, bytes(value).decode())
            else:
                self.events.append("%d:%d,%d,%s" % (event, conn, handle, _field(value)))
            return None
        if event == _IRQ_GATTS_READ_REQUEST:
            self.last_read = "%d,%d" % (data[0], data[1])   # not logged: reading the log is a read
            return 0
        self.events.append("%d:%s" % (event, ",".join([_field(x) for x in data])))
        if event == _IRQ_CENTRAL_CONNECT:
            self.conn = data[0]
        elif event == _IRQ_CENTRAL_DISCONNECT:
            self.conn = None
            self.advertise()
        return None

    def _answer(self, text):
        self.ble.gatts_write(self.log, text.encode()[:LOG_SIZE])

    def _command(self, conn, line):
        words = line.split()
        op = words[0] if words else ""
        if op == "log":
            page = []
            size = 0
            for item in self.events[int(words[1]) if len(words) > 1 else 0:]:
                if size + len(item) + 1 > PAGE:
                    break
                page.append(item)
                size += len(item) + 1
            self._answer(";".join(page))
        elif op == "clear":
            self.events = []
            self._answer("")
        elif op == "handles":
            self._answer(",".join([str(h) for h in (self.cmd, self.log, self.tx, self.ind, self.rx)]))
        elif op == "mac":
            kind, addr = self.ble.config("mac")
            self._answer("%d,%s" % (kind, _field(addr)))
        elif op == "lastread":
            self._answer(self.last_read)
        elif op == "mtu":
            self._answer(str(self.ble.config("mtu")))
        elif op == "burst":
            self._answer(self._burst(conn, int(words[1]), int(words[2])))
        elif op == "order":
            n = int(words[1])
            before = self._burst(conn, n, 8, 0)
            self.ble.gatts_indicate(conn, self.ind, b"indication")
            self._answer(before + ";" + self._burst(conn, n, 8, n))
        elif op == "str":
            self.ble.gatts_write(self.tx, "written as str")
            self.ble.gatts_notify(conn, self.tx, "notified as str")
            self._answer("ok")
        elif op == "rx":
            self.ble.gatts_set_buffer(self.rx, int(words[1]))
            self._answer("ok")
        elif op == "rxinfo":
            value = self.ble.gatts_read(self.rx)
            self._answer("%d,%s" % (len(value), _field(value[-4:])))
        elif op == "disconnect":
            self._answer("ok")
            self.ble.gap_disconnect(conn)
        else:
            self._answer("unknown command")

    def _burst(self, conn, n, size, first=0):
        accepted = refused = errors = 0
        packet = bytearray(size)
        for _ in range(n):
            packet[0] = (accepted + first) & 0xFF    # numbered by acceptance: the central checks order
            packet[1] = (accepted + first) >> 8
            try:
                if self.ble.gatts_notify(conn, self.tx, packet) is False:
                    refused += 1
                else:
                    accepted += 1
            except OSError:
                refused += 1
            except MemoryError:
                errors += 1
        return "%d,%d,%d" % (accepted, refused, errors)


def main():
    import sys
    import time
    Peripheral(bluetooth.BLE(), *sys.argv[1:2])
    print("conformance peripheral advertising")
    while True:
        time.sleep_ms(100)


if __name__ == "__main__":
    main()
