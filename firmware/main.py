# Boot: pick the board, offer safe mode, mount the store, restore state, run the device's event loop.
import sys


def filesystem_first():
    """The filesystem ('') before a ROMFS (/rom) on sys.path: the packages are on the filesystem only after
    a plain `e2mon deploy` (`deploy --romfs` removes them), so a ROMFS image left from before never wins."""
    if "/rom" in sys.path and "" in sys.path:
        sys.path.remove("")
        sys.path.insert(0, "")


def select_version():
    """An update on trial, else the confirmed one, else the deployed copy: its slot goes first on sys.path
    (update_boot, which is never part of an update, decides before any other firmware module loads)."""
    try:
        import update_boot
        return update_boot.select()
    except Exception as exc:   # absent, or a selector that fails: the deployed copy is always whole
        if not isinstance(exc, ImportError):
            print("e2mon: version selection failed (%r): deployed copy" % (exc,))
        return "", False


def check_trial(app, board):
    """A version on trial tests itself before it may confirm itself; False: it failed and gave up its
    place, so the caller restarts into the previous version."""
    update_boot = sys.modules.get("update_boot")
    if update_boot is None or not update_boot.booted()[1]:
        return True
    from monitor import selftest
    from monitor.app import PROFILE_FILE
    failed = selftest.run(app, board.DATA_DIR + "/" + PROFILE_FILE)
    if failed is None:
        return True                 # the first session it accepts confirms it (monitor.update.proof)
    print("e2mon: new version failed its self-test (%s): back to the previous one" % failed)
    update_boot.rollback(update_boot.SELFTEST_FAILED)
    return False


def boot_selector():
    """update_boot, imported again if main() dropped it: the app hands this to monitor.update, which needs the
    selector only once an update arrives."""
    import update_boot
    return update_boot


def load_board():
    if sys.platform == "esp32":
        from boards import esp32_devkit as board
    elif sys.platform == "rp2":
        from boards import pico_w as board
    else:
        import board   # the simulator puts its own board module on the path
    return board


def safe_mode(board):
    """A button held at power-on skips the app so the REPL stays free for recovery."""
    for pin in board.buttons:
        if pin.value() == 0:
            return True
    return False


def build(board, with_ble=True, wdt=None):
    """The store, app and BLE service for board, state restored; returns (app, ble_service or None). wdt: a
    watchdog already armed (a version on trial), fed around the long steps."""
    from monitor.store import Store
    from monitor.app import App
    from monitor.clock import Clock

    try:
        import os
        os.mkdir(board.DATA_DIR)
    except OSError:
        pass   # already there
    store = Store(board.DATA_DIR)
    app = App(store, Clock(board.rtc), board.DATA_DIR, board.battery, board_name=board.NAME,
              boot_selector=boot_selector, flash_bytes=getattr(board, "FLASH_BYTES", 0))
    if wdt is not None:
        wdt.feed()
    app.boot()
    if wdt is not None:
        wdt.feed()                  # the self-test replays a fixed vector: it may take a while
    if not check_trial(app, board):
        board.reset()
        return app, None
    ble_service = None
    if with_ble:
        try:
            import bluetooth
            from device.ble_service import BleService
            ble_service = BleService(bluetooth.BLE(), app, secure_link=board.BLE_SECURE_LINK)
        except (ImportError, OSError) as exc:
            # A build or board without a working radio still logs and reminds.
            print("e2mon: BLE not started:", exc)
    return app, ble_service


def usb_service(app):
    """Wired pulls and provisioning over the board's USB serial (the REPL port; safe mode keeps the REPL)."""
    from device.usb_service import UsbService, stdio_port
    read, write = stdio_port()
    return UsbService(app, read, write)


def start(board, wdt=None):
    import gc
    from device import runner
    from monitor.version import VERSION
    app, ble_service = build(board, wdt=wdt)
    usb = usb_service(app)
    gc.collect()
    free = gc.mem_free() if hasattr(gc, "mem_free") else -1   # -1: CPython (the simulator): no fixed heap
    print("e2mon %s ready, %d bytes free" % (VERSION, free))  # on the serial console
    return runner.run(board, app, ble_service, usb, wdt)


TRIAL_WATCHDOG_MS = 8000   # device.runner's WATCHDOG_MS (not imported: the trial's own device package may fail)


def give_way(board):
    """A version on trial that cannot run gives way at once: the confirmed one boots next."""
    update_boot = sys.modules.get("update_boot")
    if update_boot is not None and update_boot.booted()[1]:
        update_boot.rollback(update_boot.NOT_CONFIRMED)
        if board is not None:
            board.reset()
        else:                       # the board module itself failed
            import machine
            machine.reset()


def boot(on_trial):
    """Everything after version selection. On trial, the watchdog is armed first (a hang resets, and the
    reset boots the confirmed version), and any failure, in the app or before it (memory, the board module,
    safe mode), rolls the trial back and resets."""
    wdt = None
    board = None
    try:
        if on_trial:
            import machine
            wdt = machine.WDT(timeout=TRIAL_WATCHDOG_MS)
        from device import memory
        memory.tune()        # before anything else allocates: keeps the heap in large free blocks
        board = load_board()
        if safe_mode(board):
            if on_trial:     # an armed watchdog cannot be stopped at the REPL: safe mode is the old version's
                print("e2mon: safe mode on a trial version: back to the previous one")
                give_way(board)
            print("e2mon: safe mode (button held at boot), app not started")
            return None
        return start(board, wdt)
    except Exception as exc:
        print("e2mon: start failed: %r" % (exc,))   # on the console: a trial that gives way says why
        give_way(board)
        raise


def main():
    filesystem_first()   # before the first firmware import, so `device` comes from the deployed copy
    on_trial = select_version()[1]   # ... or from an update's slot, ahead of both
    if not on_trial:
        # Not on trial: nothing needs the selector until an update arrives, which imports it again (its
        # defaults are this board's; the running slot is then the confirmed one). About 1.8 KB of heap.
        sys.modules.pop("update_boot", None)
    return boot(on_trial)


if __name__ == "__main__":
    main()
