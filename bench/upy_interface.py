# The patient's interface for the device memory bench (bench/upy_device_heap.py, mode "ui"), on the
# MicroPython unix port: the runner and its UI draw on a real framebuf standing in for the SSD1306, and
# the patient opens the flags (plain words), one flag's detail and the reminders.
# A module of its own so that its names are interned only in runs that use it.
class Screen:
    """The board's SSD1306 as the UI sees it: a framebuf with show/poweron/poweroff."""

    def __init__(self):
        import framebuf
        self.buf = bytearray(128 * 64 // 8)
        self.fb = framebuf.FrameBuffer(self.buf, 128, 64, framebuf.MONO_VLSB)
        self.fill = self.fb.fill
        self.text = self.fb.text
        self.fill_rect = self.fb.fill_rect
        self.hline = self.fb.hline

    def show(self):
        pass

    def poweron(self):
        pass

    def poweroff(self):
        pass


class Pin:
    def value(self, v=None):
        return 1


class Board:
    def __init__(self):
        self.display = Screen()
        self.buttons = (Pin(), Pin(), Pin())
        self.signal = Pin()


def use_interface(app, svc):
    """The patient opens the flags, reads the first one in plain words, then the reminders; the runner
    checks reminders. Returns the runner (kept alive through the pull, as on the board)."""
    from device.runner import Runner
    from device import buttons as btn
    runner = Runner(Board(), app, svc)
    ui = runner.ui
    for button, gesture in ((btn.BUTTON_C, btn.PRESS), (btn.BUTTON_C, btn.PRESS), (btn.BUTTON_B, btn.PRESS),
                            (btn.BUTTON_B, btn.PRESS), (btn.BUTTON_B, btn.HOLD), (btn.BUTTON_C, btn.PRESS),
                            (btn.BUTTON_B, btn.PRESS), (btn.BUTTON_B, btn.HOLD)):
        ui.on_button(button, gesture)
        ui.render()
    runner.check_reminders()
    return runner
