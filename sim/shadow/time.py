"""MicroPython's `time` for the firmware under CPython: ticks on the simulator's virtual clock.

Installed as sys.modules["time"] by sim.env.install(). Only what MicroPython adds is defined here (ticks_*,
sleep_ms, sleep_us) and sleep, which on a program's own thread (sim.board_thread) runs its bluetooth IRQs while
it waits, as a board's delay does (elsewhere: the real sleep): time(), gmtime(), localtime(), monotonic()... are
CPython's own, so bumble, asyncio and every host library imported later keep the host's real clock. The board's wall clock is its
RTC (machine.RTC on the virtual clock), which is what the firmware reads (monitor.clock).
"""
import time as _real

from sim import board_thread, vclock


def ticks_ms():
    return vclock.clock.ticks_ms()


def ticks_us():
    return vclock.clock.ticks_us()


ticks_cpu = ticks_us
ticks_add = vclock.ticks_add
ticks_diff = vclock.ticks_diff


def sleep_ms(ms):
    board_thread.sleep(ms / 1000)   # a program on its own thread gets its IRQs meanwhile, as on a board


def sleep_us(us):
    board_thread.sleep(us / 1000000)


def sleep(seconds):
    board_thread.sleep(seconds)


def __getattr__(name):
    return getattr(_real, name)
