"""A small peripheral written the way firmware is written for MicroPython's `bluetooth` module (IRQ
handler, const flags, retry on ENOMEM), used to exercise the simulator's radio.

Service: TX (read, notify), RX (write), CTRL (read, write, indicate; a user description
descriptor), SECRET (read, encrypted).
Writing b"burst <n> <size>" to RX makes the pump notify n numbered packets of <size> bytes on TX
(uint32 sequence number first), retrying when the stack refuses with ENOMEM, as NimBLE requires.

Run as a script it is the device process of the two-process test:
    python tests/ble_echo_peripheral.py      (prints "PORT <n>", serves until stdin closes)
"""
import asyncio
import struct
import sys

import bluetooth

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)
_FLAG_READ_ENCRYPTED = const(0x0200)

_ENOMEM = const(12)

SERVICE_UUID = "e2e20001-0000-4000-8000-00805f9b34fb"
TX_UUID = "e2e20002-0000-4000-8000-00805f9b34fb"
RX_UUID = "e2e20003-0000-4000-8000-00805f9b34fb"
CTRL_UUID = "e2e20004-0000-4000-8000-00805f9b34fb"
SECRET_UUID = "e2e20005-0000-4000-8000-00805f9b34fb"

_SERVICE = (
    bluetooth.UUID(SERVICE_UUID),
    (
        (bluetooth.UUID(TX_UUID), _FLAG_READ | _FLAG_NOTIFY),
        (bluetooth.UUID(RX_UUID), _FLAG_WRITE),
        (bluetooth.UUID(CTRL_UUID), _FLAG_READ | _FLAG_WRITE | _FLAG_INDICATE,
         ((bluetooth.UUID(0x2901), _FLAG_READ | _FLAG_WRITE),)),
        (bluetooth.UUID(SECRET_UUID), _FLAG_READ_ENCRYPTED),
    ),
)
_ADV = b"\x02\x01\x06" + b"\x06\x09e2mon" + b"\x11\x07" + bytes(bluetooth.UUID(SERVICE_UUID))


class EchoPeripheral:
    def __init__(self, ble, rx_size=64):
        self.ble = ble
        ble.active(True)
        ble.irq(self._irq)
        ((self.tx, self.rx, self.ctrl, self.ctrl_label, self.secret),) = ble.gatts_register_services((_SERVICE,))
        ble.gatts_set_buffer(self.rx, rx_size)
        ble.gatts_write(self.tx, b"ready")
        ble.gatts_write(self.secret, b"phi")
        ble.gatts_write(self.ctrl_label, b"control")
        self.connections = {}  # conn_handle -> peer address (bytes copy)
        self.events = []  # (event, data with memoryviews copied)
        self.writes = []
        self.mtu = {}
        self.indications_done = []
        self.secrets = {}  # (sec_type, key) -> value: bonds, kept in RAM like a board without a file
        self.sent = 0
        self.refusals = 0
        self._burst = None
        self._wake = asyncio.Event()
        self.pump_task = asyncio.get_running_loop().create_task(self._pump())
        self.advertise()

    def advertise(self):
        self.ble.gap_advertise(100000, _ADV)

    def _irq(self, event, data):
        self.events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))
        if event == _IRQ_CENTRAL_CONNECT:
            conn_handle, _, addr = data
            self.connections[conn_handle] = bytes(addr)
        elif event == _IRQ_CENTRAL_DISCONNECT:
            conn_handle, _, _ = data
            self.connections.pop(conn_handle, None)
            self._burst = None
            self.advertise()
        elif event == _IRQ_GATTS_WRITE:
            conn_handle, handle = data
            value = self.ble.gatts_read(handle)
            self.writes.append((handle, value))
            if handle == self.rx and value.startswith(b"burst "):
                _, count, size = value.split()
                self._burst = [conn_handle, 0, int(count), int(size)]
                self._wake.set()
            elif handle == self.ctrl:
                self.ble.gatts_indicate(conn_handle, self.ctrl, b"ack:" + value)
        elif event == _IRQ_MTU_EXCHANGED:
            conn_handle, mtu = data
            self.mtu[conn_handle] = mtu
        elif event == _IRQ_GATTS_INDICATE_DONE:
            self.indications_done.append(data)
        elif event == _IRQ_SET_SECRET:
            sec_type, key, value = data
            if value is None:
                self.secrets.pop((sec_type, bytes(key)), None)
            else:
                self.secrets[(sec_type, bytes(key))] = bytes(value)
            return True
        elif event == _IRQ_GET_SECRET:
            sec_type, index, key = data
            if key is not None:
                return self.secrets.get((sec_type, bytes(key)))
            matching = [v for (t, _), v in self.secrets.items() if t == sec_type]
            return matching[index] if index < len(matching) else None

    async def _pump(self):
        packet = bytearray(512)
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._burst is not None:
                conn_handle, seq, count, size = self._burst
                if seq >= count:
                    self._burst = None
                    break
                struct.pack_into("<I", packet, 0, seq)
                try:
                    self.ble.gatts_notify(conn_handle, self.tx, memoryview(packet)[:size])
                except OSError as exc:
                    if exc.errno != _ENOMEM:
                        self._burst = None
                        break
                    self.refusals += 1
                    await asyncio.sleep(0)  # let the stack drain, then retry the same packet
                    continue
                self._burst[1] = seq + 1
                self.sent += 1


async def _serve_forever():
    from sim import radio

    server = await radio.serve_tcp(port=0)
    EchoPeripheral(server.peripheral_ble())
    print("PORT %d" % server.port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    await server.close()


if __name__ == "__main__":
    asyncio.run(_serve_forever())
