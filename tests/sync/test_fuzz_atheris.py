"""The coverage-guided fuzzer (tests/sync/atheris_endpoint.py) runs clean: no crash, no broken invariant."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = 50000


def run_fuzzer(runs, seed=1):
    """Runs libFuzzer through atheris; returns (exit code, output, final coverage count)."""
    out = subprocess.run([sys.executable, os.path.join(HERE, "atheris_endpoint.py"), "-runs=%d" % runs,
                          "-max_len=300", "-seed=%d" % seed], cwd=HERE, capture_output=True, text=True,
                         timeout=600)
    text = out.stdout + out.stderr
    covered = [int(c) for c in re.findall(r"cov: (\d+)", text)]
    return out.returncode, text, max(covered) if covered else 0


def test_fuzzing_the_device_endpoint_finds_nothing():
    code, text, covered = run_fuzzer(RUNS)
    assert code == 0, text[-3000:]
    assert "Done %d runs" % RUNS in text
    assert covered > 150, "the fuzzer reached too little of the device code: %d" % covered
