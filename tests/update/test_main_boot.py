"""firmware/main.py's boot on a version on trial, under CPython with the shadow machine: the watchdog is
armed before anything else, and a failure anywhere after version selection (memory tuning, the board
module, safe mode, the app) rolls the trial back and resets into the confirmed version."""
import os

import pytest

import sim.env
from sim import flash as sim_flash

sim.env.install()
import update_boot  # noqa: E402


@pytest.fixture
def trial(tmp_path, monkeypatch):
    """A flash with version 9.9 staged in slot a, selected as this boot's trial; returns (main, ota dir)."""
    data_dir = str(tmp_path / "flash")
    ota = os.path.join(data_dir, "ota")
    os.makedirs(os.path.join(ota, "a"))
    update_boot.write_state(["", "a", 0, update_boot.STAGED, "9.9"], ota)
    sim_flash.DATA_DIR = data_dir
    import machine
    import main
    machine.reset_state()
    armed = []

    class RecordingWDT(machine.WDT):
        def __init__(self, id=0, timeout=5000):
            armed.append(timeout)
            super().__init__(id, timeout)

    monkeypatch.setattr(machine, "WDT", RecordingWDT)
    # main.give_way asks sys.modules for the selector; a device booted earlier in this process may have
    # dropped it there (main() does when not on trial)
    monkeypatch.setitem(__import__("sys").modules, "update_boot", update_boot)
    assert update_boot.select(ota) == ("a", True)   # what main.select_version does on the board
    yield main, ota, armed
    import sys
    sys.path.remove(os.path.join(ota, "a"))


def rolled_back(ota):
    return update_boot.read_state(ota) == ["", "", 0, update_boot.NOT_CONFIRMED, "9.9"]


@pytest.mark.parametrize("step", ["memory.tune", "load_board"])
def test_a_trial_that_fails_before_the_board_is_loaded_rolls_back_and_resets(trial, monkeypatch, step):
    main, ota, armed = trial
    import machine
    from device import memory

    def fail(*_args):
        assert armed, "the watchdog is armed before " + step
        raise MemoryError("boom")
    if step == "memory.tune":
        monkeypatch.setattr(memory, "tune", fail)
    else:
        monkeypatch.setattr(main, "load_board", fail)
    with pytest.raises(SystemExit):          # machine.reset(): the board module is not there to ask
        main.boot(True)
    assert machine.stats["resets"] == 1
    assert rolled_back(ota)


@pytest.mark.parametrize("failure", ["safe_mode raises", "safe_mode held", "start raises"])
def test_a_trial_that_fails_after_the_board_is_loaded_rolls_back_and_resets_the_board(trial, monkeypatch,
                                                                                       failure):
    main, ota, armed = trial

    def fail(*_args, **_kw):
        raise RuntimeError("boom")
    if failure == "safe_mode held":
        monkeypatch.setattr(main, "safe_mode", lambda board: True)
    else:
        monkeypatch.setattr(main, "safe_mode" if failure == "safe_mode raises" else "start", fail)
    import board
    resets = board.resets[0]
    if failure == "safe_mode held":
        assert main.boot(True) is None
    else:
        with pytest.raises(RuntimeError):
            main.boot(True)
    assert board.resets[0] == resets + 1 and armed == [main.TRIAL_WATCHDOG_MS]
    assert rolled_back(ota)


def boot_to_the_event_loop(main, monkeypatch, on_trial):
    """main.boot with the event loop replaced: the watchdog it was handed."""
    import device.runner
    import device.usb_service
    handed = {}
    monkeypatch.setattr(device.usb_service, "stdio_port", lambda: (lambda: b"", lambda data: None))
    monkeypatch.setattr(device.runner, "run", lambda board, app, ble, usb, wdt=None: handed.update(wdt=wdt))
    main.boot(on_trial)
    return handed["wdt"]


def test_the_armed_watchdog_reaches_the_event_loop(trial, monkeypatch):
    main, _ota, armed = trial
    wdt = boot_to_the_event_loop(main, monkeypatch, True)
    assert armed == [main.TRIAL_WATCHDOG_MS] and wdt.timeout == main.TRIAL_WATCHDOG_MS


def test_a_confirmed_version_arms_nothing_before_the_event_loop(trial, monkeypatch):
    main, _ota, armed = trial
    assert boot_to_the_event_loop(main, monkeypatch, False) is None and armed == []
