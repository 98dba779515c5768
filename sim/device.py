"""A simulated e2mon: the unchanged firmware (main.build, monitor.app, device.runner, boards.pico_w) on the
shadow machine, with an OLED on its I2C bus, buttons driven through their pins and the virtual clock.

    dev = SimDevice("build/sim/flash")      # power-on: clock unset (a Pico W's RTC restarts at 2021-01-01)
    dev.boot()                              # main.build(): store mounted, state restored from the snapshot
    dev.set_clock(day, minute)              # what a host's time sync does (app.set_clock)
    dev.advance_to(day, minute)             # time warp: days pass in no time
    dev.press("B"); dev.press("B", hold=True)
    dev.screen_text(); dev.screenshot(path)
"""
import os

from sim import env, flash, oled, vclock

BUTTON_PINS = {"A": 14, "B": 15, "C": 16}      # boards.pico_w wiring
SIGNAL_PIN = 17
BATTERY_ADC = 29
PRESS_MS = 60
HOLD_MS = 900


class SimDevice:
    def __init__(self, data_dir, battery_mv=3950, wall_seconds=vclock.PICO_RTC_EPOCH):
        env.install()
        env.forget_firmware()
        import machine
        self.machine = machine
        machine.reset_state()
        self.clock = vclock.reset(wall_seconds, speed=1.0)
        self.data_dir = os.path.abspath(data_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        flash.DATA_DIR = self.data_dir
        self.slot, self.on_trial = self._select_version()
        self.oled = oled.SSD1306Device()
        machine.attach_i2c(0, 0x3C, self.oled)
        # VSYS/3 on ADC3, 3.3 V full scale
        machine.set_adc(BATTERY_ADC, battery_mv * 65535 // (3 * 3300))
        import board
        import main
        self.board = board
        self.main = main
        self.app = None
        self.runner = None
        self.safe_mode = False
        self.reset_requested = False

    def _select_version(self):
        """What main.py does first: an update's A/B slot on the flash goes ahead of firmware/ (update_boot)."""
        import sys
        import update_boot
        ota_dir = os.path.join(self.data_dir, "ota")
        slot, on_trial = update_boot.select(ota_dir)
        core = sys.modules.get("monitor")
        from_a_slot = os.sep + "ota" + os.sep in os.path.abspath(getattr(core, "__file__", None) or "")
        if slot or from_a_slot:
            env.forget_firmware(core=True)   # this version's own monitor package loads
        return slot, on_trial

    def boot(self, hold=None, with_ble=False):
        """Powers on; hold names a button held down at boot (safe mode). Returns the app or None."""
        if hold:
            self.machine.set_level(BUTTON_PINS[hold], 0)
        try:
            if self.main.safe_mode(self.board):
                self.safe_mode = True
                return None
        finally:
            if hold:
                self.machine.set_level(BUTTON_PINS[hold], 1)
        from device.runner import Runner
        resets = self.board.resets[0]
        self.app, ble_service = self.main.build(self.board, with_ble=with_ble)
        self.reset_requested = self.board.resets[0] != resets   # a failed self-test gives way at once
        self.runner = Runner(self.board, self.app, ble_service)
        self.runner.ui.render()
        return self.app

    def shutdown(self):
        if self.app is not None:
            self.app.save_snapshot()
            self.app.store.close()

    # -- time ------------------------------------------------------------------------------------------------
    def wall_day_minute(self):
        s = self.clock.wall_seconds() - vclock.EPOCH_2000
        return s // 86400, s % 86400 // 60

    def set_clock(self, day, minute=600, second=0):
        return self.app.set_clock(day, minute, second)

    def advance_to(self, day, minute=600):
        """Warps the virtual clock forward to day/minute (no-op if already past)."""
        target = vclock.EPOCH_2000 + day * 86400 + minute * 60
        now = self.clock.wall_ms() / 1000
        if target > now:
            self.clock.warp(target - now)

    # -- buttons and screen ------------------------------------------------------------------------------------
    def press(self, name, hold=False):
        """Presses a button through its pin and the firmware's debouncer; returns the event handled."""
        pin = BUTTON_PINS[name]
        buttons = self.runner.buttons
        self.machine.set_level(pin, 0)
        event = buttons.poll()
        if hold:
            self.clock.warp(HOLD_MS / 1000)
            event = buttons.poll() or event
        else:
            self.clock.warp(PRESS_MS / 1000)
        self.machine.set_level(pin, 1)
        event = buttons.poll() or event
        if event is not None:
            self.runner.ui.on_button(event[0], event[1])
        self.runner.ui.render()
        return event

    def press_sequence(self, names):
        """'B C C B' -> presses in order; a name ending in '!' is held (e.g. 'B!' goes home)."""
        for token in names.split():
            self.press(token.rstrip("!"), hold=token.endswith("!"))

    def screen_lines(self):
        return self.runner.ui.lines()

    def screen_text(self):
        self.runner.ui.dirty = True
        self.runner.ui.render()
        return self.oled.to_text()

    def screenshot(self, path):
        self.runner.ui.dirty = True
        self.runner.ui.render()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return self.oled.save_png(path)

    def buzzer_events(self):
        return [e for e in self.machine.output_log() if e[1] == SIGNAL_PIN and e[2] == 1]
