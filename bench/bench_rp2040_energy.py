"""A patient's day on the emulated RP2040 (the Pico W image on rp2040js) and how long a battery lasts.

rp2040js runs the core instruction by instruction (8 ns a cycle at 125 MHz) and, while it waits in WFI/WFE
(asyncio's waits, machine.lightsleep), jumps the clock to the next timer alarm: cycles executed over
simulated time is the fraction of the time the core is awake. Measured on the chip, one boot:
- a reminder coming due (after a USB host set the clock and logged a dose): the beeps' window;
- idle: IDLE_WINDOW_S with the screen dark and no host (the minute's reminder check, the watchdog's feeds);
- a button session: a press wakes the screen, four more log a symptom, the screen times out (30 s).
Estimated, not measured: one clinician pull of PULL_RECORDS records at rp2040_cycles_per_record_pull
(bench_rp2040, the device's side of a pull from the image's littlefs); the Pico W image has no CYW43 on
rp2040js, so the radio's own cost comes from bench/energy_model.py, not from the chip.

- rp2040_awake_fraction_idle: awake cycles over the idle window. rp2040_awake_fraction_day: the day
  (DAY_S) composed of the idle rate and the events above (SESSIONS_PER_DAY button sessions, one reminder,
  one pull). Goal <= 0.01.
- rp2040_wake_latency_ms: a press at a random moment of idle to the display switched on (worst of three).
- battery_days_1000mah_pico_w, battery_days_1000mah_esp32: bench/energy_model.py on those fractions
  (the ESP32's awake fraction: the same firmware's work at its 160 MHz, the RP2040's cycles scaled).
  Goal >= 30 for the Pico W.
"""
import asyncio
import datetime
import random

from bench import bench_rp2040, energy_model
from host_tools import host_crypto
from host_tools.device_link import DeviceLink
from host_tools.serial_link import SerialClient
from monitor import dates, protocol, records
from sim import rp2040

DAY_S = 86400
IDLE_WINDOW_S = 300
SESSIONS_PER_DAY = 3
PULL_RECORDS = 2000
ESP32_HZ = 160_000_000
KEY = bytes(range(32))
DAY = dates.days_from_civil(2026, 11, 2)
HOST_QUIET_S = 6          # device.power.HOST_ACTIVE_MS and a second


def _sim_s(chip):
    return chip.stats()["ms"] / 1000


def _wait_sim(chip, seconds, what):
    until = _sim_s(chip) + seconds
    chip.wait(lambda: _sim_s(chip) >= until, what, timeout=max(120, seconds))


def _wait_dark(chip):
    chip.wait(lambda: not chip.oled.on, "the screen going dark", timeout=600)
    _wait_sim(chip, 1, "a second of idle")


def _reminder(chip):
    """Provision, set the clock, log a dose five weeks old over USB: its recheck comes due and beeps."""
    async def provision_and_log():
        async with SerialClient(chip.usb_url(), timeout=120) as client:
            assert await client.provision(KEY) == protocol.STATUS_OK
            link = DeviceLink(client, host_crypto.role_key(KEY, 1), "clinician", timeout=120)
            await link.open_session()
            await link.set_time(datetime.datetime(2026, 9, 28, 10, 0))
            await link.push_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 35, 600)
            await link.set_time(datetime.datetime(2026, 11, 2, 10, 0))

    asyncio.run(asyncio.wait_for(provision_and_log(), 600))
    chip.wait(lambda: len(chip.signal) >= 6, "the reminder's three beeps", timeout=600)
    chip.close_usb()
    (start_ms, _), (end_ms, _) = chip.signal[0], chip.signal[5]
    return (end_ms - start_ms) / 1000, chip.signal_cycles[5] - chip.signal_cycles[0]


def _idle(chip):
    start = chip.stats()
    _wait_sim(chip, IDLE_WINDOW_S, "the idle window")
    end = chip.stats()
    return (end["ms"] - start["ms"]) / 1000, end["cycles"] - start["cycles"]


def _wake_latencies(chip, rng):
    latencies = []
    for _ in range(3):
        _wait_dark(chip)
        wakes = len(chip.screen_wakes)
        chip.press("C", after_ms=rng.uniform(0, 2000))
        chip.wait(lambda n=wakes: len(chip.screen_wakes) > n, "the screen waking", timeout=120)
        latencies.append(chip.screen_wakes[wakes][0] - chip.presses[-1][0])
    return latencies


def _session(chip):
    """Wake, log a symptom (B C B C B), let the screen time out: seconds and cycles from press to dark."""
    _wait_dark(chip)
    start = chip.stats()
    chip.press("A")
    chip.press_sequence("B C B C B")
    _wait_dark(chip)
    end = chip.stats()
    return (end["ms"] - start["ms"]) / 1000, end["cycles"] - start["cycles"]


def run():
    problem = rp2040.missing()
    if problem:
        raise SystemExit("bench rp2040_energy: %s" % problem)
    per_record = bench_rp2040.measured()["rp2040_cycles_per_record_pull"]
    rng = random.Random(5)
    with rp2040.Rp2040(speed=1000) as chip:
        chip.wait_for_home()
        chip.read_until(b"Bluetooth unavailable", timeout=300)   # the radio's one try at boot is over
        chip.close_usb()
        reminder_s, reminder_cycles = _reminder(chip)
        chip.set_speed(100000)                       # idle as fast as the emulator goes
        _wait_sim(chip, HOST_QUIET_S, "the host's quiet time")
        _wait_dark(chip)
        idle_s, idle_cycles = _idle(chip)
        latencies = _wake_latencies(chip, rng)
        session_s, session_cycles = _session(chip)
        if chip.boots != ["power"]:
            raise SystemExit("bench rp2040_energy: the chip restarted (%s)" % chip.boots)
    idle_rate = idle_cycles / idle_s
    pull_cycles = per_record * PULL_RECORDS
    pull_s = pull_cycles / rp2040.CLOCK_HZ
    busy_s = reminder_s + SESSIONS_PER_DAY * session_s + pull_s
    day_cycles = idle_rate * (DAY_S - busy_s) + reminder_cycles + SESSIONS_PER_DAY * session_cycles + pull_cycles
    awake_day = day_cycles / (DAY_S * rp2040.CLOCK_HZ)
    screen_on = SESSIONS_PER_DAY * session_s / DAY_S
    pico_ma = energy_model.average_ma(awake_day, screen_on, energy_model.PICO_W)
    esp32_awake = min(1.0, day_cycles / (DAY_S * ESP32_HZ))
    esp32_ma = energy_model.average_ma(esp32_awake, screen_on, energy_model.ESP32)
    return {
        "rp2040_awake_fraction_idle": round(idle_cycles / (idle_s * rp2040.CLOCK_HZ), 5),
        "rp2040_awake_fraction_day": round(awake_day, 5),
        "rp2040_day_session_cycles": session_cycles,
        "rp2040_day_reminder_cycles": reminder_cycles,
        "rp2040_day_pull_cycles_estimated": pull_cycles,
        "rp2040_wake_latency_ms": round(max(latencies), 1),
        "pico_w_average_ma": round(pico_ma, 3),
        "battery_days_1000mah_pico_w": round(energy_model.days(pico_ma), 1),
        "esp32_average_ma": round(esp32_ma, 2),
        "battery_days_1000mah_esp32": round(energy_model.days(esp32_ma), 2),
    }
