"""The core tests (tests/core/test_*.py) on the qemu Cortex-M3 image, with the firmware frozen, in a
literal 32-bit heap: each test file in a fresh interpreter (a soft reset: empty heap, as a device boots),
run by tests/core/upy_one.py as on the unix port, with the flash (littlefs) mounted at /, the session
vectors on it where tests/core/test_session.py looks (../vectors from its directory, /core), and the core's
data files (update_bundle.bin) in /core beside the frozen tests.

    python -m bench.qemu_core_tests [HEAP ...]       e.g. 64K 48K 32K; prints the counts, fails on a failure
"""
import os
import sys
import tempfile

from bench.qemu_device import QemuError, RawRepl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "tests", "core")
VECTORS = os.path.join(ROOT, "tests", "vectors", "session.json")


def test_modules():
    return sorted(n[:-3] for n in os.listdir(CORE) if n.startswith("test_") and n.endswith(".py"))


def _copy_to_flash(repl, path, device_path):
    with open(path, "rb") as f:
        data = f.read()
    repl.exec("import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass\nf = open(%r, 'wb')"
              % (device_path.rsplit("/", 1)[0], device_path))
    for start in range(0, len(data), 512):
        repl.exec("f.write(%r)" % data[start:start + 512])
    repl.exec("f.close()")


def run(heap):
    """Returns (passed, failed, report lines) of every core test file in `heap` (e.g. "64K")."""
    passed = failed = 0
    report = []
    with tempfile.TemporaryDirectory(prefix="e2mon-qemu-core-") as work:
        flash = os.path.join(work, "flash.lfs")
        mount = "from _qemu_boot import mount\nmount(%r)\nimport os\nos.chdir('/core')\n" % flash
        repl = RawRepl(heap)
        try:
            repl.exec("from _qemu_boot import mount\nmount(%r)\nimport os\nos.mkdir('/core')" % flash)
            _copy_to_flash(repl, VECTORS, "/vectors/session.json")
            for name in sorted(os.listdir(CORE)):
                if name.endswith(".bin"):
                    _copy_to_flash(repl, os.path.join(CORE, name), "/core/" + name)
            for name in test_modules():
                repl.soft_reset()
                try:
                    out = repl.exec(mount + "import sys\nsys.argv[:] = ['upy_one', %r, '/counts']\nimport upy_one\n"
                                    "print('counts', open('/counts').read())" % name)
                except QemuError as exc:   # e.g. MemoryError outside any test function
                    out = str(exc)
                lines = out.strip().splitlines()
                counts = lines[-1].split() if lines and lines[-1].startswith("counts") else []
                if len(counts) == 3:
                    passed += int(counts[1])
                    failed += int(counts[2])
                    report.extend(lines[:-1])
                else:
                    failed += 1
                    report.append("FAIL %s (the interpreter stopped): %s" % (name, out.strip()[-300:]))
        finally:
            repl.close()
    return passed, failed, report


def main(heaps):
    ok = True
    for heap in heaps:
        passed, failed, report = run(heap)
        for line in report:
            print(line)
        print("qemu cortex-m3, firmware frozen, %s heap: %d passed, %d failed" % (heap, passed, failed))
        ok = ok and passed > 0 and failed == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["64K"]))
