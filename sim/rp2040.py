"""The Pico W firmware image (build/firmware/e2mon-pico_w.uf2) on an emulated RP2040: npm rp2040js, run by
sim/rp2040_emulator.mjs, with the board's flash, USB serial, SSD1306 and buttons around it.

    with Rp2040() as chip:                    # power-on; Rp2040(hold="A"): safe mode, the REPL stays free
        chip.wait_for_home()                  # the app drew its home screen: {"ms", "cycles"} since boot
        chip.press("B"); chip.press("B", hold=True)
        chip.screen_text(); chip.screenshot(path)   # decoded by sim/oled.py's SSD1306Device, as in the simulator
        port = chip.usb_url()                 # socket://127.0.0.1:N, the USB serial port for pyserial
        chip.raw_repl(); chip.raw_exec("print(1)")   # the raw REPL (safe mode only: the app owns the port)
        chip.put_file("local.py", "/remote.py")
        chip.reboot(hold=None)                # power cycle: RAM lost, flash (littlefs) kept
        chip.stats()                          # {"cycles": since boot, "ms": simulated time since boot}
        chip.presses, chip.screen_wakes       # (ms, cycles) of each button press and display switched on

Simulated time runs at the wall clock's pace while the chip idles (speed=1, like a board) or up to `speed`
times faster; while it computes, it runs as fast as the emulator can (cycles at 125 MHz). Cycles over
simulated time is the core's awake fraction (the rest it waits in WFI/WFE: bench/bench_energy.py).
"""
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

from sim import oled
from sim.device import BUTTON_PINS, HOLD_MS, PRESS_MS, SIGNAL_PIN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UF2 = os.path.join(ROOT, "build", "firmware", "e2mon-pico_w.uf2")
BOOTROM = os.path.join(ROOT, "build", "rp2", "src", "rp2040-bootrom", "bootrom-b1.bin")
EMULATOR = os.path.join(ROOT, "sim", "rp2040_emulator.mjs")
STAMPED = os.path.join(ROOT, "build", "rp2", "frozen", "monitor", "version.py")   # what upy/rp2.sh froze
NODE_MODULES = os.path.join(ROOT, "node_modules", "rp2040js")
CLOCK_HZ = 125000000
CHIP_PRESS_MS = 4 * PRESS_MS    # 240 ms: longer than an idle slice (device.power.IDLE_SLEEP_MS)
HOME_ITEM = "> Log symptom"     # the home screen's first item, under the cursor after boot


def image_version():
    """The version the image was built with (host_tools.firmware_version stamped it into the frozen tree)."""
    namespace = {}
    with open(STAMPED) as f:
        exec(f.read(), namespace)
    return namespace["VERSION"]


class EmulatorError(RuntimeError):
    pass


def missing(uf2=UF2, make_target="make firmware-rp2"):
    """What is missing to run the image, in words, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    for path, how in ((NODE_MODULES, "npm ci"), (uf2, make_target), (BOOTROM, "make firmware-rp2")):
        if not os.path.exists(path):
            return "%s is missing (%s)" % (os.path.relpath(path, ROOT), how)
    return None


class Rp2040:
    """The Pico W image by default. A board with its radio module on an HCI UART (sim/rp2040_radio.py) passes
    hci_uart (the UART's number: a second TCP port, .hci_port, carries its H4 bytes), radio_reset (the
    module's reset pin: its level changes come to on_pin) and its flash size. The Pico W with its CYW43439
    modelled (sim/pico_w_air.py) passes cyw43_hci_port: the TCP port of the controller the model's HCI
    goes to."""

    def __init__(self, uf2=UF2, hold=None, speed=1.0, bootrom=BOOTROM, flash_mb=2, hci_uart=None,
                 radio_reset=None, on_pin=None, cyw43_hci_port=None):
        problem = missing() if uf2 == UF2 else None
        if problem:
            raise EmulatorError(problem)
        argv = ["node", EMULATOR, "--bootrom", bootrom, "--uf2", uf2, "--speed", str(speed),
                "--flash-mb", str(flash_mb)]
        if hold:
            argv += ["--hold", str(BUTTON_PINS[hold])]
        if cyw43_hci_port is not None:   # the CYW43 modelled (sim/cyw43_model.mjs), its HCI to this TCP port
            argv += ["--cyw43", "--hci-port", str(cyw43_hci_port)]
        if hci_uart is not None:
            argv += ["--hci-uart", str(hci_uart), "--radio-reset", str(radio_reset),
                     "--watch", "%d,%d" % (SIGNAL_PIN, radio_reset)]
        self.on_pin = on_pin       # called (pin, level, ms) from the reader thread
        self.oled = oled.SSD1306Device()
        self.boots = []            # why the chip (re)started: "power", "reboot", "watchdog"
        self.home = None           # {"ms", "cycles"} since boot when the home screen was first drawn
        self.signal = []           # (simulated ms, level) of the buzzer/LED pin
        self.signal_cycles = []    # the core's cycles since boot at each of those
        self.radio_power = []      # (simulated ms, level) of WL_ON (GP23): the firmware powering the CYW43
        self.presses = []          # (simulated ms, cycles) since boot when a button went down
        self.screen_wakes = []     # (simulated ms, cycles) since boot when the app switched the display on
        self.events = queue.Queue()
        self._lock = threading.Lock()
        self._sock = None
        self._serial = bytearray()
        self._next_id = 0
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read_events, daemon=True)
        self._reader.start()
        self.hci_port = self._wait_event("hci", 30)["port"] if hci_uart is not None else None
        self.usb_port = self._wait_event("usb", 30)["port"]

    # -- the emulator process -------------------------------------------------------------------------------
    def _read_events(self):
        for line in self.proc.stdout:
            event = json.loads(line)
            kind = event["event"]
            if kind == "i2c":
                with self._lock:
                    frames = self.oled.frames
                    was_on = self.oled.on
                    self.oled.write(bytes.fromhex(event["data"]))
                    if self.oled.on and not was_on:
                        self.screen_wakes.append((event["ms"], event["cycles"]))
                    if self.home is None and self.oled.frames != frames and HOME_ITEM in self.oled.text_lines():
                        self.home = {"ms": event["ms"], "cycles": event["cycles"]}
                        self.events.put({"event": "home"})
                continue
            if kind == "boot":
                self.boots.append(event["reason"])
                with self._lock:
                    self.home = None
            elif kind == "pin":
                if event["pin"] == SIGNAL_PIN:
                    self.signal.append((event["ms"], event["value"]))
                    self.signal_cycles.append(event["cycles"])
                else:
                    self.radio_power.append((event["ms"], event["value"]))
                if self.on_pin is not None:
                    self.on_pin(event["pin"], event["value"], event["ms"])
            elif kind == "pressed":
                self.presses.append((event["ms"], event["cycles"]))
            self.events.put(event)
        self.events.put({"event": "exit"})

    def _wait_event(self, kind, timeout, match=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EmulatorError("no %s event from the emulated RP2040 within %s s" % (kind, timeout))
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event["event"] == "exit":
                raise EmulatorError("the emulator exited (status %s)" % self.proc.wait())
            if event["event"] == kind and (match is None or match(event)):
                return event

    def command(self, **message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def stats(self, timeout=30):
        self._next_id += 1
        wanted = self._next_id
        self.command(cmd="stats", id=wanted)
        event = self._wait_event("stats", timeout, lambda e: e["id"] == wanted)
        return {"cycles": event["cycles"], "ms": event["ms"]}

    def set_speed(self, speed):
        self.command(cmd="speed", value=speed)

    def reboot(self, hold=None, timeout=30):
        """A power cycle that keeps the flash; the USB connection is dropped like an unplugged cable."""
        self.close_usb()
        self.command(cmd="reboot", hold=[BUTTON_PINS[hold]] if hold else [])
        self._wait_event("boot", timeout, lambda e: e["reason"] == "reboot")

    def close(self):
        self.close_usb()
        if self.proc.poll() is None:
            try:
                self.command(cmd="quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- buttons and screen ---------------------------------------------------------------------------------
    def press(self, name, hold=False, timeout=60, after_ms=0):
        """Holds a button down (HOLD_MS for a hold) and lets it go, in simulated time, after_ms from now. The
        app polls the buttons every 20 ms, between idle slices with the screen off: a press outlasts both."""
        pin = BUTTON_PINS[name]
        self.command(cmd="press", pin=pin, ms=HOLD_MS if hold else CHIP_PRESS_MS, gap=CHIP_PRESS_MS,
                     after=after_ms)
        self._wait_event("released", timeout, lambda e: e["pin"] == pin)

    def press_sequence(self, names):
        """'B C C B' -> presses in order; a name ending in '!' is held (as SimDevice.press_sequence)."""
        for token in names.split():
            self.press(token.rstrip("!"), hold=token.endswith("!"))

    def wake(self):
        """A press that only wakes the screen if it went dark (30 s without a press)."""
        with self._lock:
            dark = not self.oled.on
        if dark:
            self.press("A")

    def wait_for_home(self, timeout=300):
        """Waits for the app's home screen after the last boot; returns {"ms", "cycles"} since that boot."""
        if self.home is None:
            self._wait_event("home", timeout)
        return self.home

    def wait_for_screen(self, predicate=None, timeout=120):
        """Waits until the screen's text (see screen_text) satisfies predicate (default: anything drawn)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                frames = self.oled.frames
            if frames and (predicate is None or predicate(self.screen_text())):
                return self.screen_text()
            time.sleep(0.05)
        raise EmulatorError("the screen did not show what was expected within %s s:\n%s"
                            % (timeout, self.screen_text()))

    def screen_text(self):
        with self._lock:
            return self.oled.to_text()

    def screenshot(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with self._lock:
            return self.oled.save_png(path)

    def beeps(self):
        """Times (simulated ms) the signal pin went high."""
        return [ms for ms, level in self.signal if level]

    def radio_starts(self):
        """Times (simulated ms) the firmware powered the radio chip up (WL_ON high)."""
        return [ms for ms, level in self.radio_power if level]

    def wait(self, predicate, what, timeout=120):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise EmulatorError("%s did not happen within %s s" % (what, timeout))
            if self.proc.poll() is not None:
                raise EmulatorError("the emulator exited (status %s)" % self.proc.returncode)
            time.sleep(0.05)

    # -- USB serial -------------------------------------------------------------------------------------------
    def usb_url(self):
        return "socket://127.0.0.1:%d" % self.usb_port

    def _usb(self):
        if self._sock is None:
            self._sock = socket.create_connection(("127.0.0.1", self.usb_port), timeout=5)
            self._serial = bytearray()
        return self._sock

    def close_usb(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def write(self, data):
        self._usb().sendall(data)

    def read_until(self, ending, timeout=60):
        sock = self._usb()
        deadline = time.monotonic() + timeout
        while ending not in self._serial:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EmulatorError("no %r on the USB serial port within %s s; got %r"
                                    % (ending, timeout, bytes(self._serial[-300:])))
            sock.settimeout(min(left, 1.0))
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                raise EmulatorError("the USB serial port closed")
            self._serial += chunk
        end = self._serial.index(ending) + len(ending)
        out = bytes(self._serial[:end])
        del self._serial[:end]
        return out

    def read_available(self, wait=0.2):
        """Everything the chip printed on the USB serial port that no read_until took yet (text)."""
        sock = self._usb()
        sock.settimeout(wait)
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                self._serial += chunk
        except socket.timeout:
            pass
        out = bytes(self._serial)
        del self._serial[:]
        return out.decode("utf-8", "replace")

    def raw_repl(self, timeout=120):
        """Enters MicroPython's raw REPL (Ctrl-C, Ctrl-A); the app must not own the port (safe mode)."""
        self.write(b"\r\x03\x03")
        time.sleep(0.2)
        self.write(b"\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", timeout)

    def put_file(self, path, name, chunk=1024):
        """Copies a local file onto the chip's filesystem through the raw REPL."""
        with open(path, "rb") as f:
            data = f.read()
        self.raw_exec("f = open(%r, 'wb')" % name)
        for i in range(0, len(data), chunk):
            self.raw_exec("f.write(%r)" % data[i:i + chunk])
        self.raw_exec("f.close()")

    def raw_exec(self, code, timeout=120):
        """Runs code in the raw REPL; returns its output; raises EmulatorError with the board's traceback."""
        self.write(code.encode() + b"\x04")
        head = self.read_until(b"OK", timeout)
        if not head.endswith(b"OK"):
            raise EmulatorError("raw REPL did not accept the code: %r" % head)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", timeout)
        if err:
            raise EmulatorError("the board raised:\n%s" % err.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace")
