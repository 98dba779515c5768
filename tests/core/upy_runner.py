# Runs the core's tests on the MicroPython unix port (no pytest there).
# Every tests/core/test_*.py module is imported and its test_* functions run;
# tests that need CPython-only tools live elsewhere in tests/.
import gc
import os
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."


def main():
    names = sorted(n[:-3] for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".py"))
    passed = failed = 0
    for name in names:
        loaded = set(sys.modules)   # modules a test file pulls in are unloaded after it (heap is 64K)
        try:
            module = __import__(name)
        except Exception as exc:   # a module that cannot load counts as one failure; the rest still run
            failed += 1
            print("FAIL %s (import)" % name)
            sys.print_exception(exc)
            module = None
        for attr in sorted(dir(module)) if module else ():
            if not attr.startswith("test_"):
                continue
            fn = getattr(module, attr)
            try:
                fn()
                passed += 1
            except Exception as exc:
                failed += 1
                print("FAIL %s.%s" % (name, attr))
                sys.print_exception(exc)
            gc.collect()
        for other in list(sys.modules):
            if other not in loaded:
                del sys.modules[other]
        module = fn = None
        gc.collect()
    print("micropython: %d passed, %d failed" % (passed, failed))
    if failed or not passed:
        sys.exit(1)


main()
