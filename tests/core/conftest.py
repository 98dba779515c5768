# pytest only (the MicroPython runner puts firmware/ on MICROPYPATH itself): firmware/ on sys.path, so the
# top-level firmware modules outside the monitor package (update_boot.py) import as on a board.
import os
import sys

FIRMWARE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "firmware")
if FIRMWARE not in sys.path:
    sys.path.append(FIRMWARE)
