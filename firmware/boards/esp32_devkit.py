"""ESP32 DevKit (WROOM-32): the board's parts as module singletons (like wasp-os's watch.py).

Wiring: OLED SDA 21 / SCL 22, buttons A/B/C on 32/33/25 to GND, buzzer or LED on 26, battery divider
(100k/100k) on ADC1 pin 34. The RTC keeps time through deep sleep but not through power loss.
"""
import machine
import time

NAME = "esp32_devkit"
DATA_DIR = "/data"
# NimBLE bonds: LE Secure Connections pairing is required on top of the session layer.
BLE_SECURE_LINK = True

buttons = (
    machine.Pin(32, machine.Pin.IN, machine.Pin.PULL_UP),
    machine.Pin(33, machine.Pin.IN, machine.Pin.PULL_UP),
    machine.Pin(25, machine.Pin.IN, machine.Pin.PULL_UP),
)
signal = machine.Pin(26, machine.Pin.OUT, value=0)
rtc = machine.RTC()
reset = machine.reset   # main.py and the runner restart the board with it (a failed trial, a staged update)
i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21), freq=400000)


def _display():
    from device.ssd1306 import SSD1306_I2C, DEFAULT_ADDRESS
    if DEFAULT_ADDRESS not in i2c.scan():
        return None  # runs without a screen: reminders still signal on the buzzer
    return SSD1306_I2C(128, 64, i2c)


def _battery():
    from device.battery import Battery
    adc = machine.ADC(machine.Pin(34))
    adc.atten(machine.ADC.ATTN_11DB)   # about 0..3.3 V full scale
    return Battery(adc, 3300, 2)


display = _display()
battery = _battery()


def watchdog(timeout_ms):
    return machine.WDT(timeout=timeout_ms)


# machine.lightsleep would stop NimBLE's advertising, so a host could not connect: the runner's idle slice
# (device.power) idles the cores (WFI, radio running) instead; the native function itself, as a Python
# wrapper would allocate a frame at every slice.
sleep_ms = time.sleep_ms
