"""MicroPython's `time` for the firmware under CPython: ticks on the simulator's virtual clock.

Installed as sys.modules["time"] by sim.env.install(). Only what MicroPython adds is defined here (ticks_*,
sleep_ms, sleep_us): time(), gmtime(), localtime(), sleep(), monotonic()... are CPython's own, so bumble,
asyncio and every host library imported later keep the host's real clock. The board's wall clock is its
RTC (machine.RTC on the virtual clock), which is what the firmware reads (monitor.clock).
"""
import time as _real

from sim import vclock


def ticks_ms():
    return vclock.clock.ticks_ms()


def ticks_us():
    return vclock.clock.ticks_us()


ticks_cpu = ticks_us
ticks_add = vclock.ticks_add
ticks_diff = vclock.ticks_diff


def sleep_ms(ms):
    _real.sleep(ms / 1000)


def sleep_us(us):
    _real.sleep(us / 1000000)


def __getattr__(name):
    return getattr(_real, name)
