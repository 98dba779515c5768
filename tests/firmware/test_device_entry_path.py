"""Who may set the clock, a clock set back before the log, future entries, the patient's daily push budget
and the buttons' reserve: the real App, Store, Clock and Endpoint, with hosts speaking real session frames
(clinical-rules §5 "Dates in the future are rejected")."""
import pytest

from sim import env, vclock

env.install()

from monitor.app import CLOCK_FORCED, App  # noqa: E402
from monitor.clock import Clock  # noqa: E402
from device.ui import HOME, UI  # noqa: E402
from monitor import profile as P  # noqa: E402
from monitor import profile_codec, protocol, protocol_host, records, session  # noqa: E402
from monitor.dates import format_day  # noqa: E402
from monitor.endpoint import Endpoint  # noqa: E402
from monitor.store import Store  # noqa: E402

import machine  # noqa: E402  (the simulator's RTC on the virtual clock)

DAY = 9800   # 2026-10-31
KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def fresh_clock():
    vclock.reset()
    yield


def make_app(path, **store_args):
    app = App(Store(str(path), **store_args), Clock(machine.RTC()), str(path), snapshot_every=8)
    app.boot()
    return app


class Host:
    """One session with the device's endpoint, as a host opens it (the device's own session primitives)."""

    def __init__(self, app, role):
        self.ep = Endpoint(app, KEY, lambda n: bytes(n))
        self.ep.connected(247)
        rkey = session.role_key(KEY, role)
        nonce = bytes(range(16))
        self.ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_HELLO, role)) + nonce)
        device_nonce = self.ep.next_frame()[1][1:17]
        self.ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_PROOF,)) + session.host_proof(
            rkey, role, nonce, device_nonce))
        assert self.ep.next_frame() == (protocol.CH_AUTH, bytes((protocol.AUTH_OPEN, role)))
        self.out = session.FrameCipher(*session.direction_keys(rkey, role, nonce, device_nonce,
                                                               session.DIR_HOST_TO_DEVICE), session.DIR_HOST_TO_DEVICE)
        self.inp = session.FrameCipher(*session.direction_keys(rkey, role, nonce, device_nonce,
                                                               session.DIR_DEVICE_TO_HOST), session.DIR_DEVICE_TO_HOST)

    def request(self, channel, plaintext):
        self.ep.receive(channel, self.out.seal(channel, plaintext))
        got, frame = self.ep.next_frame()
        return got, self.inp.open(got, frame)

    def set_time(self, day, minute, force=False):
        payload = protocol.encode_cts(day, minute, 0) + (bytes((protocol.TIME_FORCE,)) if force else b"")
        channel, reply = self.request(protocol.CH_TIME, payload)
        if channel == protocol.CH_AUTH:
            return reply[1]          # a refusal: the error code
        return reply[0]

    def push(self, kind, code, value, flags, day, minute):
        channel, reply = self.request(protocol.CH_ENTRY, protocol_host.encode_entry(kind, code, value, flags, day, minute))
        assert channel == protocol.CH_ENTRY
        return protocol_host.decode_entry_reply(reply)[0]


def clock_events(app):
    return [r for r in app.store.records(1) if r[3] == records.KIND_EVENT and r[4] == records.EVENT_CLOCK_SET]


def test_only_the_clinician_sets_the_clock(tmp_path):
    app = make_app(tmp_path)
    assert Host(app, protocol.ROLE_CLINICIAN).set_time(DAY, 600) == protocol.STATUS_OK
    patient = Host(app, protocol.ROLE_PATIENT)
    assert patient.set_time(DAY + 1500, 600) == protocol.ERR_ROLE        # the 2030 attack
    assert app.clock_now()[0] == DAY and len(clock_events(app)) == 1
    channel, reply = patient.request(protocol.CH_TIME, b"")              # reading stays open to the patient
    assert channel == protocol.CH_TIME and reply[0] == protocol.STATUS_OK
    assert protocol.decode_cts(reply[1:])[0] == DAY


def test_setting_the_clock_back_before_the_log_needs_force_and_is_logged(tmp_path):
    app = make_app(tmp_path)
    clinician = Host(app, protocol.ROLE_CLINICIAN)
    assert clinician.set_time(DAY + 400, 600) == protocol.STATUS_OK       # a clock a year ahead
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY + 400, 600)[0] == 0
    # 2005 with records up to DAY + 400: refused, nothing changes
    assert clinician.set_time(1900, 600) == protocol.ERR_CLOCK_BACK
    assert app.clock_now()[0] == DAY + 400 and len(clock_events(app)) == 1
    assert clinician.set_time(DAY + 400, 500) == protocol.STATUS_OK       # the same day: a correction
    # forced: set, logged with the jump and CLOCK_FORCED, a new clock epoch begins
    assert clinician.set_time(DAY, 600, force=True) == protocol.STATUS_OK
    forced = clock_events(app)[-1]
    assert forced[1] == DAY and forced[6] == CLOCK_FORCED
    assert -2 <= forced[5] - (-400 * 86400 + 100 * 60) <= 0        # the jump, in seconds
    assert app.clock_now()[0] == DAY
    # an entry dated before the epoch cannot be placed in time: refused with its code
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY - 1, 600)[0] == records.ERR_BEFORE_CLOCK
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY, 600)[0] == 0
    # after a reboot the forced clock is still trusted (the epoch is in the log), the rule still holds
    app.store.close()
    app = make_app(tmp_path)
    assert app.clock_now() is not None and app.clock_now()[0] == DAY
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_FATIGUE, 1, 0, DAY - 1, 600)[0] == records.ERR_BEFORE_CLOCK


def test_a_clock_read_before_the_newest_record_is_unset_at_boot(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 600)[0] == 0
    app.store.close()
    vclock.reset(wall_seconds=vclock.EPOCH_2000 + (DAY - 1) * 86400 + 36000)   # the RTC came back a day early
    app = make_app(tmp_path)
    assert app.clock_now() is None
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY - 1, 600)[0] == records.ERR_CLOCK


def test_future_entries_beyond_ten_minutes_are_refused(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 9 * 60, 0)                                         # 09:00
    patient = Host(app, protocol.ROLE_PATIENT)
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 23 * 60 + 59) == records.ERR_FUTURE
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 9 * 60 + 11) == records.ERR_FUTURE
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 9 * 60 + 10) == 0


def budget_app(path, budget, **store_args):
    app = make_app(path, **store_args)
    app.set_clock(DAY, 600, 0)
    profile = P.Profile()
    profile_codec.set_param(profile, "PUSH_DAY_BUDGET", budget)
    assert app.set_profile(profile_codec.encode(profile)) == 0
    return app


def test_patient_pushes_have_a_daily_budget_the_clinician_sets(tmp_path):
    app = budget_app(tmp_path, 3)
    patient = Host(app, protocol.ROLE_PATIENT)
    for i in range(3):
        assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1 + i % 3, 0, DAY, 500 + i) == 0
    before = app.store.next_seq
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 510) == records.ERR_BUDGET
    assert app.store.next_seq == before
    # the device's buttons and the clinician are not limited
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_MOOD, 1, 0, DAY, 600)[0] == 0
    assert Host(app, protocol.ROLE_CLINICIAN).push(records.KIND_LAB, records.A_E2, 300, 0, DAY, 600) == 0
    # a new day, a new budget
    vclock.clock.warp(86400)
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY + 1, 600) == 0


def test_filling_the_store_through_the_patient_role_leaves_the_buttons_their_reserve(tmp_path):
    app = budget_app(tmp_path, 2000, segment_records=8, max_segments=4)
    patient = Host(app, protocol.ROLE_PATIENT)
    ui = UI(app)
    assert ui.lines()[:2] == [format_day(DAY), ""]       # the home screen, no sync asked yet
    pushed = 0
    while True:
        status = patient.push(records.KIND_SYMPTOM, pushed % 13, 1 + pushed % 3, 0, DAY, pushed % 600)
        if status:
            break
        pushed += 1
        assert pushed < 100, "the store never refused the host"
    assert status == protocol.ERR_STORE_FULL
    assert app.room() == 0
    ui._go(HOME)
    assert ui.lines()[1] == "SYNC NEEDED"                                 # the screen asks for a sync
    # the patient's own button entries go into the reserve (one segment)
    stored = 0
    while app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 1 + stored % 3, 0, DAY, 600)[0] == 0:
        stored += 1
    assert stored >= app.store.segment_records - 2
    # nothing was lost: every accepted entry is in the log
    symptoms = [r for r in app.store.records(1) if r[3] == records.KIND_SYMPTOM]
    assert len(symptoms) == pushed + stored


def test_the_daily_push_budget_survives_a_reboot(tmp_path):
    app = budget_app(tmp_path, 3)
    patient = Host(app, protocol.ROLE_PATIENT)
    for i in range(3):
        assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1 + i % 3, 0, DAY, 500 + i) == 0
    app.store.close()
    app = make_app(tmp_path)                          # rebooted: the same store and profile
    patient = Host(app, protocol.ROLE_PATIENT)
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 510) == records.ERR_BUDGET
    vclock.clock.warp(86400)
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY + 1, 600) == 0


def test_pushes_after_the_last_snapshot_count_after_a_reboot(tmp_path):
    app = budget_app(tmp_path, 5)
    patient = Host(app, protocol.ROLE_PATIENT)
    for i in range(2):
        assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1 + i % 3, 0, DAY, 500 + i) == 0
    app.save_snapshot()
    for i in range(2):
        assert patient.push(records.KIND_SYMPTOM, records.S_MOOD, 1 + i % 3, 0, DAY, 520 + i) == 0
    app.store.close()
    app = make_app(tmp_path)
    patient = Host(app, protocol.ROLE_PATIENT)
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 530) == 0          # the fifth
    assert patient.push(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY, 531) == records.ERR_BUDGET


def test_the_device_marks_who_entered_each_record(tmp_path):
    """A clinician's push carries records.FLAG_CLINIC; a patient's push and the buttons (role 0) do not, and
    a host cannot set the bit itself."""
    app = make_app(tmp_path)
    clinician = Host(app, protocol.ROLE_CLINICIAN)
    assert clinician.set_time(DAY, 600) == protocol.STATUS_OK
    assert clinician.push(records.KIND_LAB, records.A_E2, 650, records.FLAG_CONFIRMED, DAY, 500) == 0
    assert Host(app, protocol.ROLE_PATIENT).push(records.KIND_LAB, records.A_E2, 660, records.FLAG_CONFIRMED,
                                                 DAY, 510) == 0
    assert app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 1, 0, DAY, 520)[0] == 0    # the buttons
    assert clinician.push(records.KIND_SYMPTOM, records.S_GYNO, 1, records.FLAG_CLINIC, DAY, 530) == \
        records.ERR_FLAGS
    stored = [(r[4], r[5], r[6] & records.FLAG_CLINIC) for r in app.store.records(1)
              if r[3] != records.KIND_EVENT]
    assert stored == [(records.A_E2, 650, records.FLAG_CLINIC), (records.A_E2, 660, 0), (records.S_JOINT, 1, 0)]
