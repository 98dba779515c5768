"""The RP2040 on the air: the e2mon image for the Arduino Nano RP2040 Connect (MicroPython's rp2 port with NimBLE
over UART1 to its u-blox NINA-W102 radio module, build/firmware/e2mon-nano_rp2040.uf2, `make firmware-rp2-nano`)
on the emulated RP2040 (sim/rp2040.py), its HCI UART joined to a bumble virtual controller as an H4 transport,
on a bumble link: the same air sim.radio's hosts and `e2mon --sim` reach.

    async with ChipLink(files={"e2mon.key": key, ...}) as link:   # as stack_device.StackLink
        async with link.client(mtu=247) as client: ...
        await link.drop_connection(); link.drop_after(37)
    device = await ChipDevice(link=some_bumble_link).start()      # any link (serve)
    await device.wait_boot(2)       # after the firmware's machine.reset(): booted again, advertising
    device.chip                     # the sim.rp2040.Rp2040: its screen, buttons, stats(), USB serial

The radio module's side: the emulator moves the UART's bytes at its baud rate (115200, the board's
MICROPY_HW_BLE_UART_BAUDRATE) and holds them while the chip's RX FIFO is full (RTS); the firmware's NINA driver
(drivers/ninaw10/nina_bthci_uart.c) holds the module's reset pin (GPIO3) low, then sends HCI Reset: a low reset
line powers the controller off here (its links end, its advertising stops), as a reset module's would.
`files` ({path under the data directory: bytes}) are copied onto the chip's own flash (FAT, as the Nano's
MicroPython formats it) in safe mode through the raw REPL before the app starts.
"""
import asyncio
import os
import posixpath

from bumble.transport.tcp_client import open_tcp_client_transport

from host_tools import sim_link
from sim import radio, rp2040, stack_device
from sim.stack_device import StackController

UF2 = os.path.join(rp2040.ROOT, "build", "firmware", "e2mon-nano_rp2040.uf2")
MAKE_TARGET = "make firmware-rp2-nano"
FLASH_MB = 16                 # the board's AT25SF128A (pico-sdk's arduino_nano_rp2040_connect.h)
BLE_UART = 1                  # MICROPY_HW_BLE_UART_ID
RADIO_RESET_PIN = 3           # MICROPY_HW_NINA_RESET
DATA_DIR = "/data"            # boards.pico_w.DATA_DIR: the image runs the Pico W's board module
STACK = "rp2040"              # `python -m sim serve --stack rp2040`
_BOOT_TIMEOUT_S = 300         # from power-on: FAT formatted on a blank flash, the app, NimBLE's start


def missing():
    return rp2040.missing(UF2, MAKE_TARGET)


def built():
    return missing() is None


class ChipDevice:
    """The emulated chip with its radio module on `link` (see the module's docstring)."""

    def __init__(self, link, files=None, speed=1.0, echo=None):
        self.link = link
        self.files = files or {}
        self.speed = speed
        self.echo = echo
        self.chip = None
        self.controller = None
        self.reset_in_boot = []       # for each time the firmware held the radio module in reset: the boot (1...)
        self._transport = None
        self._loop = None

    @property
    def boots(self):
        return len(self.chip.boots) if self.chip is not None else 0

    async def start(self, wait_advertising=True):
        problem = missing()
        if problem:
            raise FileNotFoundError("the RP2040 radio image cannot run: " + problem)
        self._loop = asyncio.get_running_loop()
        hold = "A" if self.files else None
        self.chip = await asyncio.to_thread(
            rp2040.Rp2040, uf2=UF2, hold=hold, speed=self.speed, flash_mb=FLASH_MB, hci_uart=BLE_UART,
            radio_reset=RADIO_RESET_PIN, on_pin=self._on_pin)
        self._transport = await open_tcp_client_transport("127.0.0.1:%d" % self.chip.hci_port)
        self.controller = StackController("device-rp2040", host_source=self._transport.source,
                                          host_sink=self._transport.sink, link=self.link)
        if self.files:
            await asyncio.to_thread(self._copy_files)
        if wait_advertising:
            await self.wait_advertising()
        return self

    def _copy_files(self):
        chip = self.chip
        chip.read_until(b"safe mode", timeout=_BOOT_TIMEOUT_S)
        chip.read_until(b">>> ", timeout=_BOOT_TIMEOUT_S)     # the REPL is up: Ctrl-A now reaches it
        chip.raw_repl()
        made = set()
        for name in sorted(self.files):
            path = posixpath.join(DATA_DIR, name)
            parts = posixpath.dirname(path).strip("/").split("/")
            for i in range(1, len(parts) + 1):
                folder = "/" + "/".join(parts[:i])
                if folder not in made:
                    chip.raw_exec("import os\ntry:\n    os.mkdir(%r)\nexcept OSError:\n    pass" % folder)
                    made.add(folder)
            chip.raw_exec("f = open(%r, 'wb')" % path)
            data = self.files[name]
            for i in range(0, len(data), 2048):
                chip.raw_exec("f.write(%r)" % data[i:i + 2048])
            chip.raw_exec("f.close()")
        chip.reboot()                 # power cycle without a button held: the app starts on these files

    def _on_pin(self, pin, level, ms):
        if pin == RADIO_RESET_PIN and not level:
            self._loop.call_soon_threadsafe(self._radio_reset, len(self.chip.boots))

    def _radio_reset(self, boot):
        self.reset_in_boot.append(boot)
        if self.controller is not None:
            self.controller.power_off()

    def console(self):
        """What the chip printed on its USB serial port so far (the app's stdout)."""
        return self.chip.read_available()

    async def wait_advertising(self, timeout=_BOOT_TIMEOUT_S):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.controller.is_advertising:
            if self.chip.proc.poll() is not None:
                raise RuntimeError("the emulator exited (%s)" % self.chip.proc.returncode)
            if loop.time() > deadline:
                raise TimeoutError("the RP2040 did not advertise in %d s; its console:\n%s"
                                   % (timeout, self.chip.read_available()))
            await asyncio.sleep(0.05)

    async def wait_boot(self, boots, timeout=_BOOT_TIMEOUT_S):
        """Until the chip has started `boots` times in all (power-on, then each reset), that boot's firmware has
        reset the radio module (the old boot's advertising ends there) and it advertises again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.boots < boots or not any(boot >= boots for boot in self.reset_in_boot):
            if loop.time() > deadline:
                raise TimeoutError("the RP2040 did not reboot and restart its radio in %d s (boots: %s)"
                                   % (timeout, self.chip.boots))
            await asyncio.sleep(0.05)
        await self.wait_advertising(max(1.0, deadline - loop.time()))

    @property
    def connected(self):
        return bool(self.controller is not None and self.controller.le_connections)

    async def stop(self):
        if self.controller is not None:
            radio._drop_le_connections(self.controller)
            if self.link is not None and self.controller in self.link.controllers:
                self.link.remove_controller(self.controller)
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        if self.chip is not None:
            await asyncio.to_thread(self.chip.close)


class ChipLink(stack_device.DeviceProcessLink):
    """The device on the emulated chip (ChipDevice, as `chip_device`; its Rp2040 as `chip`)."""

    def __init__(self, files=None, central_address=sim_link.CENTRAL_ADDRESS, **device_options):
        super().__init__(central_address)
        self.chip_device = self.process_device = ChipDevice(self.link, files=files, **device_options)

    @property
    def chip(self):
        return self.chip_device.chip


async def serve(port=None, files=None, echo=print):
    """The device side of `python -m sim serve --stack rp2040`: a TCP link for hosts, as radio.serve_tcp's, with
    the emulated chip on it. Returns (server, device)."""
    server = await radio.serve_tcp(sim_link.DEFAULT_TCP_PORT if port is None else port, shadow_device=False)
    device = ChipDevice(server.link, files=files, echo=echo)
    try:
        await device.start()
    except BaseException:
        await device.stop()
        await server.close()
        raise
    server.device_controller = device.controller
    return server, device
