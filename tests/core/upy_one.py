# One core test file on the MicroPython unix port, in a fresh interpreter (started by upy_runner.py):
#   micropython -X heapsize=64K upy_one.py TEST_MODULE RESULT_FILE [BYTECODE_DIR]
# A board has an empty sys.argv: exec this file with ARGV = ["upy_one.py", TEST_MODULE, RESULT_FILE] set
# (tests/rp2040, the Pico W image).
# Kept tiny: everything here stays in the heap the test file runs in.
import gc
import sys

argv = getattr(sys, "argv", None) or ARGV  # noqa: F821  (a board's sys.argv is empty)
if len(argv) > 3:
    sys.path.insert(0, argv[3])   # firmware compiled by mpy-cross, loaded as a board loads it
gc.collect()
passed = failed = 0
try:
    module = __import__(argv[1])
except Exception as exc:   # a test file that cannot load counts as one failure
    print("FAIL %s (import)" % argv[1])
    sys.print_exception(exc)
    module = None
    failed = 1
for attr in sorted(dir(module)) if module else ():
    if attr.startswith("test_"):
        try:
            getattr(module, attr)()
            passed += 1
        except Exception as exc:
            failed += 1
            print("FAIL %s.%s" % (argv[1], attr))
            sys.print_exception(exc)
        gc.collect()
with open(argv[2], "w") as f:
    f.write("%d %d" % (passed, failed))
