"""The device app object on the real Store, Tracker and Clock: boot restore, clock rules, refusals."""
import os
import struct
import sys

import pytest

from paths import TESTS
from sim import env, vclock

env.install()

from monitor.app import App  # noqa: E402
from monitor.clock import JUMP_LOG_SECONDS, MIN_VALID_DAY, Clock  # noqa: E402
from monitor import profile_codec, protocol, protocol_host, records, rules, schedule  # noqa: E402
from monitor import profile as P  # noqa: E402
from monitor import state as S  # noqa: E402
from monitor.store import Store  # noqa: E402

import machine  # noqa: E402  (the simulator's RTC on the virtual clock)

DAY = 9800   # 2026-10-31


def make_app(path, snapshot_every=4, **store_args):
    app = App(Store(str(path), **store_args), Clock(machine.RTC()), str(path), snapshot_every=snapshot_every)
    app.boot()
    return app


@pytest.fixture(autouse=True)
def fresh_clock():
    vclock.reset()          # a Pico W after power loss: RTC at 2021-01-01, i.e. unset
    yield


def log_course(app):
    """E2 low with joint pain after starting anastrozole: flags and a recheck reminder."""
    entries = [
        (records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 40),
        (records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 33),
        (records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY - 20),
        (records.KIND_LAB, records.A_E2, 110, records.METHOD_LCMS, DAY - 12),
        (records.KIND_LAB, records.A_TT, 650, 0, DAY - 12),
        (records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0, DAY - 5),
    ]
    for kind, code, value, flags, day in entries:
        status, seq = app.submit_entry(kind, code, value, flags, day, 600)
        assert status == 0, app.status_text(status)
        assert seq is not None


def test_unset_clock_refuses_entries_and_fires_nothing(tmp_path):
    app = make_app(tmp_path)
    assert app.clock_now() is None
    status, seq = app.submit_entry(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY, 600)
    assert status == records.ERR_CLOCK and seq is None
    assert app.reminders_now() == () and app.due_reminders() == []
    assert app.store.next_seq == 1          # nothing stored
    assert "clock" in app.status_text(status)


def test_setting_the_clock_logs_large_jumps_only(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)              # from unset: always logged
    app.set_clock(DAY, 601, 0)              # 60 s correction: not logged
    app.set_clock(DAY + 2, 600, 0)          # two days: logged with the jump
    events = [r for r in app.store.records(1) if r[3] == records.KIND_EVENT and r[4] == records.EVENT_CLOCK_SET]
    assert len(events) == 2
    assert events[1][5] == 2 * 86400 - 60
    assert 2 * 86400 - 60 >= JUMP_LOG_SECONDS
    assert app.clock_now()[:2] == (DAY + 2, 600)
    assert app.set_clock(DAY, 1440, 0) == records.ERR_DATE     # impossible time: refused, clock unchanged
    assert app.clock_now()[:2] == (DAY + 2, 600)


def test_clock_earlier_than_the_log_counts_as_unset(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    app.store.close()
    # Power loss on a board whose RTC kept running wrong: it now reads a year before the last record.
    vclock.reset(wall_seconds=vclock.EPOCH_2000 + (DAY - 365) * 86400)
    app = make_app(tmp_path)
    assert MIN_VALID_DAY < DAY - 365
    assert app.clock_now() is None and app.reminders_now() == ()


def test_boot_restores_from_snapshot_and_replays_only_the_tail(tmp_path):
    app = make_app(tmp_path, snapshot_every=4)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    flags, reminders = app.flags_now(), app.reminders_now()
    assert any(f[rules.F_RULE] == rules.R_E2_LOW_SYMPT for f in flags)
    total = app.store.next_seq - 1
    app.store.close()
    app2 = make_app(tmp_path, snapshot_every=4)
    snap_upto = app2.store.load_snapshot()[0]
    assert 0 < snap_upto < total
    assert app2.tracker.last_seq == total
    assert app2.flags_now() == flags and app2.reminders_now() == reminders


def test_damaged_snapshot_is_rebuilt_from_the_whole_log(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    flags = app.flags_now()
    app.store.save_snapshot(app.store.next_seq - 1, b"\x00" * 40)   # a blob the tracker refuses
    app.store.close()
    app2 = make_app(tmp_path)
    assert app2.flags_now() == flags and app2.tracker.last_seq == app.tracker.last_seq


def test_bad_entries_get_clear_errors_and_store_nothing(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    before = app.store.next_seq
    cases = [
        ((records.KIND_SYMPTOM, records.S_JOINT, 2, 0, DAY + 1, 600), records.ERR_FUTURE),
        ((records.KIND_EVENT, records.EVENT_ACK, 0, 0, DAY, 600), records.ERR_KIND),
        ((records.KIND_SYMPTOM, records.S_JOINT, 7, 0, DAY, 600), records.ERR_SEVERITY),
        ((records.KIND_LAB, records.A_E2, 2500, 0, DAY, 600), records.ERR_CONFIRM),   # 250 pg/mL unconfirmed
    ]
    for entry, expected in cases:
        status, seq = app.submit_entry(*entry)
        assert (status, seq) == (expected, None)
        assert app.status_text(status) == records.error_message(expected)
    assert app.store.next_seq == before


def test_store_full_is_refused_with_sync_now_and_nothing_is_lost(tmp_path):
    app = make_app(tmp_path, snapshot_every=1000, segment_records=4, max_segments=2)
    app.set_clock(DAY, 600, 0)
    stored = []
    for i in range(20):
        status, seq = app.submit_entry(records.KIND_SYMPTOM, i % 13, 1, 0, DAY, i)
        if status:
            assert status == protocol.ERR_STORE_FULL
            break
        stored.append(seq)
    else:
        pytest.fail("the store never filled")
    assert "sync" in app.status_text(protocol.ERR_STORE_FULL).lower()
    assert [r[0] for r in app.store.records(1)][-len(stored):] == stored


def test_profile_set_persists_and_bad_blob_is_refused(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    assert app.set_profile(b"junk") == records.ERR_PROFILE
    profile = P.Profile()
    profile_codec.set_param(profile, "E2_LOW_SYMPT", 105)     # a clinician lowers the threshold below this E2 of 11 pg/mL (above E2_CRITICAL)
    assert app.set_profile(profile_codec.encode(profile)) == 0
    assert not any(f[rules.F_RULE] == rules.R_E2_LOW_SYMPT for f in app.flags_now())
    last = list(app.store.records(1))[-1]
    assert (last[3], last[4]) == (records.KIND_EVENT, records.EVENT_PROFILE_SET)
    app.store.close()
    app2 = make_app(tmp_path)
    assert app2.profile_blob() == profile_codec.encode(profile)
    assert app2.flags_now() == app.flags_now()


def test_a_version_2_profile_keeps_the_clinicians_values_across_a_firmware_update(tmp_path):
    # profile.bin written by the previous firmware: migrated as it is read, left as written (a rollback to
    # that firmware still reads it), and the self-test of the update accepts it
    sys.path.insert(0, os.path.join(TESTS, "core"))
    from profile_vectors import V2_PROFILE_HEX, V2_PROFILE_VALUES
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    app.store.close()
    with open(os.path.join(str(tmp_path), "profile.bin"), "wb") as f:
        f.write(bytes.fromhex(V2_PROFILE_HEX))
    app2 = make_app(tmp_path)
    for name, value in V2_PROFILE_VALUES:
        assert profile_codec.get_param(app2.profile, name) == value, name
    with open(os.path.join(str(tmp_path), "profile.bin"), "rb") as f:
        assert f.read() == bytes.fromhex(V2_PROFILE_HEX)
    from monitor import selftest
    assert selftest.run(app2, os.path.join(str(tmp_path), "profile.bin")) is None
    assert app2.profile_blob() == profile_codec.encode(app2.profile)     # hosts read it in this version
    profile = profile_codec.decode(app2.profile_blob())
    profile_codec.set_param(profile, "ACK_GRACE", 10)
    assert app2.set_profile(profile_codec.encode(profile)) == 0         # a clinician's next profile: v3
    with open(os.path.join(str(tmp_path), "profile.bin"), "rb") as f:
        assert f.read()[4] == P.PROFILE_VERSION


def test_acknowledge_sync_marks_the_store(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    assert app.acknowledge_sync(10 ** 6) == records.ERR_RANGE
    upto = app.store.next_seq - 1
    assert app.acknowledge_sync(upto) == 0
    assert app.store.acked == upto and app.last_sync_day == DAY
    marks = app.store.next_seq
    assert app.acknowledge_sync(upto) == 0 and app.store.next_seq == marks   # a repeat logs nothing
    assert app.unsynced_count() == 1       # only the sync mark itself
    payload = app.alerts_payload()
    flags, reminders = protocol_host.decode_alerts(payload)
    assert [tuple(f) for f in flags] == [tuple(f) for f in app.flags_now()]
    assert len(reminders) == len(app.reminders_now())


def test_acknowledge_and_snooze_mute_a_due_reminder(tmp_path):
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    log_course(app)
    app.set_clock(DAY + 25, 600, 0)          # four weeks after the dose change
    due = app.due_reminders()
    assert due, "the course leaves a recheck due"
    first = app.reminder_id(due[0])
    app.snooze_reminder(first)
    assert first not in [app.reminder_id(r) for r in app.due_reminders()]
    muted = [r for r in app.reminders_now() if r[schedule.M_ID] == first][0]
    assert muted[schedule.M_MUTED] == schedule.MUTED_SNOOZE
    app.set_clock(DAY + 25 + 8, 600, 0)      # the snooze (7 days) is over
    assert first in [app.reminder_id(r) for r in app.due_reminders()]
    app.acknowledge_reminder(first)
    assert first not in [app.reminder_id(r) for r in app.due_reminders()]


def test_a_flash_from_before_ug_doses_boots_with_its_testosterone_doses_in_ug(tmp_path):
    """Earlier firmware's log (testosterone doses in mg, no FLAG_UG): the state rebuilt at boot counts them at
    their real size in the week's total (the 400 mg/week confirm band), a new dose is written with FLAG_UG,
    and a reboot from the snapshot or from the whole log agrees."""
    sys.path.insert(0, os.path.join(TESTS, "core"))
    from old_records import old_record   # the bytes earlier firmware wrote

    T = records.D_TESTOSTERONE
    log = bytearray(2 * records.RECORD_SIZE)
    old_record(log, 0, 1, DAY - 5, 100)
    old_record(log, records.RECORD_SIZE, 2, DAY - 2, 100)
    (tmp_path / "seg_1.log").write_bytes(bytes(log))
    app = make_app(tmp_path)
    app.set_clock(DAY, 600, 0)
    assert app.tracker.week_total(T, DAY) == 200000
    status, seq = app.submit_entry(records.KIND_DOSE, T, 100000, 0, DAY, 600)     # 300 mg this week
    assert status == 0
    assert app.submit_entry(records.KIND_DOSE, T, 150000, 0, DAY, 610)[0] == records.ERR_CONFIRM_WEEK
    raw = bytearray(records.RECORD_SIZE)
    assert app.store.read_into(seq, raw)[0] == 1
    assert struct.unpack_from(records.RECORD_FORMAT, raw)[4:] == (100000, records.FLAG_UG)
    app.save_snapshot()
    assert make_app(tmp_path).tracker.week_total(T, DAY) == 300000       # from the snapshot
    for name in os.listdir(tmp_path):
        if name.startswith("snap"):
            os.remove(tmp_path / name)
    again = make_app(tmp_path)                                            # from the whole log
    assert again.tracker.week_total(T, DAY) == 300000 and again.tracker.st[S.LAST_CHANGE] == DAY - 5
