# Store timings on the MicroPython unix port (run by bench/bench_store.py; not a bench module itself).
# usage: micropython store_upy.py WORKDIR [littlefs]
# Prints `name: value` lines. Real files under WORKDIR, or littlefs on a RAM block device.
import gc
import os
import sys
import time

from monitor.profile import Profile
from monitor.records import KIND_DOSE, KIND_EVENT, KIND_LAB, KIND_SYMPTOM
from monitor.store import Store, rebuild_state
from monitor.tracker import Tracker
from store_fs import RamBlocks, rmtree  # tests/core, on MICROPYPATH

APPENDS = 1000
MOUNT_RECORDS = 10000
SNAPSHOT_LAG = 32   # the device app snapshots every 64 records: on average 32 are replayed


def entry(i):
    """A heavy user's mix (symptoms most days, doses, labs, events), deterministic in i."""
    day = 9500 + i * 2 // 5
    r = i % 25
    if r == 3:
        return day, 420, KIND_LAB, i % 16, 100 + i % 900, 1
    if r in (7, 19):
        return day, 480, KIND_DOSE, i % 2, 500, 0
    if r == 11:
        return day, 720, KIND_EVENT, 2, i % 8, 1
    return day, 540 + r, KIND_SYMPTOM, i % 13, i % 4, 0


def ms_since(t0):
    return time.ticks_diff(time.ticks_us(), t0) / 1000


def time_appends(directory, label, rounds=5):
    """Median over rounds of the mean cost of APPENDS appends (each flushed) into a fresh store."""
    runs = []
    for _ in range(rounds):
        rmtree(directory)
        store = Store(directory)
        gc.collect()
        t0 = time.ticks_us()
        for i in range(APPENDS):
            store.append(*entry(i))
        runs.append(ms_since(t0) / APPENDS)
        store.close()
    rmtree(directory)
    runs.sort()
    print("%s: %.4f" % (label, runs[len(runs) // 2]))


def time_mounts(directory):
    rmtree(directory)
    profile = Profile()
    store = Store(directory)
    tracker = Tracker(profile)
    for i in range(MOUNT_RECORDS):
        args = entry(i)
        seq = store.append(*args)
        tracker.apply(seq, *args)
        if i == MOUNT_RECORDS - 1 - SNAPSHOT_LAG:
            store.save_snapshot(tracker.last_seq, tracker.dump())
    want = tracker.dump()
    store.close()
    best_snap = best_rebuild = None
    for _ in range(3):
        gc.collect()
        t0 = time.ticks_us()
        store = Store(directory)
        state, used = rebuild_state(store, lambda: Tracker(profile))
        took = ms_since(t0)
        assert used and state.dump() == want
        store.close()
        best_snap = took if best_snap is None else min(best_snap, took)
        gc.collect()
        t0 = time.ticks_us()
        store = Store(directory)
        state = Tracker(profile)
        store.replay(0, state.apply)
        took = ms_since(t0)
        assert state.dump() == want
        store.close()
        best_rebuild = took if best_rebuild is None else min(best_rebuild, took)
    store = Store(directory)
    t0 = time.ticks_us()
    assert store.count_from(0) == MOUNT_RECORDS
    count_ms = ms_since(t0)
    store.close()
    rmtree(directory)
    print("store_count_from_ms_10k: %.2f" % count_ms)
    print("mount_ms_10k_snapshot: %.2f" % best_snap)
    print("mount_ms_10k_rebuild: %.2f" % best_rebuild)


def main():
    work = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "littlefs":
        bdev = RamBlocks(4096, 48)   # 192 KB of 4 KB blocks, like a board's flash
        os.VfsLfs2.mkfs(bdev)
        os.mount(os.VfsLfs2(bdev), "/lfs")
        time_appends("/lfs/append", "store_append_ms_littlefs_ram")
        os.umount("/lfs")
        return
    time_appends(work + "/append", "store_append_ms")
    time_mounts(work + "/mount")


main()
