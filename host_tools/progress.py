"""A one-line progress bar for pulls: records, rate, time left.

`Progress(total, out)`; `advance(n)` after each stored batch; `finish()`.
Redraws at most every `interval` seconds, on a terminal only (a pipe or a log
gets the final line alone).
"""
import sys
import time


def format_duration(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
    return "%d:%02d" % (seconds // 60, seconds % 60)


class Progress:
    WIDTH = 24

    def __init__(self, total, out=None, interval=0.2, clock=time.monotonic, live=None, unit="records",
                 rate_unit="rec"):
        self.unit = unit
        self.rate_unit = rate_unit
        self.total = max(0, total)
        self.done = 0
        self.out = out if out is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._drawn = 0.0
        self.live = live if live is not None else bool(getattr(self.out, "isatty", lambda: False)())

    def rate(self, now=None):
        elapsed = (self.clock() if now is None else now) - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self, now=None):
        rate = self.rate(now)
        fraction = self.done / self.total if self.total else 1.0
        filled = int(self.WIDTH * min(1.0, fraction))
        left = (self.total - self.done) / rate if rate > 0 and self.total > self.done else 0.0
        return "[%s%s] %d/%d %s  %.0f %s/s  %s left" % (
            "#" * filled, "." * (self.WIDTH - filled), self.done, self.total, self.unit, rate, self.rate_unit,
            format_duration(left))

    def advance(self, count):
        self.done += count
        now = self.clock()
        if self.live and now - self._drawn >= self.interval:
            self._drawn = now
            self.out.write("\r" + self.line(now))
            self.out.flush()

    def finish(self):
        now = self.clock()
        elapsed = now - self.started
        if self.live:
            self.out.write("\r" + self.line(now) + "\n")
            self.out.flush()
        return elapsed
