# Runs the core's tests on the MicroPython unix port (no pytest there).
# Every tests/core/test_*.py module is imported and its test_* functions run;
# tests that need CPython-only tools live elsewhere in tests/.
# Each test file runs in its own interpreter with the same heap (upy_one.py, like a device booting
# fresh): what one file leaves behind (interned names, heap fragments) cannot starve the next. When
# `make mpy` has compiled firmware/monitor with mpy-cross and the bytecode is up to date, the firmware is
# loaded from it as a board loads it (compiling source on the device needs several times a module's size
# in heap).
import os
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
HEAP = "64K"   # the Makefile's -X heapsize for check-upy
ROOT = HERE + "/../.."
BYTECODE = ROOT + "/build/mpy/armv6m"   # plain bytecode (no native code) loads on any port


def bytecode_is_fresh():
    source = ROOT + "/firmware/monitor"
    try:
        names = os.listdir(source)
    except OSError:
        return False
    for name in names:
        if name.endswith(".py"):
            try:
                built = os.stat(BYTECODE + "/monitor/" + name[:-3] + ".mpy")[8]
            except OSError:
                return False
            if built < os.stat(source + "/" + name)[8]:
                return False
    return True


def main():
    names = sorted(n[:-3] for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".py"))
    bytecode = bytecode_is_fresh()
    print("firmware from %s" % ("mpy-cross bytecode" if bytecode else "source"))
    try:
        os.mkdir(ROOT + "/build")
    except OSError:
        pass
    result = ROOT + "/build/upy_runner_counts.txt"   # each child writes its passed/failed counts here
    passed = failed = 0
    for name in names:
        try:
            os.remove(result)
        except OSError:
            pass
        status = os.system("%s -X heapsize=%s %s/upy_one.py %s %s %s" % (
            sys.executable, HEAP, HERE, name, result, BYTECODE if bytecode else ""))
        try:
            with open(result) as f:
                counts = f.read().split()
            passed += int(counts[0])
            failed += int(counts[1])
        except (OSError, ValueError, IndexError):
            failed += 1
            print("FAIL %s (the interpreter stopped, status %d)" % (name, status))
    try:
        os.remove(result)
    except OSError:
        pass
    print("micropython: %d passed, %d failed" % (passed, failed))
    if failed or not passed:
        sys.exit(1)


main()
