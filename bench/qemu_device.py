"""MicroPython on qemu's Cortex-M3 board (mps2-an385): the image `make firmware` builds
(build/firmware/qemu-mps2-an385.elf: firmware, core tests and the memory bench's harness frozen), a
32-bit heap of any size up to 512 KB chosen per run, and a flash that is a littlefs file on the host.

    RawRepl(heap, icount=False)               the REPL on qemu's UART (stdin/stdout), in raw mode
    launch(heap, args, icount=False)          a bench device (bench/device_central.run_device's launch)
"""
import os
import subprocess
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.path.join(ROOT, "build", "firmware", "qemu-mps2-an385.elf")
DEVICE_DIR = "/data"      # the bench device's store on its flash
RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n>"


class QemuError(Exception):
    """qemu or the REPL did not answer as expected; the message has what it printed."""


def command(heap, icount=False, image=None):
    """qemu for the image with `heap` (bytes, or "64K"): -monitor null leaves stdin/stdout to the UART
    alone (no ^A escapes), -semihosting gives the heap argument and the flash file; with icount, guest
    time counts instructions (1 ns each: ticks_us() x 1,000 = instructions)."""
    cmd = ["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-monitor", "null", "-semihosting",
           "-kernel", image or IMAGE, "-append", "heap=%s" % heap]
    if icount:
        cmd += ["-icount", "shift=0"]
    return cmd


def _start(heap, icount=False, timeout=600, image=None):
    if not os.path.exists(image or IMAGE):
        raise QemuError("%s is missing: run `make firmware`" % (image or IMAGE))
    proc = subprocess.Popen(command(heap, icount, image), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    # A run that hangs (an exception at the REPL waits for input forever) is ended; its reader sees EOF.
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.daemon = True
    watchdog.start()
    proc.watchdog = watchdog
    return proc


def _read_until(proc, marker):
    data = b""
    while not data.endswith(marker):
        byte = proc.stdout.read(1)
        if not byte:
            raise QemuError("qemu ended before %r: %s" % (marker, (data + proc.stderr.read()).decode(errors="replace")))
        data += byte
    return data[:-len(marker)]


def _enter_raw_repl(proc):
    proc.stdin.write(b"\r\x03\x01")   # ^C: stop anything; ^A: raw REPL
    proc.stdin.flush()
    _read_until(proc, RAW_PROMPT)


def _send_code(proc, code):
    proc.stdin.write(code.encode() + b"\x04")
    proc.stdin.flush()
    _read_until(proc, b"OK")


class RawRepl:
    """One qemu; exec() runs code and returns what it printed (raises QemuError with the traceback);
    soft_reset() starts a fresh interpreter with an empty heap and nothing mounted."""

    def __init__(self, heap, timeout=1800, image=None, icount=False):
        self.proc = _start(heap, icount=icount, timeout=timeout, image=image)
        _enter_raw_repl(self.proc)

    def exec(self, code):
        _send_code(self.proc, code)
        out = _read_until(self.proc, b"\x04")
        error = _read_until(self.proc, b"\x04>")
        if error:
            raise QemuError(error.decode(errors="replace").strip())
        return out.decode(errors="replace")

    def soft_reset(self):
        self.proc.stdin.write(b"\x04")
        self.proc.stdin.flush()
        _read_until(self.proc, RAW_PROMPT)

    def close(self):
        self.proc.watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def launch(heap, args, icount=False):
    """The memory bench's device (bench/upy_device_heap.py as _driver, started by upy/qemu_launch.py)
    with args [N, DIR, mode...]: DIR + ".lfs" on the host is its flash, mounted at / with the store in
    DEVICE_DIR. Returns the process with the driver running: its stdin/stdout are the radio."""
    args = list(args)
    if len(args) > 1 and args[1] != "-":
        flash = os.path.abspath(args[1]) + ".lfs"
        args[1] = DEVICE_DIR
    else:
        flash = "/tmp/e2mon-qemu-scratch.lfs"
    proc = _start(heap, icount=icount)
    _enter_raw_repl(proc)
    _send_code(proc, "import sys\nsys.argv[:] = %r\nimport _launch" % (["_launch", flash] + args))
    return proc
