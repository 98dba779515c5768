# The tracker itself: snapshots, entry context (free T against total T, a week's doses), back-dated
# entries, reset, and the small-int limit of its integer comparisons.
BUFFER = bytearray(1280)   # made before the imports: the largest block, while the 64K heap is empty
from core_helpers import DAY0, History  # noqa: E402,I001
from monitor import records as R  # noqa: E402
from monitor import rules as U  # noqa: E402
from monitor import state as S  # noqa: E402


def refused(t, blob):
    try:
        t.load(blob)
    except ValueError:
        return True
    return False


def test_snapshot_round_trip_and_refusals():
    from monitor.snapshot import SIZE
    h = History(0).dose(DAY0, R.D_ANASTROZOLE, 500).lab(DAY0 + 20, R.A_E2, 650).symptom(DAY0 + 21, R.S_GYNO, 1)
    t = h.tracker
    blob = memoryview(t.dump_into(BUFFER))[:SIZE]
    flags = t.flags(DAY0 + 30)
    reminders = t.reminders(DAY0 + 30)
    t.reset()
    assert t.flags(DAY0 + 30) == () and t.last_seq == 0
    t.load(blob)
    assert t.flags(DAY0 + 30) == flags and t.reminders(DAY0 + 30) == reminders and t.last_seq == 3
    assert refused(t, blob[:SIZE - 1])
    for offset in (0, 20, SIZE - 1):          # magic, state, CRC: each damage is refused
        BUFFER[offset] ^= 1
        assert refused(t, blob)
        BUFFER[offset] ^= 1
    t.profile.params[0] += 1                  # another profile: the snapshot does not apply
    assert refused(t, blob)
    t.profile.params[0] -= 1
    t.load(blob)


def test_entry_context_free_t_and_weekly_doses():
    h = History(0).lab(DAY0, R.A_TT, 500)
    t = h.tracker
    assert t.check(R.KIND_LAB, R.A_FT, 5000, 0, DAY0, 0, DAY0) == 0
    assert t.check(R.KIND_LAB, R.A_FT, 5001, R.FLAG_CONFIRMED, DAY0, 0, DAY0) == R.ERR_FT_ABOVE_TT
    for day in range(7):
        h.dose(DAY0 + day, R.D_ANASTROZOLE, 1000)
    assert t.week_total(R.D_ANASTROZOLE, DAY0 + 6) == 7000
    assert t.week_total(R.D_ANASTROZOLE, DAY0 + 7) == 6000
    assert t.check(R.KIND_DOSE, R.D_ANASTROZOLE, 1000, 0, DAY0 + 6, 0, DAY0 + 6) == R.ERR_CONFIRM_WEEK
    assert t.check(R.KIND_DOSE, R.D_ANASTROZOLE, 1001, 0, DAY0 + 7, 0, DAY0 + 7) == R.ERR_CONFIRM   # per dose
    assert t.check(R.KIND_DOSE, R.D_ANASTROZOLE, 1000, 0, DAY0 + 7, 0, DAY0 + 7) == 0   # 6000 + 1000 = 7000
    assert t.check(R.KIND_LAB, R.A_E2, 300, 0, DAY0 + 9, 0, DAY0 + 8) == R.ERR_FUTURE


def test_back_dated_entries_do_not_replace_later_ones():
    h = History(2).lab(DAY0 + 10, R.A_E2, 650).lab(DAY0 + 5, R.A_E2, 300)
    assert h.tracker.latest(R.A_E2) == (650, DAY0 + 10, R.FLAG_CONFIRMED | R.FLAG_CLINIC)
    assert h.rules(DAY0 + 10) == [U.R_E2_HIGH]
    h = History(2).dose(DAY0 + 10, R.D_ANASTROZOLE, 500).dose(DAY0 + 2, R.D_ANASTROZOLE, 250)
    assert h.tracker.st[S.LAST_CHANGE] == DAY0 + 10            # LAST_CHANGE: the back-dated dose is not a change
    assert h.tracker.st[S.THERAPY_START] == DAY0 + 2             # THERAPY_START moves back


def test_rule_arithmetic_stays_below_the_small_int_limit():
    from monitor import profile as P
    from monitor.validate import LAB_REJECT_HI
    # T:E2 ratio: T * 100 < ratio * E2 with the largest values a profile and an entry may hold
    assert LAB_REJECT_HI[R.A_TT] * 100 < 2 ** 30
    assert 1000 * LAB_REJECT_HI[R.A_E2] < 2 ** 30      # TE_RATIO allowed up to 100.0 (tenths)
    assert P.PARAM_COUNT * 4 < 2 ** 30 and 65535 + 3650 * 3 < 2 ** 30   # day arithmetic


def test_a_flag_resting_on_a_patient_entered_result_says_so():
    h = History(2)
    h.seq += 1
    h.tracker.apply(h.seq, DAY0, 0, R.KIND_LAB, R.A_E2, 650, R.FLAG_CONFIRMED)   # no FLAG_CLINIC: the patient's
    assert [(f[0], f[5]) for f in h.tracker.flags(DAY0)] == [(U.R_E2_HIGH, U.STATUS_PATIENT_REPORTED)]
    h.lab(DAY0 + 1, R.A_E2, 650)                                                  # the clinic's
    assert [(f[0], f[5]) for f in h.tracker.flags(DAY0 + 1)] == [(U.R_E2_HIGH, 0)]
