# The rule core's benchmark history, for bench/upy_core_bench.py (unix port) and bench/bench_rp2040.py (the
# Pico W image on the emulated RP2040): build(entries) -> (tracker, today).
from monitor import records as R
from monitor.profile import P_BIRTH_YEAR, P_GOAL, Profile
from monitor.tracker import Tracker

DAY0 = 9500
# One cycle of 10 entries (labs, doses with a change, symptoms, an acknowledgement): the 10-entry history
# is one cycle and the 10,000-entry one a thousand, so both end in the same kind of state.
KINDS = ((R.KIND_DOSE, 0, 500, 0), (R.KIND_DOSE, 1, 100000, 0), (R.KIND_LAB, R.A_TT, 550, 0),
         (R.KIND_LAB, R.A_HCT, 545, 0), (R.KIND_SYMPTOM, R.S_GYNO, 1, 0), (R.KIND_LAB, R.A_E2, 650, 2),
         (R.KIND_SYMPTOM, R.S_JOINT, 2, 0), (R.KIND_SYMPTOM, R.S_MOOD, 1, 0), (R.KIND_EVENT, R.EVENT_ACK, 2, 0),
         (R.KIND_DOSE, 0, 250, 0))


def build(entries):
    profile = Profile()
    profile.params[P_GOAL] = R.GOAL_TRT
    profile.params[P_BIRTH_YEAR] = 1968
    t = Tracker(profile)
    for i in range(entries):
        kind, code, value, flags = KINDS[i % len(KINDS)]
        # the last cycle falls on the same days in both histories; older ones go back in time
        t.apply(i + 1, DAY0 + (i - entries + len(KINDS)) // 8, 0, kind, code, value, flags)
    return t, DAY0 + 4
