"""The unchanged firmware on the from-source MicroPython unix port with its real `bluetooth` module:
BTstack (the Pico W's stack) or NimBLE (the ESP32's), its radio a bumble virtual controller served on a
pty as HCI H4 and joined to a bumble link, the same air sim.radio's hosts reach.

    path = binary("btstack")                  # build/firmware/micropython-btstack ($E2MON_MICROPYTHON_BTSTACK)
    built("nimble") -> bool
    async with StackLink("btstack", flash_dir) as link:      # one process: link, central, device process
        async with link.client() as client: ...               # bleak.BleakClient, as radio.InProcessLink's
        await link.drop_connection(); link.drop_after(37)     # radio loss, as radio.InProcessLink's
    device = await StackDevice("nimble", flash_dir, link=some_bumble_link).start()   # any link
    await device.wait_boot(2)                 # after the firmware's machine.reset(): booted again, advertising
    await device.stop()

The device process runs firmware/main.py (or `script`) with sim/upy first on MICROPYPATH: its machine.py
(Pin, I2C, ADC, RTC, WDT the unix port lacks) and board.py (boards/pico_w on it, flash in $E2MON_FLASH).
machine.reset() ends the process with reboot.EXIT_CODE; StackDevice then reboots the board: the radio
chip powers off (its connections and advertising end), the process starts again on the same flash and pty,
its RTC still running (machine.py keeps it in this StackDevice's temporary directory: a power cut loses it).

bumble's controller leaves some commands of these stacks unanswered; StackController answers them:
- HCI_LE_Encrypt (0x2017): BTstack's crypto runs it before `active(True)` returns;
- Zephyr's Read Static Addresses (0xFC09): BTstack's H4 port sets the Zephyr chipset, which sends it at
  power-on; answered with the device's address, as a Zephyr controller gives its factory address;
- any other command bumble has no handler for: Command Complete with "unknown HCI command", as a real
  controller answers, instead of no answer at all (the stack would wait forever).
The device's address on the air is the random address the stack sets (LE Set Random Address): the
firmware sets a new one with each advertised identifier (monitor.beacon); `e2mon --sim` finds the device
by that identifier, a test harness asks the radio (StackLink.current_device_address()).
"""
import asyncio
import os
import sys
import tempfile
import termios

from bumble import crypto, hci
from bumble.transport.pty import open_pty_transport

from host_tools import sim_link
from sim import env, radio
from sim.upy import reboot

STACKS = ("btstack", "nimble")
UPY_DIR = os.path.join(env.HERE, "upy")
MAIN = os.path.join(env.FIRMWARE, "main.py")
# A Pico W's MicroPython has ~200 KB of 32-bit heap free; this port's objects are 64-bit, and an update's
# slot holds source that this process compiles at boot (a board's holds bytecode), so it gets more.
HEAP = "320K"
_LE_ENCRYPT = 0x2017
_ZEPHYR_READ_STATIC_ADDRESSES = 0xFC09
_BROADCOM_WRITE_BD_ADDR = 0xFC01       # Broadcom/Cypress vendor command (BTstack's btstack_chipset_bcm)
_START_TIMEOUT_S = 20
REBOOT_LINE = "--- reboot (machine.reset) ---"   # in StackDevice.output where each reboot happened


BTSTACK_ATT_DB_SIZE = 512    # MAX_ATT_DB_SIZE, extmod/btstack/btstack_config_common.h (the rp2 port's too)
_NOTIFY_OR_INDICATE = 0x0030


def btstack_att_db_bytes(services):
    """Bytes of BTstack's ATT database (att_db_util) a gatts_register_services(services) call fills on
    MicroPython, its own GAP and GATT services included. Past BTSTACK_ATT_DB_SIZE BTstack drops attributes
    without an error and later handles collide. Each attribute: size, flags, handle (2 bytes each), its
    UUID, its value (a declaration's value: properties, value handle, the characteristic's UUID)."""
    size = 1 + 2                      # database version, end tag
    size += 2 * (8 + 2 + 8 + 5 + 8)   # GAP (device name) and GATT (service changed) services
    for service_uuid, characteristics in services:
        size += 8 + len(bytes(service_uuid))
        for definition in characteristics:
            uuid_len = len(bytes(definition[0]))
            size += (8 + 3 + uuid_len) + (6 + uuid_len)          # declaration, value (empty at registration)
            if definition[1] & _NOTIFY_OR_INDICATE:
                size += 8 + 2                                      # its client configuration descriptor
            for descriptor in (definition[2] if len(definition) > 2 else ()):
                size += 6 + len(bytes(descriptor[0]))
    return size


def binary(stack):
    """Where `make firmware` puts the unix port built with this stack (an environment override wins)."""
    if stack not in STACKS:
        raise ValueError("stack must be one of %s, not %r" % (", ".join(STACKS), stack))
    return os.environ.get("E2MON_MICROPYTHON_" + stack.upper()) or os.path.join(
        env.ROOT, "build", "firmware", "micropython-" + stack)


def built(stack):
    return os.access(binary(stack), os.X_OK)


def _command_complete(opcode, parameters):
    """An HCI Command Complete event (H4 packet) for `opcode` with these return parameters."""
    body = bytes((1, opcode & 0xFF, opcode >> 8)) + parameters
    return bytes((hci.HCI_EVENT_PACKET, hci.HCI_COMMAND_COMPLETE_EVENT, len(body))) + body


class StackController(radio._Controller):
    """bumble's virtual controller as a real host stack's H4 radio (see the module's docstring)."""

    def __init__(self, name, identity=sim_link.DEVICE_ADDRESS, **kwargs):
        super().__init__(name, **kwargs)
        self.identity = hci.Address(identity)        # random static, as the shadow device's
        self.answered_unknown = []                   # opcodes answered "unknown command", for diagnosis

    def on_packet(self, packet):
        # Before bumble parses it: bumble cannot parse some of these (0xFC09 without parameters raises).
        if packet[0] == hci.HCI_COMMAND_PACKET and len(packet) >= 4:
            opcode = packet[1] | packet[2] << 8
            parameters = bytes(packet[4:4 + packet[3]])
            if opcode == _LE_ENCRYPT:
                self._reply(opcode, bytes((hci.HCI_SUCCESS,)) + crypto.e(parameters[:16], parameters[16:32]))
                return
            if opcode == _BROADCOM_WRITE_BD_ADDR:
                # the CYW43439's public address, set by the Pico W's BTstack chipset code at start
                self.public_address = hci.Address(parameters[:6], hci.Address.PUBLIC_DEVICE_ADDRESS)
                self._reply(opcode, bytes((hci.HCI_SUCCESS,)))
                return
            if opcode == _ZEPHYR_READ_STATIC_ADDRESSES:
                # status, one address (little-endian), its 16-byte identity root (none)
                self._reply(opcode, bytes((hci.HCI_SUCCESS, 1)) + bytes(self.identity) + bytes(16))
                return
        super().on_packet(packet)

    def power_off(self):
        """What a board reset does to its radio chip: links gone, advertising stopped."""
        radio._drop_le_connections(self)
        self.le_legacy_advertiser.stop()
        for advertising_set in self.advertising_sets.values():
            advertising_set.stop()

    def on_hci_command_packet(self, command):
        if isinstance(command, hci.HCI_SyncCommand) or hasattr(self, "on_" + command.name.lower()):
            super().on_hci_command_packet(command)
        else:
            self.answered_unknown.append(command.op_code)
            self._reply(command.op_code, bytes((hci.HCI_ErrorCode.UNKNOWN_HCI_COMMAND_ERROR,)))

    def _reply(self, opcode, parameters):
        if self.host:
            asyncio.get_running_loop().call_soon(self.host.on_packet, _command_complete(opcode, parameters))


_PR_SET_PDEATHSIG = 1


def _end_with_parent():
    """In the device process before exec (Linux): SIGTERM when the process that started it dies, even by
    SIGKILL, so no MicroPython process outlives its simulator."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass   # not Linux: stop() and serve's exit handling end it


class StackDevice:
    """One device process on a bumble link (see the module's docstring)."""

    def __init__(self, stack, flash_dir, link, script=MAIN, args=(), heap=HEAP, rtc_start=None,
                 echo=None, extra_env=None, name=None, cwd=None):
        self.stack = stack
        self.name = name or "device-" + stack    # its controller's: two devices on one link need two names
        self.cwd = cwd                            # where the program's relative paths go (a board: its flash)
        self.binary = binary(stack)
        self.flash_dir = os.path.abspath(flash_dir)
        self.link = link
        self.script = script
        self.args = list(args)
        self.heap = heap
        self.rtc_start = rtc_start
        self.echo = echo
        self.extra_env = extra_env or {}
        self.output = []              # the device's console lines, every boot's
        self.boots = 0                # processes started: 1 + the reboots machine.reset() asked for
        self.controller = None
        self.process = None
        self._transport = None
        self._tty = None
        self._environ = None
        self._supervisor = None
        self._stopping = False
        self._tmp = None
        self._reader = None
        self._advertising = None

    async def start(self, wait_advertising=True):
        if not built(self.stack):
            raise FileNotFoundError("no MicroPython with %s at %s: run `make firmware`" % (self.stack, self.binary))
        os.makedirs(self.flash_dir, exist_ok=True)
        self._tmp = tempfile.mkdtemp(prefix="e2mon-h4-")
        tty = os.path.join(self._tmp, "hci")
        self._transport = await open_pty_transport(tty)
        self._tty = os.path.realpath(tty)
        self.controller = StackController(self.name, host_source=self._transport.source,
                                          host_sink=self._transport.sink, link=self.link)
        self._environ = dict(os.environ, MICROPYBTUART=self._tty, E2MON_FLASH=self.flash_dir,
                             E2MON_RTC_KEEP=os.path.join(self._tmp, "rtc"),   # kept across reboots only
                             MICROPYPATH=":".join((UPY_DIR, env.FIRMWARE, ".frozen")))
        if self.rtc_start is not None:
            self._environ["E2MON_RTC_START"] = str(int(self.rtc_start))
        self._environ.update(self.extra_env)
        await self._launch()
        self._supervisor = asyncio.create_task(self._reboot_on_reset())
        if wait_advertising:
            await self.wait_advertising()
        return self

    async def _launch(self):
        self.process = await asyncio.create_subprocess_exec(
            self.binary, "-X", "heapsize=" + self.heap, self.script, *self.args, env=self._environ,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_end_with_parent, cwd=self.cwd)
        self.boots += 1
        self._reader = asyncio.create_task(self._read_console(self.process))

    async def _reboot_on_reset(self):
        """machine.reset() (reboot.EXIT_CODE): the board reboots; any other exit ends the device."""
        while True:
            process = self.process
            code = await process.wait()
            await self._reader            # its last console lines (the pipe closes with the process)
            if code != reboot.EXIT_CODE or self._stopping:
                return
            self.controller.power_off()
            self._flush_uart()
            self.output.append(REBOOT_LINE)
            if self.echo is not None:
                self.echo("[%s] %s" % (self.stack, REBOOT_LINE))
            await self._launch()

    def _flush_uart(self):
        """Bytes the radio sent the old process and it never read: a reset chip's UART starts empty."""
        fd = os.open(self._tty, os.O_RDWR | os.O_NOCTTY)
        try:
            termios.tcflush(fd, termios.TCIOFLUSH)
        finally:
            os.close(fd)

    def _ended(self):
        """The device process exited and will not start again (not a reboot)."""
        return self.process.returncode is not None and (self._supervisor is None or self._supervisor.done())

    async def _read_console(self, process):
        while True:
            line = await process.stdout.readline()
            if not line:
                return
            text = line.decode(errors="replace").rstrip("\n")
            self.output.append(text)
            if self.echo is not None:
                self.echo("[%s] %s" % (self.stack, text))

    async def wait_advertising(self, timeout=_START_TIMEOUT_S):
        """Until the firmware's BleService advertises (or the process died: RuntimeError)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.controller.is_advertising:
            if self._ended():
                await asyncio.sleep(0.1)
                raise RuntimeError("the %s device exited (%s):\n%s" % (
                    self.stack, self.process.returncode, "\n".join(self.output[-30:])))
            if loop.time() > deadline:
                raise TimeoutError("the %s device did not advertise in %d s:\n%s" % (
                    self.stack, timeout, "\n".join(self.output[-30:])))
            await asyncio.sleep(0.02)

    async def wait_boot(self, boots, timeout=_START_TIMEOUT_S):
        """Until the device has booted `boots` times in all (it reboots after machine.reset()) and advertises."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.boots < boots:
            if self._ended():
                raise RuntimeError("the %s device exited (%s) after %d boots, not rebooting:\n%s" % (
                    self.stack, self.process.returncode, self.boots, "\n".join(self.output[-30:])))
            if loop.time() > deadline:
                raise TimeoutError("the %s device did not reboot in %d s:\n%s" % (
                    self.stack, timeout, "\n".join(self.output[-30:])))
            await asyncio.sleep(0.02)
        await self.wait_advertising(max(1.0, deadline - loop.time()))

    @property
    def connected(self):
        return bool(self.controller is not None and self.controller.le_connections)

    async def stop(self, timeout=5.0):
        """Ends the device process (SIGTERM; the log and snapshot on flash stay as a power cut leaves them)."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
        if self.controller is not None:
            radio._drop_le_connections(self.controller)
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, timeout)
            except asyncio.TimeoutError:
                self._reader.cancel()
        if self.controller is not None and self.link is not None:
            self.link.remove_controller(self.controller)
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        return self.process.returncode if self.process is not None else None


class DeviceProcessLink(radio.InProcessLink):
    """radio.InProcessLink with the device outside this process (a MicroPython process on a real stack, the
    emulated chip): the host's bumble central in this process, the link cuttable the same way
    (drop_connection, drop_after). A subclass sets `self.process_device` (start(), stop(), .controller)."""

    def __init__(self, central_address=sim_link.CENTRAL_ADDRESS, link_delay_s=0.0):
        self.link = radio._CuttableLink(link_delay_s)
        self.device_address = sim_link.DEVICE_ADDRESS
        self.central_controller, self.central = radio._make_device(self.link, "e2mon-host", central_address)
        self.process_device = None
        self.device = None
        self._ble = None

    async def __aenter__(self):
        await self.central.power_on()
        try:
            await self.process_device.start()
        except BaseException:
            await self.process_device.stop()
            raise
        return self

    async def close(self):
        radio._drop_le_connections(self.central_controller)
        await self.process_device.stop()
        try:
            await self.central.host.flush()
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass

    def peripheral_ble(self):
        raise RuntimeError("the device runs outside this process")

    def device_radio(self):
        return self.process_device.controller

    async def drop_connection(self, timeout=5.0):
        dropped = radio._drop_le_connections(self.central_controller)
        await radio._wait_idle(self.central, timeout)
        return dropped


class StackLink(DeviceProcessLink):
    """The device in a MicroPython process on a real stack (StackDevice, as `stack_device`)."""

    def __init__(self, stack, flash_dir, central_address=sim_link.CENTRAL_ADDRESS, link_delay_s=0.0,
                 **device_options):
        super().__init__(central_address, link_delay_s)
        self.stack_device = self.process_device = StackDevice(stack, flash_dir, self.link, **device_options)


async def serve(stack, flash_dir, port=None, rtc_start=None, echo=print):
    """The device side of `python -m sim serve --stack btstack|nimble`: a TCP link for hosts, as
    radio.serve_tcp's, with the device process on it. Returns (server, device)."""
    server = await radio.serve_tcp(sim_link.DEFAULT_TCP_PORT if port is None else port, shadow_device=False)
    device = StackDevice(stack, flash_dir, server.link, rtc_start=rtc_start, echo=echo)
    try:
        await device.start()
    except BaseException:
        await device.stop()
        await server.close()
        raise
    server.device_controller = device.controller
    return server, device


if __name__ == "__main__":   # a quick look: python -m sim.stack_device btstack FLASH_DIR
    async def _look(stack, flash):
        async with StackLink(stack, flash, echo=print) as link:
            async with link.client() as client:
                for service in client.services:
                    print(service)
    asyncio.run(_look(sys.argv[1], sys.argv[2]))
