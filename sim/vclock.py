"""The simulator's virtual clock: wall time and a 30-bit ticks counter that can be fast-forwarded.

Virtual time = real time elapsed x speed + everything warped. ticks_ms() wraps at 2**30 like a board's,
and starts TICKS_HEADROOM_MS before the wrap so every run crosses it early.
"""
import calendar
import time as _real

TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD >> 1
TICKS_HEADROOM_MS = 5000
EPOCH_2000 = 946684800
PICO_RTC_EPOCH = calendar.timegm((2021, 1, 1, 0, 0, 0))   # where a Pico W's RTC restarts after power loss


class VirtualClock:
    def __init__(self, wall_seconds=PICO_RTC_EPOCH, speed=1.0):
        self._real_start = _real.monotonic()
        self._speed = speed
        self._warped_ms = 0
        self._wall_base_ms = int(wall_seconds * 1000)
        self._ticks_base = TICKS_PERIOD - TICKS_HEADROOM_MS

    def elapsed_ms(self):
        """Virtual milliseconds since the clock was made (monotonic)."""
        return int((_real.monotonic() - self._real_start) * 1000 * self._speed) + self._warped_ms

    def warp(self, seconds):
        """Fast-forwards everything (wall clock and ticks) by seconds."""
        if seconds < 0:
            raise ValueError("time only warps forward; set the wall clock to go back")
        self._warped_ms += int(seconds * 1000)

    def set_speed(self, speed):
        now = self.elapsed_ms()
        self._real_start = _real.monotonic()
        self._warped_ms = now
        self._speed = speed

    def wall_ms(self):
        return self._wall_base_ms + self.elapsed_ms()

    def wall_seconds(self):
        return self.wall_ms() // 1000

    def set_wall(self, seconds):
        """What an RTC write does: the wall clock jumps, ticks do not."""
        self._wall_base_ms = int(seconds * 1000) - self.elapsed_ms()

    def ticks_ms(self):
        return (self._ticks_base + self.elapsed_ms()) & TICKS_MAX

    def ticks_us(self):
        return (self._ticks_base * 1000 + self.elapsed_ms() * 1000) & TICKS_MAX


real_gmtime = _real.gmtime   # CPython's struct_time, whatever `time` is later shadowed with


def real_ms():
    return int(_real.monotonic() * 1000)


def ticks_add(ticks, delta):
    return (ticks + delta) & TICKS_MAX


def ticks_diff(end, start):
    return ((end - start + TICKS_HALF) & TICKS_MAX) - TICKS_HALF


clock = VirtualClock()


def reset(wall_seconds=PICO_RTC_EPOCH, speed=1.0):
    """Replaces the shared clock (a fresh power-on); returns it."""
    global clock
    clock = VirtualClock(wall_seconds, speed)
    return clock
