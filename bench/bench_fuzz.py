"""Coverage-guided fuzzing of the device endpoint (tests/sync/atheris_endpoint.py): runs, coverage, crashes."""
import os
import sys

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
sys.path[:0] = [os.path.join(TESTS, "sync"), TESTS]

from test_fuzz_atheris import run_fuzzer  # noqa: E402

RUNS = 200000


def run():
    code, _text, covered = run_fuzzer(RUNS, seed=7)
    return {"atheris_runs": RUNS, "atheris_coverage": covered, "atheris_crashes": 0 if code == 0 else 1}
