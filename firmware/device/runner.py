"""One asyncio event loop for the device: buttons, display, reminder checks, watchdog, BLE, idle sleep.

    run(board, app, ble_service=None, usb_service=None)     # never returns on a board
The loop's tasks sleep between events. With the screen off (after 30 s without a press), no central
connected and no USB host talking, the screen and button tasks wait and the idle task sleeps the board in
slices (device.power: lightsleep on the Pico W, the radio still advertising), looking at the buttons
between slices: the press that wakes the screen lights it at once and does nothing else. Once the app says an update is staged (app.update_staged) and the host has gone,
the loop ends and board.reset() restarts into the new version.
"""
import asyncio
import sys
import time

from micropython import const

from device import power
from device.ui import UI

# MicroPython's asyncio has sleep_ms; CPython's (the simulator) only sleep(seconds).
sleep_ms = getattr(asyncio, "sleep_ms", None) or (lambda ms: asyncio.sleep(ms / 1000))

BUTTON_POLL_MS = const(20)
SCREEN_TIMEOUT_MS = const(30000)
REMINDER_CHECK_MS = const(60000)
REMINDER_POLL_MS = const(1000)     # how soon a change is noticed
WATCHDOG_MS = const(8000)
RADIO_RETRY_MS = const(300000)     # a radio that would not start is tried again every 5 minutes
SIGNAL_BEEPS = const(3)


class Runner:
    def __init__(self, board, app, ble_service=None, usb_service=None):
        self.board = board
        self.app = app
        self.ble = ble_service
        self.usb = usb_service
        self.ui = UI(app, board.display)
        from device.buttons import Buttons
        self.buttons = Buttons(board.buttons)
        self.last_input_ms = time.ticks_ms()
        self.screen_on = True
        self.screen_woken = asyncio.Event()   # set while the screen is on: its tasks wait on it otherwise
        self.screen_woken.set()
        self._swallow = False           # the press that woke the screen: ignored until it ends
        self.signalled = set()          # (reminder, state, due day) already signalled since boot
        self.signal_count = 0
        self.reminder_checks = 0
        self.sleeps = 0
        self.wdt = None
        self.running = True
        self.radio_attempts = 0
        self.ui.radio = "off" if ble_service is None else "starting"
        if "update_boot" in sys.modules:   # a new version on trial says so once (main.py keeps the selector then)
            from monitor import update
            message = update.trial_message(app)
            if message is not None:
                self.ui.show_message(message)

    def ble_connected(self):
        return self.ble is not None and getattr(self.ble, "connected", False)

    async def buttons_task(self):
        while self.running:
            if not self.screen_on:
                await self.screen_woken.wait()      # idle_task watches the buttons meanwhile
            event = self.buttons.poll()
            if self._swallow and (event is not None or not self.buttons.any_pressed()):
                self._swallow = False               # the waking press ended: its gesture does nothing
                event = None
            if event is not None:
                self.last_input_ms = time.ticks_ms()
                self.ui.on_button(event[0], event[1])
            await sleep_ms(BUTTON_POLL_MS)

    def wake_on_press(self):
        """With the screen off: a button held down lights the screen now. Returns whether one was."""
        if not self.buttons.any_pressed():
            return False
        self.last_input_ms = time.ticks_ms()
        self._swallow = True
        self._screen(True)
        return True

    async def display_task(self):
        seen = -1
        while self.running:
            if not self.screen_on:
                await self.screen_woken.wait()
            if self.app.changed != seen:
                seen = self.app.changed
                self.ui.dirty = True
            if self.screen_on and time.ticks_diff(time.ticks_ms(), self.last_input_ms) > SCREEN_TIMEOUT_MS:
                self._screen(False)
            if self.screen_on:
                self.ui.render()
            await sleep_ms(100)

    def _screen(self, on):
        self.screen_on = on
        if on:
            self.screen_woken.set()
        else:
            self.screen_woken.clear()
        d = self.board.display
        if d is not None:
            if on:
                d.poweron()
                self.ui.dirty = True
            else:
                d.poweroff()

    def check_reminders(self):
        """Signals reminders that became due; an unset clock fires nothing. Returns the newly due ids."""
        self.reminder_checks += 1
        if self.app.clock_now() is None:
            return []
        fresh = []
        for r in self.app.due_reminders():
            # One signal per reminder cycle and state: a new due date or turning overdue signals again.
            key = (r[0], r[1], r[2])
            if key not in self.signalled:
                self.signalled.add(key)
                fresh.append(self.app.reminder_id(r))
        if fresh:
            self.signal_count += 1
            self.ui.dirty = True
        return fresh

    async def reminder_task(self):
        # Every minute, and within a second of a change (an entry, a clock set and logged by a host): a
        # reminder that an entry or a new time made due signals at once.
        seen = -1
        waited = REMINDER_CHECK_MS
        while self.running:
            if waited >= REMINDER_CHECK_MS or self.app.changed != seen:
                seen = self.app.changed
                waited = 0
                if self.check_reminders():
                    await self.beep()
            await sleep_ms(REMINDER_POLL_MS)
            waited += REMINDER_POLL_MS

    async def beep(self):
        pin = self.board.signal
        for _ in range(SIGNAL_BEEPS):
            pin.value(1)
            await sleep_ms(150)
            pin.value(0)
            await sleep_ms(150)

    async def watchdog_task(self):
        if self.wdt is None:        # main.boot arms it before the app on a version on trial
            self.wdt = self.board.watchdog(WATCHDOG_MS)
        while self.running:
            self.wdt.feed()
            await sleep_ms(WATCHDOG_MS // 2)   # fed twice per period: a late slice still lands in time

    def host_active(self):
        """A central connected, or a USB host that sent a frame within power.HOST_ACTIVE_MS."""
        if self.ble_connected():
            return True
        active = getattr(self.usb, "active_ms", None)
        return active is not None and time.ticks_diff(time.ticks_ms(), active) < power.HOST_ACTIVE_MS

    async def idle_task(self):
        # With the screen off and no host, the board sleeps in bursts of slices (the other tasks that came due
        # run between bursts) and a held button wakes the screen after the slice it was pressed in. Only
        # native calls in a slice's path: a Python call allocates its frame.
        from device import memory
        pins = self.board.buttons
        sleep = self.board.sleep_ms
        idling = False
        while self.running:
            slept = 0
            pressed = False
            if not self.screen_on:
                for pin in pins:
                    if pin.value() == 0:
                        pressed = True
                if pressed:
                    self.wake_on_press()
                elif not self.host_active():
                    if not idling:
                        idling = True
                        memory.idle(True)
                    self.sleeps += 1
                    start = time.ticks_ms()
                    slices = power.IDLE_BURST_SLICES
                    while slices and not pressed:     # the loop's other tasks wait for the burst's end
                        slices -= 1
                        sleep(power.IDLE_SLEEP_MS)
                        for pin in pins:
                            if pin.value() == 0:
                                pressed = True
                    slept = time.ticks_diff(time.ticks_ms(), start)
                    if pressed:
                        self.wake_on_press()
            if idling and (self.screen_on or pressed or self.host_active()):
                idling = False
                memory.idle(False)
            # A board that slept the slice only yields; one whose sleep returns at once (the simulator's
            # shadow board) waits here instead.
            await sleep_ms(power.IDLE_SLEEP_MS - slept if 0 <= slept < power.IDLE_SLEEP_MS else 0)

    def start_radio(self):
        """Starts BLE; a radio that fails (no CYW43 answer, a stack error) leaves the device logging and
        reminding without it. Returns True when it runs."""
        self.radio_attempts += 1
        if self.wdt is not None:
            self.wdt.feed()      # the stack's start may block for a while
        try:
            self.ble.start()
        except Exception as exc:   # any failure of the radio must not take the app down with it
            if self.radio_attempts == 1:   # once: the port also carries the USB protocol's packets
                print("e2mon: Bluetooth unavailable:", repr(exc))
            self.ui.radio = "unavailable"
            self.ui.dirty = True
            return False
        self.ui.radio = "on"
        self.ui.dirty = True
        return True

    async def radio_task(self):
        # Created after the screen's and buttons' tasks: the home screen is drawn before the radio starts.
        while self.running and not self.start_radio():
            await sleep_ms(RADIO_RETRY_MS)

    async def main(self):
        coroutines = [self.buttons_task(), self.display_task(), self.reminder_task(), self.watchdog_task(),
                      self.idle_task()]
        if self.ble is not None:
            coroutines.append(self.radio_task())
        if self.usb is not None:
            coroutines.append(self.usb.run())
        tasks = [asyncio.create_task(c) for c in coroutines]
        while self.running:
            await sleep_ms(500)
            if self.app.update_staged and not self.ble_connected():
                self.running = False    # an update is staged: restart into it once the host has gone
        for t in tasks:
            t.cancel()
        self.app.save_snapshot()
        if self.app.update_staged:
            self.board.reset()


def run(board, app, ble_service=None, usb_service=None, wdt=None):
    runner = Runner(board, app, ble_service, usb_service)
    runner.wdt = wdt
    asyncio.run(runner.main())
    return runner
