# A stand-in for the board module on the MicroPython unix port (what boards/esp32_devkit.py and
# boards/pico_w.py expose to the runner and UI): the SSD1306 as a real framebuf that counts its shows,
# and pins that hold a level. Used by tests/upy_device/ui_smoke.py and the memory bench's interface run.
import framebuf


class Screen(framebuf.FrameBuffer):
    def __init__(self):
        self.buf = bytearray(128 * 8)
        super().__init__(self.buf, 128, 64, framebuf.MONO_VLSB)
        self.shows = 0
        self.on = True

    def show(self):
        self.shows += 1

    def poweron(self):
        self.on = True

    def poweroff(self):
        self.on = False


class Pin:
    def __init__(self):
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v


class Board:
    def __init__(self):
        self.display = Screen()
        self.buttons = (Pin(), Pin(), Pin())
        self.signal = Pin()
