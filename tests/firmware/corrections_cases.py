# Corrections in the open (monitor.corrections), duplicates and unusual dates: the device app on a real
# Store and Clock, in plain functions that test_corrections_app.py runs on CPython and on the MicroPython
# unix port (the whole app needs more than the core tests' 64K heap). The log keeps every entry; what a voided or amended one said no longer counts, also
# after a reboot and after a power cut between the correction and its snapshot.
import monitor.tracker  # noqa: F401,I001  (the largest import first: least fragmentation)
from monitor.app import App
from monitor.corrections import correct
from monitor.clock import Clock
from monitor.store import Store
from monitor import protocol, rules
from monitor import state as S
from monitor import records as R
from device.soft_rtc import SoftRTC

import os

DAY = 9800   # 2026-10-31
CLINIC = protocol.ROLE_CLINICIAN
E2_LADDER = (rules.R_E2_ABOVE, rules.R_E2_MILD, rules.R_E2_HIGH, rules.R_E2_SEVERE)
_RTC = SoftRTC()


def _dir():
    return "/tmp/e2mon_corr_%s" % "".join("%02x" % b for b in os.urandom(4))


def _app(path, **store_args):
    app = App(Store(path, **store_args), Clock(_RTC), path, snapshot_every=4)
    app.boot()
    if app.clock_now() is None or app.clock_now()[0] != DAY:
        assert app.set_clock(DAY, 600, 0, protocol.TIME_FORCE) == 0
    return app


def _e2_flags(app):
    return [f[rules.F_RULE] for f in app.flags_now() if f[rules.F_RULE] in E2_LADDER]


def _course(app):
    # therapy started 40 days ago, then a high E2 from the clinic
    assert app.submit_entry(R.KIND_DOSE, R.D_ANASTROZOLE, 1000, 0, DAY - 40, 600, CLINIC)[0] == 0
    status, seq = app.submit_entry(R.KIND_LAB, R.A_E2, 900, R.METHOD_LCMS | R.FLAG_CONFIRMED, DAY - 2, 600, CLINIC)
    assert status == 0
    return seq


def rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        os.remove(path + "/" + name)
    os.rmdir(path)


def _in(path, fn):
    try:
        fn(path)
    finally:
        rmtree(path)


def test_voiding_a_high_e2_clears_its_flag_and_stays_cleared_after_a_reboot():
    def check(path):
        app = _app(path)
        seq = _course(app)
        assert _e2_flags(app)
        status, void_seq = correct(app, seq, 1, None, CLINIC)
        assert status == 0 and void_seq == seq + 1
        assert _e2_flags(app) == []
        assert app.tracker.latest(R.A_E2) is None
        # the log keeps the entry; the correction names it and its reason
        last = list(app.store.records(seq))
        assert last[0][5] == 900
        assert last[1][3:] == (R.KIND_EVENT, R.EVENT_VOID, seq, 1)
        assert correct(app, seq, 1, None, CLINIC)[0] == protocol.ERR_CORRECTED
        assert correct(app, void_seq, 1, None, CLINIC)[0] == protocol.ERR_NO_ENTRY     # an event
        assert correct(app, void_seq + 5, 1, None, CLINIC)[0] == protocol.ERR_NO_ENTRY
        assert correct(app, 1, 99, None, CLINIC)[0] == protocol.ERR_BAD_VALUE          # no such reason
        app.store.close()
        again = _app(path)
        assert _e2_flags(again) == [] and again.tracker.latest(R.A_E2) is None
        again.store.close()
    _in(_dir(), check)


def test_amending_replaces_the_value_everywhere_the_device_looks():
    def check(path):
        app = _app(path)
        seq = _course(app)
        fixed = (R.KIND_LAB, R.A_E2, 300, R.METHOD_LCMS, DAY - 2, 600)
        assert correct(app, seq, 2, (R.KIND_LAB, R.A_TT, 300, 0, DAY - 2, 600), CLINIC)[0] == R.ERR_CODE
        status, amend_seq = correct(app, seq, 2, fixed, CLINIC)
        assert status == 0
        assert _e2_flags(app) == []
        assert app.tracker.latest(R.A_E2)[0] == 300
        replacement, event = list(app.store.records(amend_seq - 1))
        assert replacement[3:6] == (R.KIND_LAB, R.A_E2, 300)
        assert replacement[6] & R.FLAG_AMENDS and replacement[6] & R.FLAG_CLINIC
        assert event[3:] == (R.KIND_EVENT, R.EVENT_AMEND, seq, 2)
        app.store.close()
    _in(_dir(), check)


def test_a_correction_cut_before_its_snapshot_is_applied_at_boot():
    def check(path):
        app = _app(path)
        seq = _course(app)
        app.save_snapshot()
        app.store.append(DAY, 601, R.KIND_EVENT, R.EVENT_VOID, seq, 0)   # the power went before the rebuild
        app.store.close()
        again = _app(path)
        assert _e2_flags(again) == [] and again.tracker.latest(R.A_E2) is None
        again.store.close()
    _in(_dir(), check)


def test_the_patient_voids_only_his_own_entries_of_today():
    def check(path):
        app = _app(path)
        seq = _course(app)
        assert correct(app, seq, 0)[0] == protocol.ERR_ROLE                       # the clinic's result
        yesterday = app.submit_entry(R.KIND_SYMPTOM, R.S_JOINT, 2, 0, DAY - 1, 600)[1]
        today = app.submit_entry(R.KIND_SYMPTOM, R.S_JOINT, 3, 0, DAY, 500)[1]
        assert correct(app, yesterday, 0)[0] == protocol.ERR_ROLE
        assert correct(app, today, 0, (R.KIND_SYMPTOM, R.S_JOINT, 1, 0, DAY, 500))[0] == protocol.ERR_ROLE
        assert correct(app, today, 0)[0] == 0
        assert app.tracker.st[S.SYM_DAY + R.S_JOINT] == DAY - 1    # yesterday's entry counts again
        app.store.close()
    _in(_dir(), check)


def test_a_correction_the_device_cannot_evaluate_exactly_is_refused():
    def check(path):
        app = _app(path, segment_records=4)
        for i in range(10):
            assert app.submit_entry(R.KIND_SYMPTOM, i, 1, 0, DAY - 20 + i, 600, CLINIC)[0] == 0
        assert app.acknowledge_sync(app.store.next_seq - 1) == 0     # the host stored them: segments go
        assert app.store.first_seq > 1
        assert correct(app, 1, 0, None, CLINIC)[0] == protocol.ERR_NO_ENTRY           # gone from the device
        for i in range(8):   # snapshots move on; without a new sync mark nothing more is reclaimed
            assert app.submit_entry(R.KIND_SYMPTOM, i, 2, 0, DAY - 5 + i // 4, 600 + i, CLINIC)[0] == 0
        oldest = app.store.load_snapshot(app.store.load_snapshot()[0])[0]
        assert 1 < app.store.first_seq <= oldest
        target = app.store.first_seq
        while list(app.store.records(target))[0][3] == R.KIND_EVENT:
            target += 1
        assert target <= oldest
        assert correct(app, target, 0, None, CLINIC)[0] == protocol.ERR_CORRECT_OLD
        newer = app.submit_entry(R.KIND_SYMPTOM, R.S_MOOD, 2, 0, DAY, 600, CLINIC)[1]
        assert correct(app, newer, 0, None, CLINIC)[0] == 0                             # after the snapshot
        app.store.close()
    _in(_dir(), check)


def test_an_exact_duplicate_needs_the_hosts_confirmation():
    def check(path):
        app = _app(path)
        seq = _course(app)
        entry = (R.KIND_LAB, R.A_E2, 900, R.METHOD_LCMS | R.FLAG_CONFIRMED, DAY - 2, 600)
        assert app.submit_entry(*entry, role=CLINIC) == (protocol.ERR_DUPLICATE, seq)
        assert app.submit_entry(R.KIND_LAB, R.A_E2, 900, entry[3], DAY - 2, 601, CLINIC)[0] == 0   # another time
        status, again = app.submit_entry(*entry, role=CLINIC, options=protocol.ENTRY_OPT_DUPLICATE)
        assert status == 0 and again > seq
        assert correct(app, again, 1, None, CLINIC)[0] == 0
        assert correct(app, seq, 1, None, CLINIC)[0] == 0
        assert app.submit_entry(*entry, role=CLINIC)[0] == 0       # both voided: no longer a duplicate
        app.store.close()
    _in(_dir(), check)


def test_a_date_before_the_therapy_or_a_year_back_needs_confirmation():
    def check(path):
        app = _app(path)
        _course(app)
        lab = (R.KIND_LAB, R.A_TT, 500, 0)
        assert app.submit_entry(*lab, DAY - 41, 600, CLINIC)[0] == protocol.ERR_DATE_UNUSUAL
        assert app.submit_entry(*lab, DAY - 41, 600, CLINIC, protocol.ENTRY_OPT_DATE)[0] == 0
        assert app.submit_entry(*lab, DAY - 30, 600, CLINIC)[0] == 0
        app.store.close()
    _in(_dir(), check)

    def year(path):
        app = _app(path)
        assert app.submit_entry(R.KIND_SYMPTOM, R.S_MOOD, 1, 0, DAY, 600, CLINIC)[0] == 0
        assert app.submit_entry(R.KIND_SYMPTOM, R.S_MOOD, 1, 0, DAY - 366, 600, CLINIC)[0] == \
            protocol.ERR_DATE_UNUSUAL
        assert app.submit_entry(R.KIND_SYMPTOM, R.S_MOOD, 1, 0, DAY - 365, 600, CLINIC)[0] == 0
        assert app.submit_entry(R.KIND_SYMPTOM, R.S_MOOD, 2, 0, DAY - 3000, 600)[0] == 0   # the buttons
        app.store.close()
    _in(_dir(), year)
