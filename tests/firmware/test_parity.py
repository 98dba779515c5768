"""The rule core gives byte-identical results on CPython and on the real MicroPython unix port.

At least 1,000 histories are generated with hypothesis (profiles with overrides, labs at and around
thresholds and plausibility bands, doses, symptoms, acknowledgements, snoozes, goal and taper events,
entries refused for their date or value), written to one corpus, evaluated here and by one MicroPython
process (64K heap, firmware compiled with mpy-cross as a board loads it), and compared line by line.
"""
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host_tools import deploy
from monitor import profile as P
from monitor import records as R

from paths import TESTS as HERE  # noqa: E402
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import parity_eval  # noqa: E402

BIN = os.path.dirname(sys.executable)
BASE = 9400
HISTORIES = 1000

# values near every rule threshold and plausibility edge, in stored units
E2_VALUES = [0, 40, 49, 50, 99, 100, 101, 149, 150, 199, 200, 201, 240, 259, 260, 261, 300, 399, 400,
             401, 449, 450, 600, 601, 800, 801, 2000, 2001, 20000, 20001]
TT_VALUES = [0, 49, 50, 299, 300, 499, 500, 600, 1000, 1001, 1500, 1501, 5000, 5001]
HCT_VALUES = [149, 150, 299, 300, 519, 520, 539, 540, 541, 600, 601, 750, 751]
OVERRIDES = [(P.P_E2_HIGH, 400, 900), (P.P_E2_LOW, 100, 250), (P.P_TE_RATIO, 50, 200),
             (P.P_LEVELS + 12, -1, 2), (P.P_LEVELS + 3, -1, 2), (P.P_REMINDERS, 7, 60),
             (P.P_E2_PERSIST_DAYS, 7, 60), (P.P_NO_LAB_DAYS, 14, 90)]

lab = st.one_of(
    st.tuples(st.just(R.KIND_LAB), st.just(R.A_E2), st.sampled_from(E2_VALUES), st.sampled_from([0, 1, 2, 4, 5, 8, 9, 12, 16])),
    st.tuples(st.just(R.KIND_LAB), st.just(R.A_TT), st.sampled_from(TT_VALUES), st.sampled_from([0, 4, 8])),
    st.tuples(st.just(R.KIND_LAB), st.just(R.A_HCT), st.sampled_from(HCT_VALUES), st.sampled_from([0, 8])),
    st.tuples(st.just(R.KIND_LAB), st.integers(0, 15), st.integers(-100, 3000), st.sampled_from([0, 8])),
)
dose = st.tuples(st.just(R.KIND_DOSE), st.integers(0, 1), st.sampled_from([0, 100, 125, 250, 500, 1000, 1001]),
                 st.sampled_from([0, 8]))
symptom = st.tuples(st.just(R.KIND_SYMPTOM), st.integers(0, 12), st.integers(0, 4), st.just(0))
event = st.one_of(
    st.tuples(st.just(R.KIND_EVENT), st.just(R.EVENT_ACK), st.one_of(st.integers(0, 8), st.integers(64, 91)), st.just(0)),
    st.tuples(st.just(R.KIND_EVENT), st.just(R.EVENT_SNOOZE), st.integers(0, 8), st.integers(1, 14)),
    st.tuples(st.just(R.KIND_EVENT), st.just(R.EVENT_GOAL), st.integers(0, 2), st.just(0)),
    st.tuples(st.just(R.KIND_EVENT), st.sampled_from([R.EVENT_TAPER_START, R.EVENT_TAPER_END]), st.just(0), st.just(0)),
)
entry = st.tuples(st.integers(0, 400), st.integers(0, 1439), st.one_of(lab, lab, dose, symptom, symptom, event))
override = st.sampled_from(OVERRIDES).flatmap(lambda o: st.tuples(st.just(o[0]), st.integers(o[1], o[2])))
history = st.fixed_dictionaries({
    "profile": st.tuples(st.integers(0, 2), st.sampled_from([0, 1950, 1970, 1976, 1990]), st.integers(0, 1),
                         st.sampled_from([0, 6, 12, 24])),
    "overrides": st.lists(override, max_size=3),
    "entries": st.lists(entry, min_size=1, max_size=30),
    "after": st.integers(-5, 200),
})


def corpus_lines(histories):
    lines = []
    for h in histories:
        words = ["H"] + [str(x) for x in h["profile"]]
        for index, value in h["overrides"]:
            words += [str(index), str(value)]
        lines.append(" ".join(words))
        last = 0
        for offset, minute, (kind, code, value, flags) in h["entries"]:
            lines.append("R %d %d %d %d %d %d" % (BASE + offset, minute, kind, code, value, flags))
            last = max(last, offset)
        lines.append("E %d" % (BASE + last + h["after"]))
    return lines


def generate():
    found = []

    @settings(max_examples=HISTORIES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(history)
    def collect(h):
        found.append(h)

    collect()
    return found


def test_cpython_and_micropython_agree_on_1000_histories(tmp_path):
    histories = generate()
    assert len(histories) >= HISTORIES
    lines = corpus_lines(histories)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n")

    expected = []
    parity_eval.evaluate_lines(lines, expected.append)
    assert len(expected) == len(histories)
    # the corpus exercises what it should: flags, reminders, rejections, indeterminate results
    assert sum(1 for e in expected if e.split("|")[0]) > len(expected) // 3
    assert sum(1 for e in expected if e.split("|")[1]) > len(expected) // 3
    assert sum(1 for e in expected if e.split("|")[3]) > len(expected) // 10
    assert all(e.split("|")[2] == "" for e in expected)            # clock unset: never a reminder

    deploy.compile_firmware("armv6m", str(tmp_path / "mpy"))   # the device build, as a board loads it
    env = dict(os.environ, MICROPYPATH=str(tmp_path / "mpy"))
    proc = subprocess.run([os.path.join(BIN, "micropython"), "-X", "heapsize=64K",
                           os.path.join(HERE, "parity_eval.py"), str(corpus)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    got = proc.stdout.splitlines()
    assert len(got) == len(expected)
    mismatches = [i for i in range(len(expected)) if got[i] != expected[i]]
    assert not mismatches, "history %d: CPython %r, MicroPython %r" % (
        mismatches[0], expected[mismatches[0]], got[mismatches[0]])
