"""`import bluetooth` in firmware running on the simulator resolves here (sim/shadow is first on
sys.path) and gets the very module object `sim.bluetooth`, so firmware and sim code share one BLE
singleton. See sim/bluetooth.py for the API and the behaviour copied from the real stacks."""
import sys

from sim import bluetooth as _implementation

sys.modules[__name__] = _implementation
