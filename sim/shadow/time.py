"""MicroPython's `time` for the firmware under CPython, on the simulator's virtual clock.

Installed as sys.modules["time"] by sim.shadow.install(); everything MicroPython lacks (monotonic,
perf_counter...) is forwarded to CPython's real module so bumble and asyncio keep working.
"""
import sys
import time as _real

from sim import vclock


def ticks_ms():
    return vclock.clock.ticks_ms()


def ticks_us():
    return vclock.clock.ticks_us()


ticks_cpu = ticks_us
ticks_add = vclock.ticks_add
ticks_diff = vclock.ticks_diff


def time():
    return vclock.clock.wall_seconds()


def time_ns():
    return vclock.clock.wall_ms() * 1000000


def gmtime(secs=None):
    t = _real.gmtime(vclock.clock.wall_seconds() if secs is None else secs)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday, t.tm_yday)


localtime = gmtime   # the device keeps local time in its RTC; no time zones on the board


def mktime(t):
    import calendar
    return calendar.timegm(tuple(t[:6]) + (0, 0, 0))


def sleep_ms(ms):
    _real.sleep(ms / 1000)


def sleep_us(us):
    _real.sleep(us / 1000000)


def sleep(seconds):
    _real.sleep(seconds)


def __getattr__(name):
    return getattr(_real, name)


sys.modules.setdefault("utime", sys.modules[__name__])
