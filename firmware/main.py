# Boot: pick the board, offer safe mode, mount the store, restore state, run the device's event loop.
import sys


def filesystem_first():
    """The filesystem ('') before a ROMFS (/rom) on sys.path: the packages are on the filesystem only after
    a plain `e2mon deploy` (`deploy --romfs` removes them), so a ROMFS image left from before never wins."""
    if "/rom" in sys.path and "" in sys.path:
        sys.path.remove("")
        sys.path.insert(0, "")


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


def build(board, with_ble=True):
    """The store, app and BLE service for board, state restored; returns (app, ble_service or None)."""
    from monitor.store import Store
    from device.app import App
    from device.clock import Clock

    try:
        import os
        os.mkdir(board.DATA_DIR)
    except OSError:
        pass   # already there
    store = Store(board.DATA_DIR)
    app = App(store, Clock(board.rtc), board.DATA_DIR, board.battery)
    app.boot()
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


def start(board):
    import gc
    from device import runner
    from monitor.version import VERSION
    app, ble_service = build(board)
    usb = usb_service(app)
    gc.collect()
    free = gc.mem_free() if hasattr(gc, "mem_free") else -1   # -1: CPython (the simulator) has no fixed heap
    print("e2mon %s ready, %d bytes free" % (VERSION, free))  # on the serial console
    return runner.run(board, app, ble_service, usb)


def main():
    filesystem_first()   # before the first firmware import, so `device` comes from the deployed copy
    from device import memory
    memory.tune()        # before anything else allocates: keeps the heap in large free blocks
    board = load_board()
    if safe_mode(board):
        print("e2mon: safe mode (button held at boot), app not started")
        return None
    return start(board)


if __name__ == "__main__":
    main()
