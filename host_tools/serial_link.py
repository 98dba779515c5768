"""The device's USB serial port as a BleakClient-like object, so `DeviceLink` runs unchanged over USB.

Packets are monitor.framing's (COBS, channel byte first); a characteristic UUID
maps to its channel through monitor.protocol_host.CHANNEL_UUIDS. Provisioning (the
device key) is USB only: `provision(key)`.

    async with SerialClient("/dev/ttyUSB0") as client:
        await client.provision(key)
        link = DeviceLink(client, role_key, "clinician")

`SerialClient(port, serial_factory=serial.serial_for_url)` accepts any pyserial
URL (e.g. a pty path in tests).
"""
import asyncio
import threading

from monitor import framing, protocol, protocol_host

from host_tools import device_link

UUID_CHANNEL = {uuid.lower(): channel for channel, uuid in protocol_host.CHANNEL_UUIDS.items()
                if channel not in protocol.SHARED_CHANNELS}   # shared ones: write_channel names the channel
SERIAL_MTU = 247   # frames sized as on a typical BLE link; well under framing.MAX_PACKET


class SerialLinkError(ConnectionError):
    pass


class SerialClient:
    def __init__(self, port, baudrate=115200, serial_factory=None, timeout=None):
        self.port = port
        self.baudrate = baudrate
        self.timeout = device_link.REPLY_TIMEOUT_S if timeout is None else timeout
        self._factory = serial_factory
        self._serial = None
        self._loop = None
        self._reader = None
        self._stop = threading.Event()
        self._callbacks = {}
        self._provision_replies = None
        self.mtu_size = SERIAL_MTU
        self.address = port

    # -- connection -------------------------------------------------------------------------------
    async def connect(self):
        factory = self._factory
        if factory is None:
            import serial
            factory = serial.serial_for_url
        self._serial = factory(self.port, baudrate=self.baudrate, timeout=0.05)
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._reader = threading.Thread(target=self._read_loop, name="e2mon-serial", daemon=True)
        self._reader.start()
        return True

    async def disconnect(self):
        self._stop.set()
        if self._reader is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._reader.join, 1.0)
            self._reader = None
        if self._serial is not None:
            self._serial.close()
            self._serial = None
        return True

    async def __aenter__(self):
        await self.connect()
        return self

    async def __aexit__(self, *exc):
        await self.disconnect()

    @property
    def is_connected(self):
        return self._serial is not None and self._reader is not None and self._reader.is_alive()

    def _read_loop(self):
        reader = framing.FrameReader()
        try:
            while not self._stop.is_set():
                chunk = self._serial.read(self._serial.in_waiting or 1)
                if chunk:
                    for channel, frame in reader.feed(chunk):
                        self._loop.call_soon_threadsafe(self._deliver, channel, bytes(frame))
        except Exception:  # noqa: BLE001 - the port went away: is_connected turns False
            return

    def _deliver(self, channel, frame):
        if channel == protocol.CH_PROVISION or (
                self._provision_replies is not None and channel == protocol.CH_AUTH):
            if self._provision_replies is not None:
                self._provision_replies.put_nowait((channel, frame))
                return
        uuid = protocol_host.CHANNEL_UUIDS.get(channel)
        callback = self._callbacks.get(uuid.lower()) if uuid else None
        if callback is not None:
            callback(None, bytearray(frame))

    # -- the BleakClient subset DeviceLink uses ----------------------------------------------------
    def _channel(self, uuid):
        channel = UUID_CHANNEL.get(str(uuid).lower())
        if channel is None:
            raise SerialLinkError("no serial channel for characteristic %s" % uuid)
        return channel

    async def write_gatt_char(self, uuid, data, response=True):
        self._send(self._channel(uuid), data)

    async def write_channel(self, channel, data):
        """A frame on its channel (what a characteristic several channels share cannot say)."""
        self._send(channel, data)

    def _send(self, channel, data):
        if not self.is_connected:
            raise SerialLinkError("USB serial port %s is closed" % self.port)
        self._serial.write(framing.packet(channel, bytes(data)))
        self._serial.flush()

    async def start_notify(self, uuid, callback, **kwargs):
        self._callbacks[str(uuid).lower()] = callback

    async def stop_notify(self, uuid):
        self._callbacks.pop(str(uuid).lower(), None)

    # -- provisioning --------------------------------------------------------------------------------
    async def provision(self, key, erase_log=False):
        """Sends the device key (USB only); raises SerialLinkError/TimeoutError or returns the status.
        erase_log: replacing a key in use erases the device's log (else ERR_KEY_HELD, and .records_held says
        how many records it keeps)."""
        self._provision_replies = asyncio.Queue()
        self.records_held = None
        try:
            self._send(protocol.CH_PROVISION, bytes(key) + (bytes((protocol.PROVISION_ERASE,)) if erase_log else b""))
            channel, frame = await asyncio.wait_for(self._provision_replies.get(), self.timeout)
        finally:
            self._provision_replies = None
        if channel == protocol.CH_AUTH and len(frame) == 2 and frame[0] == protocol.AUTH_REFUSED:
            return frame[1]
        if channel == protocol.CH_PROVISION and len(frame) == 1:
            return frame[0]
        if channel == protocol.CH_PROVISION and len(frame) == 5 and frame[0] == protocol.ERR_KEY_HELD:
            self.records_held = int.from_bytes(frame[1:], "little")
            return frame[0]
        raise SerialLinkError("unexpected answer to provisioning on channel %d" % channel)
