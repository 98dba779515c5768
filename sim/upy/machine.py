# The board peripherals the firmware uses, for the MicroPython unix port (`python -m sim serve --stack
# btstack|nimble`): the port's own `machine` has no Pin, I2C, ADC, RTC or WDT. A file on the path wins
# over the built-in (machine is an extensible module), so boards/pico_w.py runs unchanged on top of it.
# The RTC restarts at the Pico W's epoch (2021-01-01) unless E2MON_RTC_START (seconds since 2000) says
# otherwise; the battery reads E2MON_BATTERY_MV (default 3950 mV) through the board's VSYS/3 divider.
# reset() ends the process with reboot.EXIT_CODE, which sim/stack_device.StackDevice restarts (a reboot);
# the RTC keeps running across it, as a board's does: its setting goes to the file E2MON_RTC_KEEP names.
import os
import time

import reboot
from device.soft_rtc import SoftRTC
from monitor.dates import days_from_civil

_PICO_RTC_START = 7671 * 86400     # 2021-01-01, days since 2000 * seconds per day
_rtc = [None]                      # the board's RTC, kept by reset()


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._level = 1 if value is None else value   # buttons pull up: 1 while not pressed

    def value(self, v=None):
        if v is None:
            return self._level
        self._level = 1 if v else 0
        return None

    def on(self):
        self._level = 1

    def off(self):
        self._level = 0

    def __call__(self, v=None):
        return self.value(v)


class I2C:
    def __init__(self, id, scl=None, sda=None, freq=400000):
        self.id = id

    def scan(self):
        return []    # no display on the bus: the firmware runs headless, as a board without its OLED

    def writeto(self, addr, buf, stop=True):
        raise OSError(19)   # ENODEV: nothing answers


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin):
        self.pin = pin

    def atten(self, value):
        pass

    def read_u16(self):
        mv = int(os.getenv("E2MON_BATTERY_MV") or 3950)
        return min(65535, mv * 65535 // (3 * 3300))


class RTC(SoftRTC):
    def __init__(self):
        super().__init__()
        start = os.getenv("E2MON_RTC_START")
        start = int(start) if start else _PICO_RTC_START
        t = time.gmtime()
        now = days_from_civil(t[0], t[1], t[2]) * 86400 + t[3] * 3600 + t[4] * 60 + t[5]
        self._offset_days = (start - now) // 86400
        self._offset_seconds = (start - now) % 86400
        kept = _read_kept()
        if kept is not None:                 # a reboot: the time it had, still running
            self._offset_days, self._offset_seconds = kept
        _rtc[0] = self


def _read_kept():
    path = os.getenv("E2MON_RTC_KEEP")
    try:
        with open(path) as f:
            days, seconds = f.read().split()
        return int(days), int(seconds)
    except (OSError, TypeError, ValueError):
        return None


def _keep_rtc():
    path = os.getenv("E2MON_RTC_KEEP")
    if path and _rtc[0] is not None:
        with open(path, "w") as f:
            f.write("%d %d" % (_rtc[0]._offset_days, _rtc[0]._offset_seconds))


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout

    def feed(self):
        pass


def lightsleep(ms=None):
    time.sleep_ms(ms or 0)


def idle():
    pass


def reset():
    _keep_rtc()
    raise SystemExit(reboot.EXIT_CODE)   # a reboot: StackDevice starts the firmware again
