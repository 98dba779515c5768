"""`python -m sim serve`: the simulated device's real event loop (buttons, screen, reminders, watchdog,
GATT service) on bumble's TCP link, waiting for `e2mon --sim`.

    server = await start_device(flash_dir, port)   # DeviceServer: .device (SimDevice), .runner, .stop()
"""
import asyncio
import atexit
import errno
import fcntl
import os
import signal
import socket
import sys

from sim import vclock

from monitor.session import KEY_FILE   # the one name of the device key file


def provision(flash_dir, device_id):
    """What `e2mon --port PORT provision` does over USB (physical access): a new device key on the device's
    flash and, as per-role keys, in the host's key store ($E2MON_CONFIG, else the user's config dir)."""
    from host_tools import host_crypto, keys

    device_key = host_crypto.new_device_key()
    with open(os.path.join(flash_dir, KEY_FILE), "wb") as f:
        f.write(device_key)
    return [keys.save_key(device_id, name, value) for name, value in host_crypto.host_keys(device_key).items()]


class DeviceServer:
    def __init__(self, device, radio_server, task=None):
        self.device = device
        self.runner = device.runner
        self.radio_server = radio_server
        self.port = radio_server.port
        self.task = task
        self.restarts = 0

    async def run(self, flash_dir):
        """The device's event loop; when the firmware restarts itself (an update staged), the device boots
        again from its flash on the same radio, as a board does after machine.reset()."""
        while True:
            await self.runner.main()
            if not self.device.app.update_staged:
                return
            await self._reboot(flash_dir)

    async def _reboot(self, flash_dir):
        from sim.device import SimDevice
        wall = self.device.clock.wall_seconds()    # the RTC keeps running across a soft reset
        self.device.shutdown()
        service = self.runner.ble
        if service is not None:
            if service._task is not None:
                service._task.cancel()
            ble = service._ble
            ble.gap_advertise(None)
            ble.active(False)
            await ble.sim_settle()
        while True:
            self.restarts += 1
            device = SimDevice(flash_dir, wall_seconds=wall)
            device.boot(with_ble=True)
            if not device.reset_requested:   # a version that failed its self-test restarts at once
                break
            device.shutdown()
        self.device = device
        self.runner = device.runner

    async def stop(self):
        self.runner.running = False
        try:
            await asyncio.wait_for(self.task, 5)
        except asyncio.TimeoutError:
            self.task.cancel()
        self.device.shutdown()
        await self.radio_server.close()


async def start_device(flash_dir, port=None, wall_seconds=None, device_address=None):
    """Boots the simulated device with BLE on bumble's TCP link and starts its event loop (port 0: any free
    port, read back from .port); device_address: its static address (several patients' devices, each on its
    own link), else sim_link.DEVICE_ADDRESS."""
    from sim import radio
    from sim.device import SimDevice

    kwargs = {} if port is None else {"port": port}
    if device_address is not None:
        kwargs["device_address"] = device_address
    radio_server = await radio.serve_tcp(**kwargs)
    radio_server.peripheral_ble()            # bluetooth.BLE() returns this radio from now on
    device = SimDevice(flash_dir, wall_seconds=vclock.PICO_RTC_EPOCH if wall_seconds is None else wall_seconds)
    if device.boot(with_ble=True) is None:
        raise RuntimeError("safe mode: a button was held at boot")
    if device.runner.ble is None:
        raise RuntimeError("the device's BLE service did not start (see above)")
    server = DeviceServer(device, radio_server)
    server.task = asyncio.create_task(server.run(flash_dir))
    await asyncio.sleep(0)
    return server


KEYS = {"a": ("A", False), "b": ("B", False), "c": ("C", False), "A": ("A", True), "B": ("B", True),
        "C": ("C", True)}
WARPS = {"d": 1, "w": 7}    # days the virtual clock jumps ahead (the RTC and ticks with it)


def warp_days(server, days):
    """Fast-forwards the device by whole days and runs its reminder check at once (buzzer if one came due)."""
    server.device.clock.warp(days * 86400)
    fresh = server.runner.check_reminders()
    if fresh:
        asyncio.get_running_loop().create_task(server.runner.beep())
    return fresh


def _keyboard(server, stop):
    line = sys.stdin.readline()
    if not line:
        asyncio.get_running_loop().remove_reader(sys.stdin)
        return
    for ch in line.strip():
        if ch == "q":
            stop.set()
        elif ch == "s":
            print(server.device.screen_text())
        elif ch in WARPS:
            fresh = warp_days(server, WARPS[ch])
            print("+%d day(s); %d reminder(s) newly due" % (WARPS[ch], len(fresh)))
            print("\n".join(server.device.screen_lines()))
        elif ch in KEYS:
            name, hold = KEYS[ch]
            server.device.press(name, hold)
            print("\n".join(server.device.screen_lines()))


class Busy(Exception):
    pass


def claim_flash(flash_dir):
    """Locks `<flash>.lock` for this simulator's life (the kernel drops it if the process dies); Busy names
    the simulator that holds it."""
    lock_path = os.path.abspath(flash_dir).rstrip(os.sep) + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 100, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise Busy("another simulator (%s) is using the flash %s; stop it first (q), or give this one its own "
                   "with --flash DIR" % (holder, flash_dir)) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, ("pid %d" % os.getpid()).encode(), 0)
    return fd


def check_port_free(port):
    """Busy if something already listens on the simulator's TCP port (checked before the flash is touched)."""
    from host_tools import sim_link

    port = sim_link.DEFAULT_TCP_PORT if port is None else port
    if port == 0:
        return
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise Busy("port %d is taken (another simulator running?); stop it first, or pick another with --port N "
                   "and set E2MON_SIM_TRANSPORT=127.0.0.1:N for e2mon" % port) from None
    finally:
        probe.close()


async def serve_async(args):
    try:
        lock = claim_flash(args.flash)
        check_port_free(args.port)
    except Busy as exc:
        print("cannot start: %s" % exc, file=sys.stderr)
        return 2
    stop = asyncio.Event()    # q, SIGTERM or SIGINT: the device stops as on q (a stack's process ends too)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await _serve(args, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        os.close(lock)


async def _serve(args, stop):
    wall = None
    if args.scenario:
        from sim.scenario import play, scenario_path
        device, player = play(scenario_path(args.scenario), args.flash, echo=print)
        wall = device.clock.wall_seconds()   # a soft reboot keeps the RTC running
        device.shutdown()
    os.makedirs(args.flash, exist_ok=True)
    if not os.path.exists(os.path.join(args.flash, KEY_FILE)):
        from host_tools import sim_link
        where = provision(args.flash, sim_link.DEVICE_ADDRESS)
        print("provisioned the simulated device as USB provisioning would: host keys in %s" % where[0])
    if getattr(args, "stack", "shadow") == "rp2040":
        return await serve_chip(args, stop)
    if getattr(args, "stack", "shadow") != "shadow":
        return await serve_stack(args, wall, stop)
    try:
        server = await start_device(args.flash, args.port, wall)
    except OSError as exc:
        print("cannot listen for hosts: %s (another simulator running? pick one with --port N and set "
              "E2MON_SIM_TRANSPORT=127.0.0.1:N for e2mon)" % exc, file=sys.stderr)
        return 2
    if not args.no_keyboard and sys.stdin.isatty():
        asyncio.get_running_loop().add_reader(sys.stdin, _keyboard, server, stop)
    print("e2mon simulator: device %s advertising on bumble's TCP link (port %d); flash in %s"
          % (server.device.board.NAME, server.port, args.flash), flush=True)
    print("waiting for `e2mon --sim ...`  (keys + Enter: a/b/c press, A/B/C hold, s screen, d +1 day, "
          "w +7 days, q quit)")
    print(server.device.screen_text())
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0


async def serve_stack(args, wall=None, stop=None):
    """`serve --stack btstack|nimble`: the firmware in a MicroPython process on its real stack, ended with
    this process however it ends (stop set, an exception, exit; the child also gets SIGTERM if this
    process is killed: sim.stack_device)."""
    from sim import stack_device
    if not stack_device.built(args.stack):
        print("no MicroPython with %s at %s: run `make firmware`" % (args.stack, stack_device.binary(args.stack)),
              file=sys.stderr)
        return 2
    rtc_start = None if wall is None else wall - vclock.EPOCH_2000
    try:
        server, device = await stack_device.serve(args.stack, args.flash, args.port, rtc_start)
    except OSError as exc:
        print("cannot listen for hosts: %s (another simulator running? pick one with --port N and set "
              "E2MON_SIM_TRANSPORT=127.0.0.1:N for e2mon)" % exc, file=sys.stderr)
        return 2
    atexit.register(_kill, device)
    print("e2mon simulator: the firmware on MicroPython with %s, advertising on bumble's TCP link (port %d); "
          "flash in %s" % (args.stack, server.port, args.flash), flush=True)
    try:
        crashed = await _until_stopped_or_exited(args, stop, device.process.wait(),
                                                 lambda: "the device process exited (%s)" % device.process.returncode)
    finally:
        await device.stop()
        await server.close()
        atexit.unregister(_kill)
    return 1 if crashed else 0


async def _until_stopped_or_exited(args, stop, exited, why):
    """Serves until q (+ Enter, when stdin is a terminal), `stop` or the device's end (`exited`, awaited);
    True when the device ended first (why() says how)."""
    stop = stop or asyncio.Event()
    if not args.no_keyboard and sys.stdin.isatty():
        def keyboard():
            line = sys.stdin.readline()
            if not line or "q" in line:
                stop.set()
        asyncio.get_running_loop().add_reader(sys.stdin, keyboard)
        print("waiting for `e2mon --sim ...`  (q + Enter quits)")
    ended = asyncio.ensure_future(exited)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([ended, stopped], return_when=asyncio.FIRST_COMPLETED)
    crashed = ended.done()   # before the caller's stop() ends the device itself
    stopped.cancel()
    if crashed:
        print(why(), file=sys.stderr)
    return crashed


async def serve_chip(args, stop):
    """`serve --stack rp2040`: the Nano RP2040 Connect image on the emulated chip, NimBLE over its HCI UART to a
    bumble controller on the TCP link (sim/rp2040_radio.py). The chip's flash starts blank each time: the
    device key from --flash is copied onto it in safe mode, as provisioning would."""
    from sim import rp2040_radio
    problem = rp2040_radio.missing()
    if problem:
        print("cannot run the emulated RP2040: %s" % problem, file=sys.stderr)
        return 2
    with open(os.path.join(args.flash, KEY_FILE), "rb") as f:
        files = {KEY_FILE: f.read()}
    try:
        server, device = await rp2040_radio.serve(args.port, files)
    except OSError as exc:
        print("cannot listen for hosts: %s (another simulator running? pick one with --port N and set "
              "E2MON_SIM_TRANSPORT=127.0.0.1:N for e2mon)" % exc, file=sys.stderr)
        return 2
    print("e2mon simulator: the Nano RP2040 Connect image on an emulated RP2040 (MicroPython v1.28.0, NimBLE over "
          "UART1), advertising on bumble's TCP link (port %d)" % server.port, flush=True)
    try:
        crashed = await _until_stopped_or_exited(args, stop, asyncio.to_thread(device.chip.proc.wait),
                                                 lambda: "the emulator exited (%s)" % device.chip.proc.returncode)
    finally:
        await device.stop()
        await server.close()
    return 1 if crashed else 0


def _kill(device):
    """At exit, if serve_stack's own cleanup did not run: the device process (the current boot's) ends."""
    process = device.process
    if process is not None and process.returncode is None:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except OSError:
            pass


def main(args):
    try:
        return asyncio.run(serve_async(args))
    except KeyboardInterrupt:
        return 0
