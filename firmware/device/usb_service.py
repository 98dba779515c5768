# The same protocol frames over the USB serial port (COBS packets, monitor.framing), for wired pulls
# and for provisioning: only this endpoint accepts a new device key (physical access is the authority).
#
#   usb = UsbService(app, read, write, key_path=None)   # read() -> available bytes or b""; write(bytes)
#   usb.poll() -> frames sent                           # call from the event loop
#   await usb.run(interval_ms=20)                      # usb.active_ms: when it last answered a frame
#   read, write = stdio_port()                          # the board's USB CDC (sys.stdin/sys.stdout)
#
# On a board the port is also the REPL: stdio_port() turns Ctrl-C off (micropython.kbd_intr(-1)) since
# COBS packets may carry 0x03; safe mode at boot (a held button) keeps the REPL reachable.
import os

from monitor import framing, protocol
from monitor import session as sessions
from monitor.endpoint import Endpoint

USB_MTU = protocol.MAX_MTU   # frames sized as on BLE, so host code and tests see the same batches
IDLE_AFTER_MS = 5000         # without a frame for this long the port is polled every IDLE_POLL_MS
IDLE_POLL_MS = 200           # a host's first frame waits at most this long; then interval_ms again


def stdio_port():
    import sys
    import select
    try:
        import micropython
        micropython.kbd_intr(-1)
    except (ImportError, AttributeError):
        pass
    stdin = sys.stdin.buffer     # bytes: the text stream would hand read() a str
    stdout = sys.stdout.buffer
    poller = select.poll()
    poller.register(stdin, select.POLLIN)

    ready = getattr(poller, "ipoll", poller.poll)   # ipoll: MicroPython's poll without a list per call

    def waiting():
        for _ in ready(0):
            return True
        return False

    def read():
        if not waiting():
            return b""      # nothing waiting, nothing allocated: the idle loop asks many times a second
        out = bytearray()
        while len(out) < 256 and poller.poll(0):
            byte = stdin.read(1)
            if not byte:
                break
            out += byte
        return bytes(out)

    def write(data):
        stdout.write(data)

    return read, write


class UsbService:
    def __init__(self, app, read, write, key_path=None, random_bytes=None):
        if key_path is None:
            data_dir = getattr(app, "data_dir", None)
            key_path = (data_dir + "/" + sessions.KEY_FILE) if data_dir else sessions.KEY_FILE
        self.key_path = key_path
        self._read = read
        self._write = write
        self.endpoint = Endpoint(app, sessions.load_key(key_path), random_bytes or os.urandom,
                                 allow_provision=True, key_path=key_path)
        self.endpoint.connected(USB_MTU)
        self.reader = framing.FrameReader()
        self.active_ms = None   # ticks_ms() of the last frame answered

    def poll(self):
        return framing.serve_serial(self.endpoint, self.reader, self._read, self._write)

    async def run(self, interval_ms=20):
        import asyncio
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        import time
        wait = interval_ms
        while True:
            if self.poll():
                self.active_ms = time.ticks_ms()   # the runner does not idle while a host talks
                wait = interval_ms
            elif self.active_ms is None or time.ticks_diff(time.ticks_ms(), self.active_ms) > IDLE_AFTER_MS:
                wait = IDLE_POLL_MS
            if sleep_ms is not None:
                await sleep_ms(wait)
            else:
                await asyncio.sleep(wait / 1000)
