"""The host's end of the simulator's radio link: what `e2mon --sim` needs to reach a simulated device.

The device process (`python -m sim serve`, sim.radio) owns the "air"; a host process plugs its own virtual
controller into it over TCP, speaking HCI H4 (bumble's `tcp-client:` transport), and talks to the device
through bleak's BleakClient API on host_tools.bleak_backend:

    async with sim_link.TcpCentral("127.0.0.1", port) as central:
        async with central.client() as client:      # a bleak.BleakClient
            ...

When the device process dies, the host's bleak client gets its disconnected callback and BleakError on the
next operation. `central.central` is the bumble Device, e.g. for `BleakScanner(backend=
host_tools.bleak_backend.BumbleScannerBackend, central=...)`. Connecting needs the device to be advertising:
the virtual controller connects on the next advertisement, as a real one does.
"""
import asyncio

from bleak import BleakClient
from bumble import hci
from bumble.device import Device
from bumble.transport import open_transport

from host_tools.bleak_backend import BumbleClientBackend

DEVICE_ADDRESS = "C0:E2:00:00:00:01"  # static random address of the simulated e2mon device
CENTRAL_ADDRESS = "C0:E2:00:00:00:F0"
DEFAULT_TCP_PORT = 47212

class TcpCentral:
    """The host side: a bumble central whose controller lives in the device process."""

    def __init__(self, host="127.0.0.1", port=DEFAULT_TCP_PORT, device_address=None,
                 central_address=CENTRAL_ADDRESS):
        self.spec = "tcp-client:%s:%d" % (host, port)
        self.device_address = device_address
        self.central_address = central_address
        self.central = None
        self._transport = None

    async def open(self):
        self._transport = await open_transport(self.spec)
        self.central = Device.with_hci("e2mon-host", hci.Address(self.central_address),
                                       self._transport.source, self._transport.sink)
        # It connects from its static random address: that is its identity when pairing, not the
        # controller's public address.
        self.central.config.identity_address_type = hci.Address.RANDOM_DEVICE_ADDRESS
        await self.central.power_on()
        return self

    async def close(self):
        if self._transport is not None:
            await self._transport.close()
            self._transport = None

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc_info):
        await self.close()

    def client(self, **kwargs):
        """A BleakClient for device_address, else for the device advertising on the link (found on connect:
        the firmware's address changes with its identifier, monitor.beacon)."""
        kwargs.setdefault("timeout", 10.0)
        address_of = None if self.device_address else self.advertiser
        return BleakClient(self.device_address or DEVICE_ADDRESS, backend=BumbleClientBackend, central=self.central,
                           address_of=address_of, **kwargs)

    async def advertiser(self, seconds=1.0):
        """The address of the connectable device advertising on the link (the simulator has one), or None."""
        found = []

        def on_advertisement(advertisement):
            if advertisement.is_connectable and not found:
                found.append(advertisement.address.to_string(False))

        self.central.on("advertisement", on_advertisement)
        try:
            await self.central.start_scanning(filter_duplicates=False)
            deadline = asyncio.get_running_loop().time() + seconds
            while not found and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            await self.central.stop_scanning()
        finally:
            self.central.remove_listener("advertisement", on_advertisement)
        return found[0] if found else None
