"""The shipped Pico W image on the air: build/firmware/e2mon-pico_w.uf2 on the emulated RP2040 (sim/rp2040.py)
with the CYW43439 modelled on its gSPI pins (sim/cyw43_model.mjs), the chip's HCI going to a bumble
controller on the same link `e2mon --sim` reaches. The image runs unmodified: its BTstack, its cyw43 driver
and the Pico SDK's shared-bus Bluetooth code all talk to the model.

    async with PicoWOnAir(port=0) as air:      # air.port: for E2MON_SIM_TRANSPORT=127.0.0.1:PORT
        air.chip.wait_for_home()               # the app from power-on; it starts the radio itself
        ...e2mon --port air.chip.usb_url() provision / e2mon --sim pull...
"""
import asyncio
import socket

from bumble.transport import open_transport

from sim import radio
from sim.rp2040 import Rp2040
from sim.stack_device import StackController


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PicoWOnAir:
    def __init__(self, port=0, hold=None, speed=1.0):
        self.requested_port = port
        self.hold = hold
        self.speed = speed
        self.server = None
        self.controller = None
        self.chip = None
        self._transport = None

    @property
    def port(self):
        return self.server.port

    async def __aenter__(self):
        self.server = await radio.serve_tcp(self.requested_port, shadow_device=False)
        hci_port = _free_port()
        self._transport = await open_transport("tcp-server:127.0.0.1:%d" % hci_port)
        self.controller = StackController("pico-w", host_source=self._transport.source,
                                          host_sink=self._transport.sink, link=self.server.link)
        self.server.device_controller = self.controller
        loop = asyncio.get_running_loop()
        self.chip = await loop.run_in_executor(
            None, lambda: Rp2040(hold=self.hold, speed=self.speed, cyw43_hci_port=hci_port))
        return self

    async def __aexit__(self, *exc):
        if self.chip is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.chip.close)
        if self._transport is not None:
            await self._transport.close()
        if self.server is not None:
            await self.server.close()
