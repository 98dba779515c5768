"""An impostor on the simulator's air (tests): a plain bumble device that joins a running `python -m sim serve`
over its TCP link, copies the real device's advertisement (so it carries the current identifier), advertises
it four times as often from another address, and serves the e2mon GATT layout with Device Information
strings full of terminal escapes; it answers a HELLO with a challenge-shaped frame of junk.

    async with Impostor(port) as impostor:   # advertising once the real device's payload was heard
        ... impostor.address, impostor.hellos ...
"""
import asyncio
import os

from bumble import gatt, hci
from bumble.device import Device
from bumble.transport import open_transport

from monitor import beacon, protocol, protocol_host

HOSTILE_TEXT = b"\x1b[2J\x1b]0;pwned\x07\xe2\x80\xaeevil"   # clear screen, set title, bell, bidi override
ADDRESS = "C0:E2:00:00:00:66"


class Impostor:
    def __init__(self, port, address=ADDRESS):
        self.port = port
        self.address = address
        self.hellos = 0          # HELLOs written to its auth characteristic
        self.payload = None      # the advertisement it replays
        self._transport = None
        self.device = None
        self._auth = None

    async def __aenter__(self):
        self._transport = await open_transport("tcp-client:127.0.0.1:%d" % self.port)
        self.device = Device.with_hci("impostor", hci.Address(self.address), self._transport.source,
                                      self._transport.sink)
        self.device.add_services(self._services())
        await self.device.power_on()
        self.payload = await self._capture()
        await self.device.start_advertising(advertising_data=self.payload, auto_restart=True,
                                            advertising_interval_min=60, advertising_interval_max=60)
        return self

    async def __aexit__(self, *exc_info):
        await self._transport.close()

    async def _capture(self, timeout=10.0):
        heard = asyncio.get_running_loop().create_future()

        def on_advertisement(advertisement):
            data = advertisement.data_bytes
            if advertisement.is_connectable and str(advertisement.address) != self.address and not heard.done() \
                    and beacon.COMPANY_ID.to_bytes(2, "little") in data:
                heard.set_result(bytes(data))

        self.device.on("advertisement", on_advertisement)
        # Passive: each advertisement as sent (an active scan's reports merge it with the scan response).
        await self.device.start_scanning(active=False, filter_duplicates=False)
        try:
            return await asyncio.wait_for(heard, timeout)
        finally:
            await self.device.stop_scanning()
            self.device.remove_listener("advertisement", on_advertisement)

    def _services(self):
        props = gatt.Characteristic.Properties
        rw = gatt.Characteristic.Permissions.READABLE | gatt.Characteristic.Permissions.WRITEABLE

        def on_hello(connection, value):
            self.hellos += 1
            junk = bytes((protocol.AUTH_CHALLENGE,)) + os.urandom(protocol.NONCE_SIZE + protocol.PROOF_SIZE)
            asyncio.get_running_loop().create_task(self.device.notify_subscribers(self._auth, junk))

        self._auth = gatt.Characteristic(protocol.AUTH_UUID, props.WRITE | props.NOTIFY, rw,
                                         gatt.CharacteristicValue(write=on_hello))
        custom = gatt.Service(protocol.SERVICE_UUID, [
            gatt.Characteristic(protocol.CONTROL_UUID, props.WRITE | props.INDICATE, rw, b""),
            gatt.Characteristic(protocol.RECORDS_UUID, props.NOTIFY, rw, b""),
            gatt.Characteristic(protocol.REQUESTS_UUID, props.WRITE | props.NOTIFY, rw, b""),
            self._auth,
        ])
        dis = gatt.Service(protocol_host.sig_uuid(protocol.DIS_SERVICE), [
            gatt.Characteristic(protocol_host.sig_uuid(uuid), props.READ, gatt.Characteristic.Permissions.READABLE,
                                HOSTILE_TEXT)
            for uuid in (protocol.DIS_MANUFACTURER, protocol.DIS_MODEL_NUMBER, protocol.DIS_FIRMWARE_REVISION)])
        return [custom, dis]
