# The patient's interface for the device memory bench (bench/upy_device_heap.py, mode "ui"), on the
# MicroPython unix port: the runner and its UI draw on a real framebuf standing in for the SSD1306, and
# the patient opens the flags (plain words), one flag's detail and the reminders.
# A module of its own so that its names are interned only in runs that use it.
from _board_standin import Board   # tests/upy_shadow: the SSD1306 and pins the UI drives


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
