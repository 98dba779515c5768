"""How long 1,000 mAh lasts: the day's awake fraction (measured on the emulated RP2040) weighted by the parts'
currents. Each current names its source; where the tools here could not read a datasheet's table, the
figure is marked ASSUMED and says what it rests on. README.md ("Battery") shows the model.

    average_ma(awake_fraction, screen_on_fraction, board) -> mA;  days(mah, ma) -> days
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
POWER_PY = os.path.join(os.path.dirname(HERE), "firmware", "device", "power.py")


def _load_power():
    """firmware/device/power.py, the firmware's own constants (the device package is not installed on the
    host: importing it by name would need the simulator's shadow modules)."""
    spec = importlib.util.spec_from_file_location("e2mon_device_power", POWER_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


power = _load_power()

HOURS_PER_DAY = 24
BATTERY_MAH = 1000

# name: (mA, source)
PICO_W = {
    # The core running MicroPython at 125 MHz, the whole board from its supply.
    "awake": (25.0, "MEASURED by others: a bare Pico running MicroPython draws about 26 mA at 5 V "
                    "(forums.pimoroni.com/t/pico-rgb-keypad-min-power-draw/25317); rp-rs/rp-hal issue 659: "
                    "about 20 mA with the core in WFE/WFI at full clock"),
    # machine.lightsleep(n): clocks from the 12 MHz XOSC, PLLs off, the timer wakes the core.
    "asleep": (1.5, "MEASURED by MicroPython: Pico board from USB in machine.lightsleep(5000), about 1.5 mA "
                    "(commit 'rp2: lightsleep' by Damien George, addressing micropython issue 8770); "
                    "0.9 mA in lightsleep() without a timer (DORMANT)"),
    # The CYW43439 with Wi-Fi off, the Bluetooth controller advertising by itself every ADV_INTERVAL_US.
    "radio_floor": (0.2, "ASSUMED: the CYW43439 datasheet (Infineon 002-30405) 'Bluetooth current "
                         "consumption' table could not be read here; 0.2 mA for the chip powered with its "
                         "Bluetooth core in its sleep state between events"),
    "radio_adv_uc": (40.0, "ASSUMED per advertising event (uC): three channels, ADV_IND plus a scan response, "
                           "about 1.5 ms at 25 mA of radio current"),
    # The SSD1306 128x64 module: sleep (0xAE) and on with e2mon's text screens (about a tenth of pixels lit).
    "oled_off": (0.01, "SSD1306 datasheet (Solomon Systech, rev 1.1), DC characteristics: sleep mode current "
                       "under 10 uA on VDD and 10 uA on VCC"),
    "oled_on": (8.0, "ASSUMED: module current with charge pump on and about 10 % of pixels lit; scales with "
                     "lit pixels (lasse.nerdcamp.net, 'SSD1306 OLED 128x64 I2C current consumption')"),
}

ESP32 = {
    # MicroPython's esp32 port idles in time.sleep_ms (device power: lightsleep would stop NimBLE), so the
    # chip stays in modem-sleep between wake-ups: CPU clocked, radio between events.
    "awake": (44.0, "Espressif ESP32 Series Datasheet, 'Power Consumption by Power Modes': modem-sleep, "
                    "160 MHz, CPU running: up to 44 mA"),
    "asleep": (27.0, "same table: modem-sleep at 160 MHz, 27 mA at the low end (CPU idle in WFI); light-sleep "
                     "(0.8 mA) would need automatic light sleep with Bluetooth modem sleep, which MicroPython "
                     "does not configure"),
    "radio_floor": (0.0, "included in modem-sleep"),
    "radio_adv_uc": (150.0, "ASSUMED per advertising event (uC): three channels at the datasheet's Bluetooth LE "
                            "TX current (about 130 mA at 0 dBm, 'RF Power-Consumption Specifications'), about "
                            "1.2 ms on air with ramp-up"),
    "oled_off": PICO_W["oled_off"],
    "oled_on": PICO_W["oled_on"],
}


def average_ma(awake_fraction, screen_on_fraction, board):
    ma = {name: value[0] for name, value in board.items()}
    adv_per_s = 1e6 / power.ADV_INTERVAL_US
    core = awake_fraction * ma["awake"] + (1 - awake_fraction) * ma["asleep"]
    radio = ma["radio_floor"] + ma["radio_adv_uc"] * adv_per_s / 1000
    screen = screen_on_fraction * ma["oled_on"] + (1 - screen_on_fraction) * ma["oled_off"]
    return core + radio + screen


def days(ma, mah=BATTERY_MAH):
    return mah / ma / HOURS_PER_DAY
