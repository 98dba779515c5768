"""The simulator's board: the real Pico W board module on the shadow `machine`, storing its flash in the
directory the simulator chose (sim.flash.DATA_DIR) and counting lightsleeps instead of sleeping.
"""
import machine

from boards.pico_w import *  # noqa: F401,F403  (pins, display, buttons, battery, rtc singletons)
from boards.pico_w import NAME as _PICO_NAME
from sim import flash

NAME = "sim(" + _PICO_NAME + ")"
# The flash directory on the host disk has this size: the Pico W's 2 MB (the simulator's slots carry source,
# about three times the board's bytecode, so its 848 KB littlefs would not hold two).
FLASH_BYTES = 2 * 1024 * 1024
DATA_DIR = flash.DATA_DIR


def sleep_ms(ms):
    machine.lightsleep(ms)


resets = [0]


def reset():
    """machine.reset() for the simulator: counted; the simulator boots the device again itself."""
    resets[0] += 1
