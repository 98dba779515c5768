"""The Pico W firmware image (build/firmware/e2mon-pico_w.uf2, `make firmware-rp2`) booted on an emulated
RP2040 (rp2040js): the app from power-on with no radio, the screen and buttons, the USB protocol, safe
mode's REPL, the core tests and the store on the image's own littlefs flash across a power cycle."""
import asyncio
import datetime
import os

import pytest

from host_tools import firmware_version, host_crypto
from host_tools.device_link import DeviceLink
from host_tools.serial_link import SerialClient
from monitor import dates, protocol, records
from sim import rp2040

ROOT = rp2040.ROOT
KEY = bytes(range(32))
DAY = dates.days_from_civil(2026, 11, 2)
SCREENSHOTS = os.path.join(ROOT, "build", "rp2040")


def lines_of(chip):
    return chip.oled.text_lines()


def wait_lines(chip, predicate, timeout=120):
    chip.wait_for_screen(lambda _text: predicate(lines_of(chip)), timeout)
    return lines_of(chip)


@pytest.fixture(scope="module")
def app_chip():
    """The image from power-on: main.py starts the app; the CYW43 radio is not emulated."""
    with rp2040.Rp2040() as chip:
        yield chip


def run(coro, timeout=300):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_app_starts_at_power_on_without_radio_and_says_so(app_chip):
    chip = app_chip
    home = wait_lines(chip, lambda ls: "Log symptom" in " ".join(ls))
    assert home[0] == "SET TIME"
    chip.screenshot(os.path.join(SCREENSHOTS, "home.png"))
    # The radio's failure is reported on the USB port (the app's stdout) and the app carries on.
    printed = chip.read_until(b"Bluetooth unavailable", timeout=180)
    assert b"Traceback" not in printed
    chip.wake()
    chip.press_sequence("C C C B")           # Home -> Status
    status = wait_lines(chip, lambda ls: ls and ls[0].startswith("Clock:") and "BLE: unavailable" in ls)
    version = rp2040.image_version()
    assert version.split("-dirty")[0] == firmware_version.describe().split("-dirty")[0]   # this commit
    assert "Version: " + version[:7] in status
    chip.screenshot(os.path.join(SCREENSHOTS, "status-no-radio.png"))
    chip.wake()
    chip.press("B", hold=True)               # back home
    wait_lines(chip, lambda ls: "Log symptom" in " ".join(ls))


def test_entries_over_usb_and_buttons_and_a_reminder_fires_without_radio(app_chip):
    chip = app_chip
    chip.close_usb()

    async def provision_and_log():
        async with SerialClient(chip.usb_url(), timeout=120) as client:
            assert await client.provision(KEY) == protocol.STATUS_OK
            link = DeviceLink(client, host_crypto.role_key(KEY, 1), "clinician", timeout=120)
            await link.open_session()
            # A dose five weeks ago: its E2+T recheck is due now.
            await link.set_time(datetime.datetime(2026, 9, 28, 10, 0))
            seq = await link.push_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 35, 600)
            await link.set_time(datetime.datetime(2026, 11, 2, 10, 0))
            return seq, await link.count(0)

    seq, count = run(provision_and_log())
    assert count >= 1 and seq >= 1
    # The recheck came due with the new time: checked within a second of the change, three beeps.
    chip.wait(lambda: len(chip.beeps()) >= 3, "three beeps of the due reminder", timeout=300)
    chip.wake()
    home = wait_lines(chip, lambda ls: ls[:1] == ["2026-11-02"])
    assert " Reminders (1)" in home
    # From the buttons: Log symptom, low libido, severity mild -> moderate, save.
    chip.press_sequence("B C B C B")
    saved = wait_lines(chip, lambda ls: ls[:1] == ["Saved:"])
    assert saved[1:3] == ["low libido", "moderate"]
    chip.screenshot(os.path.join(SCREENSHOTS, "saved.png"))


def test_the_app_never_restarted(app_chip):
    """The app without a radio well past the watchdog's 8.4 s (it runs from boot): one boot, no reset."""
    app_chip.wait(lambda: app_chip.stats()["ms"] > 2 * 8388, "17 s of the app", timeout=300)
    assert app_chip.boots == ["power"]
    starts = app_chip.radio_starts()
    assert starts and starts[-1] - starts[0] < 2000   # the first try only; the next comes 5 minutes later
