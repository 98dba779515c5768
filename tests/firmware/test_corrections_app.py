"""Corrections, duplicates and unusual dates on the device app (tests/firmware/corrections_cases.py): on
CPython, and on the MicroPython unix port with the firmware compiled as a board loads it, in the device's
heap budget (bench_device.HEAP_BUDGET)."""
import os
import subprocess
import sys

from paths import ROOT, TESTS
from sim import env

env.install()

from corrections_cases import (  # noqa: E402,F401  (pytest collects them here)
    test_a_correction_cut_before_its_snapshot_is_applied_at_boot,
    test_a_correction_the_device_cannot_evaluate_exactly_is_refused,
    test_a_date_before_the_therapy_or_a_year_back_needs_confirmation,
    test_amending_replaces_the_value_everywhere_the_device_looks,
    test_an_exact_duplicate_needs_the_hosts_confirmation,
    test_the_patient_voids_only_his_own_entries_of_today,
    test_voiding_a_high_e2_clears_its_flag_and_stays_cleared_after_a_reboot,
)

RUN = """
import gc, sys
import corrections_cases as t
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


def test_the_cases_pass_on_micropython_in_the_device_heap(tmp_path):
    from bench.bench_device import HEAP_BUDGET
    from host_tools import deploy

    deploy.compile_firmware("armv6m", str(tmp_path))
    cases = os.path.join(TESTS, "firmware", "corrections_cases.py")
    with open(cases) as f:
        count = sum(1 for line in f if line.startswith("def test_"))
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "micropython"), "-X",
                          "heapsize=" + HEAP_BUDGET, "-c", RUN], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env=dict(os.environ, MICROPYPATH="%s:%s" % (tmp_path, os.path.dirname(cases))))
    assert "passed %d failed 0" % count in out.stdout, out.stdout + out.stderr
