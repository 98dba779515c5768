# The simulator's board on the MicroPython unix port: the real Pico W board module (boards/pico_w.py) on
# sim/upy/machine.py, its flash in the directory E2MON_FLASH names.
import os

from boards.pico_w import *  # noqa: F401,F403
from boards.pico_w import NAME as _PICO_NAME

NAME = "sim(" + _PICO_NAME + ")"
# The flash directory on the host disk has this size: the Pico W's 2 MB (the simulator's slots carry source,
# about three times the board's bytecode, so its 848 KB littlefs would not hold two).
FLASH_BYTES = 2 * 1024 * 1024
DATA_DIR = os.getenv("E2MON_FLASH") or "/tmp/e2mon-flash"
