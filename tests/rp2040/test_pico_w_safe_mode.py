"""The Pico W image in safe mode (button A held at power-on) on the emulated RP2040: the REPL stays free, the
core's tests run on the real image over the emulated USB raw REPL, and the store keeps every record on the
image's own littlefs flash across a power cycle."""
import os

import pytest

from host_tools import firmware_version
from sim import rp2040

CORE = os.path.join(rp2040.ROOT, "tests", "core")
VECTORS = os.path.join(rp2040.ROOT, "tests", "vectors")
STORE_RECORDS = 300


@pytest.fixture(scope="module")
def chip():
    with rp2040.Rp2040(hold="A") as chip:
        printed = chip.read_until(b"safe mode", timeout=300)
        assert b"ready" not in printed           # the app did not start
        chip.raw_repl()
        yield chip


def test_safe_mode_keeps_the_repl_and_the_image_is_stamped(chip):
    out = chip.raw_exec("import sys, monitor.version\nprint(sys.platform, monitor.version.VERSION)")
    assert out.split() == ["rp2", rp2040.image_version()]
    assert rp2040.image_version().split("-dirty")[0] == firmware_version.describe().split("-dirty")[0]
    # frozen, not loaded from the filesystem: the image alone carries the app
    assert chip.raw_exec("import main, monitor.app\nprint(main.__file__, monitor.app.__file__)").split() == \
        ["main.py", "monitor/app.py"]
    assert chip.raw_exec("import os\nprint('main.py' in os.listdir('/'))").strip() == "False"


def test_core_tests_on_the_image(chip):
    chip.raw_exec("import os\nfor d in ('/tests', '/tmp', '/vectors', '/build'):\n    try:\n        os.mkdir(d)\n"
                  "    except OSError:\n        pass")
    names = sorted(n for n in os.listdir(CORE) if n.endswith(".py") and n != "upy_runner.py")
    for name in sorted(os.listdir(CORE)):      # the tests, their helpers and data (update_bundle.bin)
        if name != "upy_runner.py" and os.path.isfile(os.path.join(CORE, name)):
            chip.put_file(os.path.join(CORE, name), "/tests/" + name)
    chip.put_file(os.path.join(VECTORS, "session.json"), "/vectors/session.json")   # test_session's
    chip.raw_exec("import sys\nif '/tests' not in sys.path:\n    sys.path.append('/tests')")
    passed = failed = 0
    failures = []
    for name in names:
        if not name.startswith("test_"):
            continue
        module = name[:-3]
        # upy_one.py, the unix runner's per-file driver, on the chip: counts into a result file
        out = chip.raw_exec(
            "import sys, gc, os\nARGV = ['upy_one.py', %r, '/tests/result.txt']\n"
            "os.chdir('/')\nexec(open('/tests/upy_one.py').read())\nsys.modules.pop(%r, None)\ngc.collect()\n"
            "print('COUNTS', open('/tests/result.txt').read())" % (module, module), timeout=1200)
        counts = out.rsplit("COUNTS", 1)[1].split()
        passed += int(counts[0])
        failed += int(counts[1])
        if int(counts[1]):
            failures.append(out)
    assert failed == 0, "\n".join(failures)
    defined = 0
    for name in names:
        if name.startswith("test_"):
            with open(os.path.join(CORE, name)) as f:
                defined += sum(1 for line in f if line.startswith("def test_"))
    assert passed == defined      # every core test ran on the image


def test_store_keeps_every_record_on_littlefs_across_a_power_cycle(chip):
    setup = ("import sys\nif '/tests' not in sys.path:\n    sys.path.append('/tests')\n"
             "from store_fs import fill, read_all, entry, rmtree\nfrom monitor.store import Store\n")
    out = chip.raw_exec(setup + "rmtree('/rp2_store')\ns = Store('/rp2_store')\nseqs = fill(s, %d)\n"
                        "s.close()\nprint(seqs[0], seqs[-1])\nimport os\nprint(os.statvfs('/'))"
                        % STORE_RECORDS, timeout=1200)
    assert out.split()[:2] == ["1", str(STORE_RECORDS)]
    chip.reboot(hold="A")                       # RAM and peripherals gone; the flash kept
    chip.read_until(b"safe mode", timeout=300)
    chip.raw_repl()
    out = chip.raw_exec(setup + "s = Store('/rp2_store')\ngot = read_all(s, 1)\n"
                        "want = [(i + 1,) + entry(i) for i in range(%d)]\n"
                        "print(len(got), got == want, s.next_seq)\ns.close()\nrmtree('/rp2_store')"
                        % STORE_RECORDS, timeout=1200)
    assert out.split() == [str(STORE_RECORDS), "True", str(STORE_RECORDS + 1)]


def test_radio_retry_on_the_image_without_a_cyw43(chip):
    """The app's runner and BLE service on the real image, radio absent: each try fails cleanly (the
    firmware powers the CYW43 up and gets no answer), the screen says so, and a later try is allowed."""
    before = len(chip.radio_starts())
    out = chip.raw_exec("import main\nfrom device.runner import Runner\nboard = main.load_board()\n"
                        "app, ble = main.build(board)\nr = Runner(board, app, ble)\n"
                        "print(ble is not None, r.ui.radio, r.start_radio(), r.start_radio(), r.radio_attempts, "
                        "r.ui.radio)\napp.store.close()", timeout=600)
    assert out.split()[-6:] == ["True", "starting", "False", "False", "2", "unavailable"]
    assert len(chip.radio_starts()) >= before + 2     # each try powered the CYW43 up again
