"""A MicroPython program on the shadow as on a board: the program on its own thread (the board's main thread),
the radio (bumble on an asyncio loop) on another.

On a board and on the unix port a program that blocks in `time.sleep_ms` still gets its bluetooth IRQs: the
port's delay runs the scheduler's pending callbacks while it waits, and the stacks' events reach the handler
from there (the conformance peripheral's `while True: time.sleep_ms(100)` serves a central on both stacks).
Here the program's `time.sleep_ms`/`sleep_us`/`sleep` do the same: until the time is up they run the IRQs the
radio queued for the program, in order. What the program calls on `bluetooth` runs on the radio's loop while
the program waits for it, running its IRQs meanwhile; inside a handler the radio waits for (the radio is
parked), the calls run at once. So nothing deadlocks and nothing runs on two threads at a time.

    sim.env.install()                                               # the shadow modules, as for firmware
    program = BoardThread.start(path, loop, argv=("connectable",))   # runs path as __main__
    ...                                                             # the loop keeps running the radio
    program.stop()                                                  # SystemExit at its next wait
"""
import asyncio
import concurrent.futures
import queue
import runpy
import sys
import threading
import time as _real_time

_boards = {}     # thread ident -> BoardThread, for the shadow's time module and sim.bluetooth


class _Stop(BaseException):
    """Ends the program at its next wait (what a reset does to a board's main thread)."""


def current():
    """The BoardThread whose program runs on this thread, or None."""
    return _boards.get(threading.get_ident())


def sleep(seconds):
    """The shadow's time.sleep*: on a program's thread, run its IRQs until the time is up."""
    board = current()
    if board is None:
        _real_time.sleep(seconds)
    else:
        board.wait(seconds)


class BoardThread:
    def __init__(self, loop):
        self.loop = loop
        self.loop_thread = None
        self.thread = None
        self.error = None            # what ended the program, if it raised
        self.globals = None          # the program's globals, once it ended normally
        self.output = []
        self._pending = queue.Queue()
        self._parked = 0             # >0 while the radio waits for a handler on the program's thread
        self._stopping = False

    @classmethod
    def start(cls, path, loop, argv=()):
        """Run `path` as __main__ on its own thread; sim.env.install() first, so that its `import time`,
        `machine` and `bluetooth` get the shadows."""
        board = cls(loop)
        board.loop_thread = threading.get_ident()
        board.thread = threading.Thread(target=board._main, args=(path, list(argv)), daemon=True,
                                        name="board:" + path)
        board.thread.start()
        return board

    def _main(self, path, argv):
        _boards[threading.get_ident()] = self
        asyncio.events._set_running_loop(None)
        saved_argv = sys.argv
        sys.argv = [path] + argv
        try:
            self.globals = runpy.run_path(path, run_name="__main__")
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 - kept for the caller, as a board prints and stops
            self.error = exc
        finally:
            sys.argv = saved_argv
            _boards.pop(threading.get_ident(), None)

    def stop(self, timeout=5.0):
        self._stopping = True
        self._pending.put(None)
        if self.thread is not None:
            self.thread.join(timeout)

    @property
    def alive(self):
        return self.thread is not None and self.thread.is_alive()

    # ---- the program's side ---------------------------------------------------------------------------
    def wait(self, seconds):
        """Run queued IRQs until `seconds` have passed."""
        deadline = _real_time.monotonic() + seconds
        while True:
            self._run_pending(max(0.0, deadline - _real_time.monotonic()))
            if _real_time.monotonic() >= deadline:
                return

    def _run_pending(self, timeout):
        if self._stopping:
            raise _Stop()
        try:
            item = self._pending.get(timeout=timeout) if timeout > 0 else self._pending.get_nowait()
        except queue.Empty:
            return
        if item is None:
            raise _Stop()
        function, args, result = item
        try:
            result.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed back to the radio's side
            result.set_exception(exc)

    def call(self, function, *args):
        """From the program's thread: run function(*args) on the radio's loop and return what it returns."""
        if self._parked:
            asyncio.events._set_running_loop(self.loop)   # the loop waits for this very handler
            try:
                return function(*args)
            finally:
                asyncio.events._set_running_loop(None)
        result = concurrent.futures.Future()

        def run():
            try:
                result.set_result(function(*args))
            except BaseException as exc:  # noqa: BLE001 - raised again on the program's thread
                result.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        while not result.done():
            self._run_pending(0.002)
        return result.result()

    # ---- the radio's side -----------------------------------------------------------------------------
    def deliver(self, function, *args):
        """From the radio's loop: run function(*args) on the program's thread (at its next wait) and
        return what it returns; the loop waits meanwhile, as a stack waits for its event handler."""
        if not self.alive:
            return None
        result = concurrent.futures.Future()
        self._parked += 1
        try:
            self._pending.put((function, args, result))
            while not result.done():
                try:
                    return result.result(timeout=0.05)
                except concurrent.futures.TimeoutError:
                    if not self.alive:
                        return None
            return result.result()
        finally:
            self._parked -= 1
