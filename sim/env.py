"""Puts the firmware and the shadow MicroPython modules on this interpreter's path.

After install(): `import machine`, `framebuf`, `bluetooth`, `board` (sim/shadow) and `time` (virtual
clock) resolve to the shadows, and `device`, `boards`, `monitor` to firmware/, so the firmware runs
unchanged (`micropython` and `cryptolib` are compat/'s, installed with the project). CPython-only
libraries (asyncio, bumble, PIL) are imported first: they keep the real `time` module they bound at import.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHADOW = os.path.join(HERE, "shadow")
FIRMWARE = os.path.join(ROOT, "firmware")

_installed = False


def install():
    global _installed
    if _installed:
        return
    import asyncio  # noqa: F401  (bind the real time module before the shadow replaces it)
    import logging  # noqa: F401
    import importlib.util

    try:
        import bumble.device  # noqa: F401
    except ImportError:
        pass
    for path in (FIRMWARE, SHADOW):
        if path in sys.path:
            sys.path.remove(path)
    sys.path.insert(0, FIRMWARE)
    sys.path.insert(0, SHADOW)
    spec = importlib.util.spec_from_file_location("time", os.path.join(SHADOW, "time.py"))
    shadow_time = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shadow_time)
    sys.modules["time"] = shadow_time
    sys.modules["utime"] = shadow_time
    if "bluetooth" not in sys.modules:
        try:
            import sim.bluetooth   # the bumble-backed shadow (sim/shadow/bluetooth.py resolves to it too)
            sys.modules["bluetooth"] = sim.bluetooth
        except ImportError:
            pass   # no bumble: the device runs without BLE
    _installed = True


def forget_firmware(core=False):
    """Drops imported firmware and board modules so the next import is a fresh boot (module singletons);
    core=True drops monitor too (another firmware version boots: its own core must load)."""
    roots = ("board", "boards", "device", "main") + (("monitor",) if core else ())
    for name in list(sys.modules):
        if name.split(".")[0] in roots or name == "monitor.update":   # an update's state is one boot's
            del sys.modules[name]
    core_package = sys.modules.get("monitor")
    if core_package is not None and hasattr(core_package, "update"):
        del core_package.update     # else `from monitor import update` would find the old one
