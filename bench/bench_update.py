"""Update figures.

- update_powercut_points / update_bricked (goal 0) / update_powercut_records_lost (goal 0): every power-cut
  point (each journal entry and every byte offset inside every write) of three updates in a row on one
  flash, staging, switching and confirming (bench/powercut_update.py), plus the cases beyond it, each also as
  update_powercut_points_<case>: full_flash (the same updates on a flash that fills during the third, every
  cut also booted with no byte left), trial_crash (a fourth version crashes on trial before the app and is
  rolled back) and cancel (a staged fourth version replaced by a fifth); bricked = a boot after the cut, or
  after a second reset before confirmation, fails or picks a version that is not whole.
- update_resume_checked / update_resume_failures: at every 10th cut the host resends the bundle; it must
  stage and boot.
- update_bundle_bytes_pico_w: a typical bundle, the whole firmware for the Pico W as mpy-cross builds it plus
  its header (manifest + a production LMS H10/W4 signature).
- update_s_modelled: that bundle at MTU 247, 7.5 ms connection interval, as bench_sync models a link: each
  chunk (223 bytes of bundle in a 244-byte write) is a request/response round trip of two connection
  intervals, plus the session handshake (2), status, BEGIN and APPLY (1 each). Flash write time on the
  board is not modelled.
- update_verify_hash_calls: SHA-256 calls (monitor/lms.stats) for the device to verify a production
  signature (HSS L=1, LMS H10, LM-OTS W4) on the manifest, the mean over the vectors of tests/core.
- update_verify_instructions_unix: instructions (valgrind --tool=callgrind, Ir) the MicroPython unix port
  (x86-64, the PyPI build) spends in one such verify: a run with the verify minus one without.
- update_verify_instructions: guest instructions of that verify on the qemu Cortex-M3 image of `make
  firmware`, with monitor/lms.py frozen as a board runs it (-icount shift=0: ticks_us() x 1,000), and
  update_verify_ms_at_133mhz: that at one instruction a cycle on an RP2040.
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "firmware"))
sys.path.insert(0, os.path.join(ROOT, "tests", "core"))

MTU = 247
CONNECTION_INTERVAL_S = 0.0075
ROUND_TRIP_INTERVALS = 2
RESUME_EVERY = 10


def powercut_figures():
    from bench import powercut as pc
    from bench import powercut_update as pu
    from host_tools import release
    work = tempfile.mkdtemp(prefix="e2mon-bench-update-")
    try:
        key = os.path.join(work, "publisher")
        release.keygen(key, height=5)
        figures = {}
        points = bricked = lost = resumed = resume_failures = 0
        for case, workload in (("", pu.run_workload), ("_full_flash", pu.run_workload_full_flash),
                               ("_trial_crash", pu.run_workload_trial_crash), ("_cancel", pu.run_workload_cancel)):
            journal, oracle, files, dirs, public_key, bundles = workload(key)
            checker = pu.Checker(public_key, bundles)
            n, b, n_lost, _problems = pu.run_cuts(journal, oracle, files, dirs, checker, resume_every=RESUME_EVERY,
                                                  full_boot=case == "_full_flash")
            assert n == pc.count_cut_points(journal)
            if case:
                figures["update_powercut_points" + case] = n
            points += n
            bricked += b
            lost += n_lost
            resumed += math.ceil(n / RESUME_EVERY)
            resume_failures += pu.run_cuts.resume_failures
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures.update({"update_powercut_points": points, "update_bricked": bricked,
                    "update_powercut_records_lost": lost, "update_resume_checked": resumed,
                    "update_resume_failures": resume_failures})
    return figures


def production_vector():
    from lms_vectors import PRODUCTION
    return tuple(bytes.fromhex(x) for x in PRODUCTION)


def verify_hash_calls():
    from monitor import lms
    pub, msg, sig = production_vector()
    before = lms.stats[0]
    assert lms.verify_hss(pub, msg, sig)
    return lms.stats[0] - before


def typical_bundle_bytes():
    from host_tools import release
    from monitor import bundle
    work = tempfile.mkdtemp(prefix="e2mon-bench-bundle-")
    try:
        paths = release.release_tree("pico_w", "1.0.0", 1, work)
        payload = sum(os.path.getsize(os.path.join(work, p)) for p in paths)
        entries = [(p, 0, bytes(32)) for p in paths]
        manifest = bundle.encode_manifest(1, "1.0.0", "pico_w", "mpy-armv6m", entries)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    signature = production_vector()[2]
    return len(bundle.header_bytes(manifest, signature)) + payload, len(paths)


def modelled_seconds(bundle_bytes):
    from monitor import protocol, session
    chunk = MTU - protocol.ATT_HEADER - session.FRAME_OVERHEAD - protocol.UPDATE_CHUNK_HEADER
    round_trips = math.ceil(bundle_bytes / chunk) + 2 + 3
    return round_trips * ROUND_TRIP_INTERVALS * CONNECTION_INTERVAL_S, chunk


VERIFY_SCRIPT = """
import sys
sys.path.insert(0, %r)
sys.path.insert(0, %r)
from lms_vectors import PRODUCTION
from monitor import lms
pub, msg, sig = [bytes.fromhex(x) for x in PRODUCTION]
if %d:
    assert lms.verify_hss(pub, msg, sig)
"""


def _callgrind_ir(micropython, with_verify):
    work = tempfile.mkdtemp(prefix="e2mon-callgrind-")
    try:
        script = os.path.join(work, "v.py")
        with open(script, "w") as f:
            f.write(VERIFY_SCRIPT % (os.path.join(ROOT, "firmware"), os.path.join(ROOT, "tests", "core"),
                                     1 if with_verify else 0))
        out = os.path.join(work, "cg.out")
        done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, micropython,
                               "-X", "heapsize=256K", script], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return None
        for line in done.stderr.splitlines():
            if "Collected :" in line:
                return int(line.rsplit(":", 1)[1].strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return None


def verify_instructions_unix():
    micropython = os.path.join(os.path.dirname(sys.executable), "micropython")
    if shutil.which("valgrind") is None or not os.path.exists(micropython):
        return None
    with_verify = _callgrind_ir(micropython, True)
    without = _callgrind_ir(micropython, False)
    if with_verify is None or without is None:
        return None
    return with_verify - without


QEMU_VERIFY_SCRIPT = """
import time
from lms_vectors import PRODUCTION
from monitor import lms
pub, msg, sig = [bytes.fromhex(x) for x in PRODUCTION]
start = time.ticks_us()
ok = lms.verify_hss(pub, msg, sig)
print("VERIFY", int(ok), time.ticks_diff(time.ticks_us(), start))
"""


def verify_instructions_qemu():
    """One production-vector verify on the qemu image (monitor.lms and the vectors frozen), or None without
    the image or qemu."""
    from bench import qemu_device
    if not os.path.exists(qemu_device.IMAGE) or shutil.which("qemu-system-arm") is None:
        return None
    repl = qemu_device.RawRepl("256K", timeout=600, icount=True)
    try:
        out = repl.exec(QEMU_VERIFY_SCRIPT)
    finally:
        repl.close()
    ok, us = out.split("VERIFY", 1)[1].split()
    if ok != "1":
        raise AssertionError("the production vector did not verify on qemu: %r" % out)
    return int(us) * 1000


def run():
    figures = powercut_figures()
    size, files = typical_bundle_bytes()
    seconds, chunk = modelled_seconds(size)
    figures.update({
        "update_bundle_bytes_pico_w": size,
        "update_bundle_files_pico_w": files,
        "update_chunk_bytes_mtu247": chunk,
        "update_s_modelled": round(seconds, 2),
        "update_verify_hash_calls": verify_hash_calls(),
    })
    instructions = verify_instructions_unix()
    if instructions is not None:
        figures["update_verify_instructions_unix"] = instructions
    instructions = verify_instructions_qemu()
    if instructions is not None:
        figures["update_verify_instructions"] = instructions
        figures["update_verify_ms_at_133mhz"] = round(instructions / 133_000, 1)
    return figures
