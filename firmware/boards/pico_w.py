"""Raspberry Pi Pico W: the board's parts as module singletons (like wasp-os's watch.py).

Wiring: OLED SDA GP4 / SCL GP5 (I2C0), buttons A/B/C on GP14/GP15/GP16 to GND, buzzer or LED on GP17,
battery as VSYS/3 on ADC3 (GP29). The RTC restarts at its epoch after power loss: the clock is then unset.
"""
import machine

NAME = "pico_w"
DATA_DIR = "/data"
# btstack on mainline MicroPython cannot pair: security rests on the session layer alone.
BLE_SECURE_LINK = False

buttons = (
    machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP),
    machine.Pin(15, machine.Pin.IN, machine.Pin.PULL_UP),
    machine.Pin(16, machine.Pin.IN, machine.Pin.PULL_UP),
)
signal = machine.Pin(17, machine.Pin.OUT, value=0)
rtc = machine.RTC()
reset = machine.reset   # main.py and the runner restart the board with it (a failed trial, a staged update)
i2c = machine.I2C(0, scl=machine.Pin(5), sda=machine.Pin(4), freq=400000)


def _display():
    from device.ssd1306 import SSD1306_I2C, DEFAULT_ADDRESS
    if DEFAULT_ADDRESS not in i2c.scan():
        return None
    return SSD1306_I2C(128, 64, i2c)


def _battery():
    from device.battery import Battery
    return Battery(machine.ADC(29), 3300, 3)


display = _display()
battery = _battery()


def watchdog(timeout_ms):
    return machine.WDT(timeout=min(timeout_ms, 8388))   # the RP2040's watchdog limit


# The runner's idle slice (device.power): PLLs and unused clocks stopped, the timer wakes the core. The
# CYW43 keeps its own clock and advertises on; what it raises meanwhile is served after the slice
# (MicroPython skips the sleep while a CYW43 poll is pending). The native function itself: a Python
# wrapper would allocate a frame at every slice.
sleep_ms = machine.lightsleep
