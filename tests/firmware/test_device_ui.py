"""The patient's interface and the event loop, on the simulated board: buttons through their pins and the
firmware's debouncer, the screen through the SSD1306 on the I2C bus."""
import asyncio

import pytest

from sim import env

env.install()

from sim.device import SimDevice  # noqa: E402
from monitor import records, schedule  # noqa: E402
from monitor import protocol  # noqa: E402
from monitor import state as S  # noqa: E402

DAY = 9800


@pytest.fixture
def device(tmp_path):
    dev = SimDevice(str(tmp_path / "flash"))
    dev.boot()
    yield dev
    dev.shutdown()


def test_home_says_set_time_until_the_clock_is_set(device):
    assert device.screen_lines()[0] == "SET TIME"
    device.press_sequence("B")        # Log symptom without a clock
    assert "Clock not set" in " ".join(device.screen_lines())
    assert device.app.store.next_seq == 1
    device.set_clock(DAY, 600)
    device.press("B", hold=True)
    assert device.screen_lines()[0] == "2026-10-31"


def test_log_a_symptom_with_severity_in_five_presses(device):
    device.set_clock(DAY, 600)
    device.press_sequence("B C B C B")      # Log symptom, low libido, severity 1 -> 2, save
    assert device.screen_lines()[:3] == ["Saved:", "low libido", "moderate"]
    last = list(device.app.store.records(1))[-1]
    assert last[3:6] == (records.KIND_SYMPTOM, records.S_LIBIDO, 2)
    assert last[1:3] == (DAY, 600)


def test_a_short_press_is_not_a_hold_and_a_hold_goes_home(device):
    device.set_clock(DAY, 600)
    assert device.press("C") == (2, 0)       # BUTTON_C, PRESS
    device.press_sequence("B")               # Reminders screen
    assert device.screen_lines()[0] in ("Due:", "Reminders")
    assert device.press("B", hold=True) == (1, 1)   # BUTTON_B, HOLD
    assert device.screen_lines()[2] == "> Log symptom"


def test_reminder_acknowledged_from_the_buttons(device):
    device.set_clock(DAY - 30, 600)
    device.app.submit_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 30, 600)
    device.set_clock(DAY, 600)
    due = device.app.due_reminders()
    assert [r[schedule.M_ID] for r in due] == [schedule.M_RECHECK]
    fresh = device.runner.check_reminders()
    assert fresh == [schedule.M_RECHECK] and device.runner.check_reminders() == []   # one signal per cycle
    device.press_sequence("B! C B")          # Reminders
    assert device.screen_lines()[:2] == ["Due:", "> E2+T recheck"]
    device.press_sequence("B")               # the reminder: its actions
    assert device.screen_lines()[1] == "> Drawn"
    device.press_sequence("B")               # "Drawn": the result is awaited
    assert "Drawn: waiting for the result." in " ".join(device.screen_lines())
    assert device.app.due_reminders() == []
    last = list(device.app.store.records(1))[-1]
    assert last[3:6] == (records.KIND_EVENT, records.EVENT_ACK, schedule.M_RECHECK)


def test_a_drug_stopped_from_the_buttons_restarts_the_recheck(device):
    device.set_clock(DAY - 60, 600)
    device.app.submit_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 60, 600)
    device.set_clock(DAY, 600)
    device.press_sequence("A A B")           # up from "Log symptom": "Stop a drug" (before "Undo an entry")
    assert device.screen_lines()[:3] == ["Stop a drug:", "> anastrozole", "  testosterone"]
    device.press_sequence("B")
    assert device.screen_lines()[:3] == ["Stop anastrozole", "  Yes, stopped", "> No"]
    device.press_sequence("B")               # "No": back, nothing stored
    assert device.screen_lines()[0] == "Stop a drug:"
    stored = device.app.store.next_seq
    device.press_sequence("B A B")           # anastrozole, "Yes, stopped"
    assert "anastrozole stopped." in " ".join(device.screen_lines())
    assert device.app.store.next_seq == stored + 1
    last = list(device.app.store.records(1))[-1]
    assert last[3:6] == (records.KIND_DOSE, records.D_ANASTROZOLE, 0)
    recheck = [r for r in device.app.reminders_now() if r[schedule.M_ID] == schedule.M_RECHECK][0]
    assert recheck[schedule.M_DUE] == DAY + 28


def test_flags_in_plain_words_with_their_source(device):
    device.set_clock(DAY, 600)
    device.app.submit_entry(records.KIND_LAB, records.A_HCT, 548, 0, DAY, 600)
    device.press_sequence("B! C C B")        # Flags
    assert device.screen_lines()[:2] == ["Flags:", "> !Hematocrit"]
    device.press_sequence("B")
    text = " ".join(device.screen_lines())
    for _step in range(6):
        device.press("C")
        text += " " + " ".join(device.screen_lines())
    assert "54.8 %" in text and "clinician" in text and "Source:" in text
    assert "dose" not in text.lower()


def test_status_screen_shows_clock_sync_and_battery(device):
    device.set_clock(DAY, 600)
    device.press_sequence("B! C C C B")
    lines = device.screen_lines()
    assert lines[0] == "Clock: set" and lines[2] == "Sync: never"
    assert lines[5] == "Version: dev"      # a tree deployed from source; a build or a release says its own
    assert lines[6].startswith("Battery: ") and lines[6].endswith("%")
    assert lines[7] == "BLE: off"           # booted without a radio
    # what the SSD1306 received, read back through the font: the same lines
    device.screen_text()
    assert device.oled.text_lines() == lines


def test_screen_read_back_marks_the_cursor_line(device):
    device.screen_text()
    # list items sit one cell in (x = 8), as the UI draws them; the cursor's line is inverted
    assert device.oled.text_lines()[:4] == ["SET TIME", "", "> Log symptom", " Reminders (0)"]


def test_safe_mode_when_a_button_is_held_at_boot(tmp_path):
    dev = SimDevice(str(tmp_path / "flash"))
    assert dev.boot(hold="A") is None and dev.safe_mode
    assert dev.app is None


def test_event_loop_feeds_the_watchdog_and_sleeps_with_the_screen_off(device):
    device.set_clock(DAY, 600)
    runner = device.runner
    machine = device.machine

    async def run_a_while():
        task = asyncio.create_task(runner.main())
        await asyncio.sleep(0.3)
        device.clock.warp(31)                 # past the screen timeout, across the ticks_ms wrap
        await asyncio.sleep(0.6)
        runner.running = False
        await asyncio.wait_for(task, 3)

    asyncio.run(run_a_while())
    assert machine.stats["wdt_feeds"] >= 1 and machine.stats["wdt_expired"] == 0
    assert not runner.screen_on and not device.oled.on
    assert machine.stats["lightsleep_calls"] >= 1 and runner.sleeps >= 1
    assert runner.reminder_checks >= 1


def test_main_boots_the_board_with_ble_and_usb(tmp_path, monkeypatch):
    """firmware/main.py's board path: store, app, BLE service and USB service handed to the event loop."""
    dev = SimDevice(str(tmp_path / "flash"))
    import device.runner
    import device.usb_service
    started = {}
    monkeypatch.setattr(device.usb_service, "stdio_port", lambda: (lambda: b"", lambda data: None))
    monkeypatch.setattr(device.runner, "run", lambda board, app, ble, usb, wdt=None: started.update(
        board=board, app=app, ble=ble, usb=usb))
    dev.main.main()
    assert started["board"] is dev.board and started["app"].store is not None
    assert started["usb"].endpoint is not None
    # No radio attached in this test: the app still starts without BLE.
    assert started["ble"] is None or hasattr(started["ble"], "start")


def test_the_patient_voids_his_own_entry_of_today_from_the_menu(device):
    device.set_clock(DAY - 1, 600)
    device.app.submit_entry(records.KIND_SYMPTOM, records.S_MOOD, 2, 0, DAY - 1, 600)   # yesterday's
    device.set_clock(DAY, 600)
    clinic = device.app.submit_entry(records.KIND_LAB, records.A_HCT, 480, 0, DAY, 590, protocol.ROLE_CLINICIAN)
    assert clinic[0] == 0                        # the clinic's result of today
    device.press_sequence("B B C C B")           # severe joint pain (a slip: he meant moderate)
    joint = device.app.store.next_seq - 1
    assert device.app.tracker.st[S.SYM_DAY + records.S_JOINT] == DAY
    device.press("B", hold=True)
    device.press_sequence("A B")                 # home, up to the last item: Undo an entry
    lines = device.screen_lines()
    assert lines[0] == "Void which?" and lines[1:] == ["> 10:00 JOINT 3"], lines   # his own, of today only
    device.press_sequence("B")
    assert device.screen_lines()[1:] == ["  Yes, void it", "> No"]
    device.press_sequence("A B")
    assert device.screen_lines()[0] == "Voided:"
    last = list(device.app.store.records(joint))
    assert last[0][3:6] == (records.KIND_SYMPTOM, records.S_JOINT, 3)                   # kept in the log
    assert last[1][3:6] == (records.KIND_EVENT, records.EVENT_VOID, joint)
    assert device.app.tracker.st[S.SYM_DAY + records.S_JOINT] == -1      # it no longer counts
    device.press("B", hold=True)
    device.press_sequence("A B")
    assert "Nothing of yours" in " ".join(device.screen_lines())


def test_a_press_in_idle_only_wakes_the_screen(device):
    """With the screen off the loop sleeps in slices; a held button lights the screen after the slice it
    came in, and that press does not also move the cursor."""
    from sim.device import BUTTON_PINS
    device.set_clock(DAY, 600)
    runner = device.runner
    pin = BUTTON_PINS["C"]

    async def press_in_idle():
        task = asyncio.create_task(runner.main())
        await asyncio.sleep(0.3)
        device.clock.warp(31)                 # past the screen timeout
        await asyncio.sleep(0.4)
        assert not runner.screen_on
        sleeps = runner.sleeps
        device.machine.set_level(pin, 0)      # C held: "down" if it were handled as a press
        await asyncio.sleep(0.3)
        woke = runner.screen_on
        device.machine.set_level(pin, 1)
        await asyncio.sleep(0.3)
        runner.running = False
        await asyncio.wait_for(task, 3)
        return sleeps, woke

    sleeps, woke = asyncio.run(press_in_idle())
    assert sleeps >= 1 and woke and device.oled.on
    assert device.screen_lines()[2] == "> Log symptom"    # the cursor did not move
    device.press("C")                                     # the next press does
    assert device.screen_lines()[3].startswith(">")
