"""Power cuts, bit flips and truncated segments against monitor.store on the fault-injecting layer.

A representative subset here (every cut of a small workload, a sample of a 1,000-entry one);
bench/bench_store.py runs every cut point of the full campaign.
"""
import sys

import pytest

from paths import ROOT  # noqa: E402
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench import powercut as pc  # noqa: E402
from monitor import store as store_module  # noqa: E402
from monitor.store import Store  # noqa: E402


@pytest.fixture(scope="module")
def reclaiming_workload():
    # Small segments and a low segment limit: acks, snapshots, StoreFull and reclaim all happen.
    journal, oracle = pc.run_workload(1000, seed=11, segment_records=16, max_segments=5)
    assert len(oracle["appends"]) == 1000
    assert oracle["full_events"] > 0 and oracle["acks"] and oracle["snaps"]
    assert any(op[0] == "remove" for op in journal), "the workload never reclaimed a segment"
    return journal, oracle


def test_every_cut_of_a_small_workload_loses_nothing():
    journal, oracle = pc.run_workload(120, seed=5, segment_records=4, max_segments=3, ack_every=10,
                                      snap_every=16, reboot_every=50)
    points, lost, problems = pc.run_cuts(journal, oracle)
    assert points == pc.count_cut_points(journal) > 2000
    assert (lost, problems) == (0, [])


def test_sampled_cuts_of_a_1000_entry_workload_lose_nothing(reclaiming_workload):
    journal, oracle = reclaiming_workload
    points, lost, problems = pc.run_cuts(journal, oracle, stride=3, offset=1)
    assert points > 2000
    assert (lost, problems) == (0, [])


def test_cuts_during_recovery_lose_nothing(reclaiming_workload):
    journal, oracle = reclaiming_workload
    points, lost, problems = pc.run_recovery_cuts(journal, oracle, stride=101, offset=5)
    assert points > 1000
    assert (lost, problems) == (0, [])


def test_sampled_cuts_with_full_size_segments_lose_nothing():
    journal, oracle = pc.run_workload(1000, seed=12, segment_records=256, max_segments=120)
    points, lost, problems = pc.run_cuts(journal, oracle, stride=31)
    assert points > 500
    assert (lost, problems) == (0, [])


def test_bit_flips_are_caught_and_hide_nothing_else(reclaiming_workload):
    journal, oracle = reclaiming_workload
    trials, undetected, lost, problems = pc.bit_flip_campaign(journal, oracle, 300, seed=3)
    assert (trials, undetected, lost, problems) == (300, 0, 0, [])


def test_every_single_bit_flip_of_a_record_is_detected():
    from monitor.records import RECORD_SIZE, pack_record, record_ok, unpack_record
    rec = bytearray(RECORD_SIZE)
    pack_record(rec, 0, 123456, 9500, 600, 0, 5, -4321, 0x11)
    for bit in range(RECORD_SIZE * 8):
        bad = bytearray(rec)
        bad[bit // 8] ^= 1 << (bit % 8)
        # Caught by the check, or by the seq no longer matching the slot.
        assert not record_ok(bad) or unpack_record(bad)[0] != 123456, "bit %d undetected" % bit


def test_truncated_middle_segments_hide_nothing_after_them():
    journal, oracle = pc.run_workload(1000, seed=13, segment_records=16, max_segments=1000)
    cases, lost, problems = pc.truncation_campaign(journal, oracle, seed=4)
    assert cases > 40
    assert (lost, problems) == (0, [])


# -- the campaign can fail: broken stores are caught ------------------------------------------------
class _NoFlushFS(pc.FaultFS):
    """Acknowledges writes without making them durable (a store that forgot to flush)."""

    def sync(self, f):
        pass


def test_campaign_catches_a_store_that_does_not_flush():
    journal, oracle = pc.run_workload(60, seed=6, segment_records=8, max_segments=50)
    # Re-run the same workload on a file layer whose sync does nothing.
    broken_journal = []
    fs = _NoFlushFS(journal=broken_journal)
    fs.mkdir("/data")
    store = Store(pc.DIRECTORY, fs=fs, segment_records=8, max_segments=50)
    appends = []
    for seq in sorted(oracle["expected"]):
        rec = oracle["expected"][seq]
        from monitor.records import unpack_record
        r = unpack_record(rec)
        assert store.append(*r[1:]) == seq
        appends.append((seq, len(broken_journal)))
    store.close()
    broken_oracle = dict(oracle, appends=appends, acks=[], snaps=[])
    points, lost, problems = pc.run_cuts(broken_journal, broken_oracle, extra_append=False)
    assert lost > 0 and any("lost" in p for p in problems)


def test_campaign_catches_reclaim_of_unacknowledged_segments(monkeypatch):
    def reckless_reclaim(self):
        removed = 0
        while len(self._firsts) > 1:
            self.fs.remove(self._segment_path(self._firsts.pop(0)))
            self._counts.pop(0)
            removed += 1
        return removed

    monkeypatch.setattr(Store, "reclaim", reckless_reclaim)
    journal, oracle = pc.run_workload(200, seed=7, segment_records=8, max_segments=4)
    points, lost, problems = pc.run_cuts(journal, oracle, stride=97)
    assert lost > 0


def test_campaign_catches_a_reader_without_crc_checks(monkeypatch, reclaiming_workload):
    journal, oracle = reclaiming_workload
    monkeypatch.setattr(store_module, "record_ok", lambda buf, offset=0: True)
    trials, undetected, lost, problems = pc.bit_flip_campaign(journal, oracle, 100, seed=3)
    assert undetected > 50


def test_fault_layer_refuses_rename_before_flush():
    fs = pc.FaultFS(journal=[])
    fs.mkdir("/d")
    f = fs.open("/d/a.tmp", "wb")
    f.write(b"data")
    with pytest.raises(AssertionError, match="before its data was flushed"):
        fs.rename("/d/a.tmp", "/d/a")
    f.flush()
    fs.rename("/d/a.tmp", "/d/a")
    assert fs.files["/d/a"] == b"data"


def test_cut_states_cover_every_byte_of_every_write():
    journal = [("mkdir", "/d"), ("create", "/d/x"), ("write", "/d/x", 0, b"abcd"), ("rename", "/d/x", "/d/y")]
    states = [(i, k, {p: bytes(v) for p, v in files.items()}) for i, k, files, _ in pc.cut_states(journal)]
    assert len(states) == pc.count_cut_points(journal) == 8
    assert states[3] == (2, 1, {"/d/x": b"a"}) and states[5] == (2, 3, {"/d/x": b"abc"})
    assert states[-1] == (4, 0, {"/d/y": b"abcd"})


def test_file_system_full_gives_store_full_without_loss_or_leaks():
    from monitor.records import KIND_SYMPTOM
    from monitor.store import STORE_FULL_MESSAGE, StoreFull
    fs = pc.FaultFS(capacity=1000)
    fs.mkdir("/data")
    fs.mkdir("/other")
    fs.files["/other/ballast"] = bytearray(200)   # something else on the partition
    store = Store(pc.DIRECTORY, fs=fs, segment_records=8, max_segments=1000)
    returned = []
    failures = 0
    for i in range(200):
        try:
            returned.append(store.append(9500 + i, 60, KIND_SYMPTOM, i % 13, i % 4, 0))
        except StoreFull as exc:
            assert str(exc) == STORE_FULL_MESSAGE
            failures += 1
    assert failures > 100 and len(returned) == (1000 - 200) // 16
    files_when_full = len(fs.files)
    next_when_full = store.next_seq
    for _ in range(20):
        with pytest.raises(StoreFull):
            store.append(9999, 0, KIND_SYMPTOM, 0, 0, 0)
    assert len(fs.files) == files_when_full and store.next_seq == next_when_full   # no leak, no burn
    store.close()
    store = Store(pc.DIRECTORY, fs=fs, segment_records=8, max_segments=1000)
    assert [r[0] for r in store.records(0)] == returned
    del fs.files["/other/ballast"]                 # space comes back
    seq = store.append(9999, 0, KIND_SYMPTOM, 0, 0, 0)
    assert seq > returned[-1]
    store.close()
    store = Store(pc.DIRECTORY, fs=fs, segment_records=8, max_segments=1000)
    assert [r[0] for r in store.records(0)] == returned + [seq]


# -- the update path: staging, switching, confirming (bench/powercut_update.py; all points in bench_update) --
@pytest.fixture(scope="module")
def update_workload(tmp_path_factory):
    from bench import powercut_update as pu
    from host_tools import release
    key = str(tmp_path_factory.mktemp("publisher") / "key")
    release.keygen(key, height=5)
    journal, oracle, files, dirs, public_key, bundles = pu.run_workload(key)
    assert any(op[0] == "rename" and op[2].endswith("/ota/state") for op in journal)
    assert any(op[0] == "remove" and "/ota/a/" in op[1] for op in journal), "the third update never wiped slot a"
    return journal, oracle, files, dirs, pu.Checker(public_key, bundles)


def test_cuts_while_updating_always_boot_a_whole_version_and_lose_no_entry(update_workload):
    from bench import powercut_update as pu
    journal, oracle, files, dirs, checker = update_workload
    points, bricked, lost, problems = pu.run_cuts(journal, oracle, files, dirs, checker, stride=5, offset=2,
                                                  resume_every=7)
    assert points > 1500
    assert (bricked, lost, problems) == (0, 0, [])


def test_the_brick_check_sees_a_half_staged_slot_booted(update_workload):
    # A control: had APPLY switched before the files were whole, the check must call it a brick.
    from bench import powercut as pc
    from bench import powercut_update as pu
    journal, oracle, files, dirs, checker = update_workload
    states = list(pc.cut_states(journal, stride=97, files=files, dirs=dirs))
    mid = [s for s in states if any(p.startswith(pu.OTA + "/a/monitor/") for p in s[2])
           and not any(p == pu.OTA + "/state" for p in s[2])][0]
    op_index, _k, cut_files, cut_dirs = mid
    cut_files = dict(cut_files)
    cut_files[pu.OTA + "/state"] = bytearray(b"E2B1||a|0|1|1.1")     # trial = the slot still being written
    bricked, _lost, problems = pu.check_cut(cut_files, cut_dirs, oracle, op_index, checker)
    assert bricked == 1 and "not a whole version" in problems[0]


@pytest.mark.parametrize("case", ["full_flash", "trial_crash", "cancel"])
def test_cuts_of_the_further_update_cases_always_boot_a_whole_version(tmp_path, case):
    """A flash that fills during an update (each cut also booted with no byte left: update_boot.select must
    not raise), a trial that crashes before the app (the cuts fall inside its rollback), and a staged update
    cancelled by the next BEGIN (the cuts fall inside cancel and the slot's wipe)."""
    from bench import powercut as pc
    from bench import powercut_update as pu
    from host_tools import release
    key = str(tmp_path / "key")
    release.keygen(key, height=5)
    journal, oracle, files, dirs, public_key, bundles = getattr(pu, "run_workload_" + case)(key)
    if case == "full_flash":   # the flash filled: the last update never got confirmed
        import update_boot
        state = update_boot.read_state(pu.OTA, pc.FaultFS(*pu._after(journal, files, dirs)))
        assert state[3] == update_boot.CONFIRMED and state[4] != bundles[-1][0]
    points, bricked, lost, problems = pu.run_cuts(journal, oracle, files, dirs, pu.Checker(public_key, bundles),
                                                  stride=47, offset=3, resume_every=5,
                                                  full_boot=case == "full_flash")
    assert points > pc.count_cut_points(journal) // 47 - 2
    assert (bricked, lost, problems) == (0, 0, [])
