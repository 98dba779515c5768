# The simulator's board on the MicroPython unix port: the real Pico W board module (boards/pico_w.py) on
# sim/upy/machine.py, its flash in the directory E2MON_FLASH names.
import os

from boards.pico_w import *  # noqa: F401,F403
from boards.pico_w import NAME as _PICO_NAME

NAME = "sim(" + _PICO_NAME + ")"
FLASH_BYTES = 848 * 1024   # the Pico W build's littlefs: the flash directory on the host disk has this size
DATA_DIR = os.getenv("E2MON_FLASH") or "/tmp/e2mon-flash"
