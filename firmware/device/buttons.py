"""Three push buttons to GND (pull-ups): polled, debounced, turned into press / hold events.

Polling (not IRQs) keeps it one code path on both boards and in the simulator; the poll is cheap and the
event loop sleeps between polls.
"""
import time

from micropython import const

BUTTON_A = const(0)   # up / previous
BUTTON_B = const(1)   # select (hold: back to home)
BUTTON_C = const(2)   # down / next
BUTTON_NAMES = "ABC"

PRESS = const(0)
HOLD = const(1)

DEBOUNCE_MS = const(30)
HOLD_MS = const(800)


class Buttons:
    def __init__(self, pins):
        self.pins = pins
        self.count = len(pins)
        self._down_since = [None] * self.count   # type: list  # a ticks_ms() while down
        self._held = [False] * self.count

    def any_pressed(self):
        for pin in self.pins:
            if pin.value() == 0:
                return True
        return False

    def poll(self, now_ms=None):
        """Returns (button, PRESS/HOLD) for the first completed gesture, else None.

        A press is reported on release (so a hold is never also a press); a hold as soon as it lasts HOLD_MS.
        """
        if now_ms is None:
            now_ms = time.ticks_ms()
        event = None
        for i in range(self.count):
            down = self.pins[i].value() == 0
            since = self._down_since[i]
            if down:
                if since is None:
                    self._down_since[i] = now_ms
                elif not self._held[i] and time.ticks_diff(now_ms, since) >= HOLD_MS:
                    self._held[i] = True
                    if event is None:
                        event = (i, HOLD)
            elif since is not None:
                held = self._held[i]
                self._down_since[i] = None
                self._held[i] = False
                if not held and time.ticks_diff(now_ms, since) >= DEBOUNCE_MS and event is None:
                    event = (i, PRESS)
        return event
