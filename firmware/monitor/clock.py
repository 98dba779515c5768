"""The device's wall clock: day/minute/second since 2000-01-01, or None while unset.

The hardware RTC (machine.RTC API: datetime() -> (y, m, d, weekday, h, mi, s, sub)) may restart at its epoch
after power loss (Pico W), so a reading before MIN_VALID_DAY, or before the newest stored record, counts as
unset: the app shows "set time" and fires no reminder until a host sets the clock. The clock reads the RTC it
is given: the board's machine.RTC (main.py), device.soft_rtc.SoftRTC on ports without one.
"""
from micropython import const

from monitor.dates import civil_from_days, days_from_civil, weekday

MIN_VALID_DAY = const(8766)          # 2024-01-01: no board leaves the factory with a later valid clock
JUMP_LOG_SECONDS = const(300)        # a correction larger than this is logged as EVENT_CLOCK_SET
MAX_JUMP = const(0x3FFFFFFF)         # the logged jump is clamped to a small int
DAY_SECONDS = const(86400)


class Clock:
    def __init__(self, rtc):
        self.rtc = rtc
        self.floor_day = MIN_VALID_DAY   # raised to the newest stored record's day at boot

    def raw(self):
        """(day, second of day) as the RTC reads it, set or not."""
        t = self.rtc.datetime()
        try:
            day = days_from_civil(t[0], t[1], t[2])
        except ValueError:
            day = -1   # an RTC before 2000 (a 1970 epoch): certainly unset
        return day, t[4] * 3600 + t[5] * 60 + t[6]

    def now(self):
        """(day, minute, second) or None while the clock cannot be trusted."""
        day, second = self.raw()
        if day < self.floor_day:
            return None
        return day, second // 60, second % 60

    def is_set(self):
        return self.now() is not None

    def trust_after(self, day):
        """A clock reading earlier than a stored record's day went backwards: treat it as unset."""
        if day > self.floor_day:
            self.floor_day = day

    @staticmethod
    def check(day, minute, second):
        """True for a real time (the name is one the device has interned already)."""
        return 0 <= day <= 65535 and 0 <= minute < 1440 and 0 <= second < 60

    def set(self, day, minute, second):
        """Sets the RTC; returns (was_set, jump_seconds) with the jump clamped to a small int."""
        if not self.check(day, minute, second):
            raise ValueError("clock value out of range")
        was_set = self.is_set()
        old_day, old_second = self.raw()
        day_delta = day - old_day
        if day_delta > 12000:
            jump = MAX_JUMP
        elif day_delta < -12000:
            jump = -MAX_JUMP
        else:
            jump = day_delta * DAY_SECONDS + minute * 60 + second - old_second
        y, m, d = civil_from_days(day)
        self.rtc.datetime((y, m, d, weekday(day), minute // 60, minute % 60, second, 0))
        if day < self.floor_day:
            self.floor_day = MIN_VALID_DAY if day >= MIN_VALID_DAY else day
        return was_set, jump
