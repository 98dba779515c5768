"""What the two .mpy heap savers still buy on the 32-bit qemu build: host_tools/const_inline.py
(cross-module const() names inlined) and the modules the device loads only when used (names, validation,
units, texts, the profile's codec and the host's half of the protocol). Heap bytes (after a collection) of
importing the app's boot modules, then on top each lazily loaded module, four ways: frozen, frozen with
const names inlined (a second image, `make qemu-inline-image`), and from .mpy files on the flash with and
without inlining.

    python -m bench.qemu_heap_tricks          (slow: builds the second image; not part of make bench)
"""
import os
import shutil
import subprocess
import tempfile

from bench import qemu_device
from host_tools.const_inline import inline_tree
from host_tools.deploy import compile_firmware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = ("device", "device.ble_service", "device.memory", "device.soft_rtc",
        "monitor", "monitor.app", "monitor.clock", "monitor.codes", "monitor.combine", "monitor.dates",
        "monitor.endpoint", "monitor.evaluate",
        "monitor.ingest", "monitor.profile", "monitor.protocol", "monitor.records", "monitor.reminders",
        "monitor.rules", "monitor.schedule", "monitor.session", "monitor.state", "monitor.store",
        "monitor.store_files", "monitor.tracker")
LAZY = ("monitor.catalog", "monitor.validate", "monitor.units", "monitor.texts", "monitor.profile_codec",
        "monitor.protocol_host")
INLINE_SRC = os.path.join(ROOT, "build", "upy", "inline-src")
INLINE_IMAGE = os.path.join(ROOT, "build", "upy", "qemu-inline", "firmware.elf")
INLINE_MANIFEST = """package("monitor")
package("device")
package("boards")
module("main.py")
module("_const_names.py")
include("$(MPY_DIR)/extmod/asyncio")
module("bluetooth.py", base_path="%s")
""" % os.path.join(ROOT, "tests", "upy_shadow")


def _heap(repl, setup=""):
    """(boot modules' heap, {lazy module: heap on top}) in a fresh interpreter after `setup`."""
    repl.soft_reset()
    boot = int(repl.exec(setup + "import gc\nimport bluetooth\ngc.collect()\nb = gc.mem_alloc()\nfor n in %r:\n"
                         " __import__(n)\ngc.collect()\nprint(gc.mem_alloc() - b)" % (BOOT,)))
    lazy = {}
    for name in LAZY:
        lazy[name] = int(repl.exec("gc.collect()\nb = gc.mem_alloc()\n__import__(%r)\ngc.collect()\n"
                                   "print(gc.mem_alloc() - b)" % name))
    return boot, lazy


def _mpy_heap(repl, inline, work):
    """The firmware as .mpy files on the flash (/lib, first on sys.path)."""
    out = os.path.join(work, "inline" if inline else "plain")
    if inline:
        compile_firmware("armv7m", out)     # e2mon deploy's build
    else:
        for root, _dirs, files in os.walk(os.path.join(ROOT, "firmware")):
            for name in files:
                if name.endswith(".py") and name not in ("manifest.py", "main.py"):
                    rel = os.path.relpath(os.path.join(root, name), os.path.join(ROOT, "firmware"))
                    os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
                    subprocess.run([os.path.join(ROOT, "build", "firmware", "mpy-cross"), "-march=armv7m", "-s", rel,
                                    "-o", os.path.join(out, rel[:-3] + ".mpy"), os.path.join(root, name)], check=True)
    flash = os.path.join(work, "flash-%s.lfs" % ("inline" if inline else "plain"))
    mount = "from _qemu_boot import mount\nmount(%r)\nimport os, sys\n" % flash
    repl.soft_reset()
    repl.exec(mount)
    for root, _dirs, files in os.walk(out):
        rel = os.path.relpath(root, out)
        target = "/lib" if rel == "." else "/lib/" + rel
        repl.exec("try:\n os.mkdir(%r)\nexcept OSError:\n pass" % target)
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            repl.exec("f = open(%r, 'wb')" % (target + "/" + name))
            for start in range(0, len(data), 1024):
                repl.exec("f.write(%r)" % data[start:start + 1024])
            repl.exec("f.close()")
    return _heap(repl, mount + "sys.path.insert(0, '/lib')\n")


def _inline_image():
    shutil.rmtree(INLINE_SRC, ignore_errors=True)
    inline_tree(os.path.join(ROOT, "firmware"), INLINE_SRC)
    with open(os.path.join(INLINE_SRC, "manifest.py"), "w") as f:
        f.write(INLINE_MANIFEST)
    subprocess.run(["make", "-C", ROOT, "qemu-inline-image"], check=True, stdout=subprocess.DEVNULL)


def main():
    _inline_image()
    columns = {}
    work = tempfile.mkdtemp(prefix="e2mon-tricks-")
    try:
        for label, image in (("frozen", qemu_device.IMAGE), ("frozen, const names inlined", INLINE_IMAGE)):
            repl = qemu_device.RawRepl("256K", image=image)
            try:
                columns[label] = _heap(repl)
            finally:
                repl.close()
        repl = qemu_device.RawRepl("256K")
        try:
            columns[".mpy"] = _mpy_heap(repl, False, work)
            columns[".mpy, const names inlined"] = _mpy_heap(repl, True, work)
        finally:
            repl.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| | " + " | ".join(columns) + " |")
    print("| boot modules | " + " | ".join("{:,}".format(c[0]) for c in columns.values()) + " |")
    print("| lazily loaded modules on top | " + " | ".join("{:,}".format(sum(c[1].values()))
                                                          for c in columns.values()) + " |")
    for name in LAZY:
        print("| %s | " % name + " | ".join("{:,}".format(c[1][name]) for c in columns.values()) + " |")


if __name__ == "__main__":
    main()
