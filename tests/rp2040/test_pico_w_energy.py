"""The Pico W image idling on the emulated RP2040 (rp2040js, simulated time fast-forwarded through WFI/WFE):
with the screen dark the core is awake under 1 % of the time, a press at any moment of an idle slice lights
the screen within device.power.WAKE_BUDGET_MS, the press that woke it does nothing else, and the watchdog
never fires however long the board sleeps (while one left unfed does reboot the emulated chip)."""
import random

import pytest

from bench.energy_model import power     # firmware/device/power.py
from sim import rp2040

SCREEN_TIMEOUT_S = 30
IDLE_WINDOW_MS = 60000        # > 7 watchdog periods, one minute's reminder check included
AWAKE_GOAL = 0.01
HOME_CURSOR = "> Log symptom"


@pytest.fixture(scope="module")
def chip():
    with rp2040.Rp2040(speed=1000) as chip:      # idle time runs up to 1000x the wall clock
        chip.wait_for_home()
        yield chip


def wait_dark(chip):
    """Until the screen is off, then one more simulated second of idle."""
    chip.wait(lambda: not chip.oled.on, "the screen going dark", timeout=300)
    now = chip.stats()["ms"]
    chip.wait(lambda: chip.stats()["ms"] > now + 1000, "a second of idle", timeout=60)


def test_idle_core_is_awake_under_one_percent_and_the_watchdog_never_fires(chip):
    chip.wait(lambda: chip.stats()["ms"] > (SCREEN_TIMEOUT_S + 5) * 1000, "the screen timeout", timeout=300)
    wait_dark(chip)
    start = chip.stats()
    chip.wait(lambda: chip.stats()["ms"] > start["ms"] + IDLE_WINDOW_MS, "a minute of idle", timeout=600)
    end = chip.stats()
    awake = (end["cycles"] - start["cycles"]) / rp2040.CLOCK_HZ * 1000 / (end["ms"] - start["ms"])
    assert awake < AWAKE_GOAL, "awake %.4f of the idle minute" % awake
    assert chip.boots == ["power"]           # not one watchdog reset through the sleeps


def test_a_press_at_a_random_moment_of_idle_wakes_the_screen_in_budget(chip):
    rng = random.Random(21)
    latencies = []
    for _ in range(3):
        wait_dark(chip)
        wakes = len(chip.screen_wakes)
        # any phase of an 80 ms slice, and of the tasks' own periods
        chip.press("C", after_ms=rng.uniform(0, 2000))
        chip.wait(lambda n=wakes: len(chip.screen_wakes) > n, "the screen waking", timeout=60)
        pressed_ms = chip.presses[-1][0]
        latencies.append(chip.screen_wakes[wakes][0] - pressed_ms)
        # the waking press only lit the screen: the home cursor did not move down
        chip.wait_for_screen(lambda _text: "Log symptom" in " ".join(chip.oled.text_lines()), timeout=60)
        assert HOME_CURSOR in chip.oled.text_lines()
    assert all(0 <= ms <= power.WAKE_BUDGET_MS for ms in latencies), latencies
    assert chip.boots == ["power"]


def test_an_unfed_watchdog_does_reboot_the_emulated_chip():
    """The check above means something: the emulator reboots a chip whose watchdog runs out."""
    with rp2040.Rp2040(hold="A", speed=1000) as chip:
        chip.read_until(b"safe mode", timeout=300)
        chip.raw_repl()
        chip.write(b"import machine\nw = machine.WDT(timeout=1000)\nmachine.lightsleep(3000)\x04")
        chip.wait(lambda: "watchdog" in chip.boots, "a watchdog reset", timeout=120)
        assert chip.boots == ["power", "watchdog"]
