# The simulator's `board` module (sim/shadow/board.py), which main.py imports off-device: the Pico W board
# with the simulator's own name, data directory and lightsleep.
from boards.pico_w import *

NAME: str
DATA_DIR: str

def sleep_ms(ms: int) -> None: ...
