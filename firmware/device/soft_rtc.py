"""machine.RTC's datetime() over time.gmtime(), for ports without an RTC: the unix port (sim/upy/machine.py's
RTC, the memory bench, tests/upy_device) and the qemu image's bench driver."""
import time

from monitor.clock import DAY_SECONDS
from monitor.dates import civil_from_days, days_from_civil, weekday


class SoftRTC:
    def __init__(self):
        self._offset_days = 0
        self._offset_seconds = 0

    def _raw(self):
        t = time.gmtime()
        return days_from_civil(t[0], t[1], t[2]), t[3] * 3600 + t[4] * 60 + t[5]

    def datetime(self, value=None):
        day, second = self._raw()
        if value is None:
            second += self._offset_seconds
            day += self._offset_days + second // DAY_SECONDS
            second %= DAY_SECONDS
            y, m, d = civil_from_days(day)
            return (y, m, d, weekday(day), second // 3600, second // 60 % 60, second % 60, 0)
        self._offset_days = days_from_civil(value[0], value[1], value[2]) - day
        self._offset_seconds = value[4] * 3600 + value[5] * 60 + value[6] - second
