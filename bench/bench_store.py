"""Durable log figures: flash cost per record, the power-loss campaign, append and mount timings, capacity.

- store_bytes_per_record / jsonl_bytes_per_record: ten years of a heavy user's entries (2 symptoms a
  day, 2 doses a week, 3 labs a month, the odd device event) as store segment files vs. JSON lines.
- powercut_points / powercut_entries_lost: every cut point (each byte of each write, each flush,
  create, rename, remove) of three workloads of >= 1,000 entries with acks, snapshots, reboots and
  reclaim (bench/powercut.py), plus bit flips and truncated middle segments (entries lost counts all).
  powercut_recovery_points: second cuts while the store recovers from every 16th first cut.
- store_append_ms, mount_ms_10k_snapshot, mount_ms_10k_rebuild: timed on the MicroPython unix port
  (modules precompiled with mpy-cross, heap 128K, real files on this machine's disk; the tracker
  stack does not fit a 64K heap); mount = Store() + rebuild_state with monitor.tracker.Tracker,
  the snapshot 32 records behind the log (the app snapshots every 64). store_count_from_ms_10k: the
  RACP "number of records" answer over 10,000 records (reads them all, CRC-checked).
- powercut_littlefs_points / _entries_lost: the same promises on MicroPython's real littlefs (VfsLfs2
  on a RAM block device, unix port): power fails at every block program/erase of a 200-entry
  workload with acks, snapshots, reboots and reclaim, once with nothing of that write landing and once
  with half of it (bench/store_upy_powercut.py).
- capacity_years_512k: entries stored before StoreFull with no sync, on the default geometry
  (256-record segments = one 4 KB littlefs block, MAX_SEGMENTS of them), divided by entries per year.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from multiprocessing import Pool

from bench import powercut as pc
from host_tools.deploy import compile_firmware
from monitor import records as R
from monitor import catalog, texts
from monitor.dates import format_day
from monitor.store import MAX_SEGMENTS, SEGMENT_RECORDS, Store, StoreFull

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)

# A 512 KB littlefs partition is 128 blocks of 4 KB. Kept back from segments: the superblock/root
# metadata pair (2), room for it to compact or split (2), snap + snap.old + snap.tmp (3, blobs < 4 KB),
# and one spare block for littlefs copy-on-write of a file's last block (1).
BLOCK = 4096
RESERVED_BLOCKS = 8

# (entries, seed, segment_records, max_segments): full-size segments; small segments with reclaim
# and StoreFull; tiny segments so every write path (create, seal, reclaim) happens hundreds of times.
CAMPAIGN = ((1200, 21, SEGMENT_RECORDS, MAX_SEGMENTS), (1100, 22, 16, 5), (1000, 23, 5, 4))
BIT_FLIPS = 3000
LITTLEFS_CUT_ENTRIES = 200   # every block write of this workload is cut, torn and whole (O(n^2) time)


RECOVERY_STRIDE = 16   # every 16th cut point is cut again while the store recovers from it


def _campaign(args):
    journal, oracle = pc.run_workload(*args)
    points, lost, problems = pc.run_cuts(journal, oracle)
    r_points, r_lost, r_problems = pc.run_recovery_cuts(journal, oracle, RECOVERY_STRIDE)
    return points, lost, problems, len(oracle["appends"]), r_points, r_lost, r_problems


def powercut_figures():
    with Pool(2) as pool:
        results = pool.map(_campaign, CAMPAIGN)
    points = sum(r[0] for r in results)
    lost = sum(r[1] + r[5] for r in results)
    problems = [p for r in results for p in r[2] + r[6]]
    journal, oracle = pc.run_workload(1000, 24, 16, 1000)
    flips, undetected, flip_lost, flip_problems = pc.bit_flip_campaign(journal, oracle, BIT_FLIPS, 5)
    cases, trunc_lost, trunc_problems = pc.truncation_campaign(journal, oracle, 6)
    for p in problems + flip_problems + trunc_problems:
        print("PROBLEM: %s" % p, file=sys.stderr)
    return {
        "powercut_points": points,
        "powercut_entries_lost": lost + flip_lost + trunc_lost + undetected,
        "powercut_workload_entries": sum(r[3] for r in results),
        "powercut_recovery_points": sum(r[4] for r in results),
        "powercut_problems": len(problems) + len(flip_problems) + len(trunc_problems),
        "bitflip_trials": flips,
        "bitflip_undetected": undetected,
        "truncated_segment_cases": cases,
    }


def _ten_years():
    return pc.heavy_user_entries(random.Random(7), 3650)


def _jsonl_line(seq, entry):
    day, minute, kind, code, value, flags = entry
    names = (catalog.ANALYTES, catalog.DRUGS, catalog.SYMPTOMS, R.EVENT_NAMES)[kind]
    return json.dumps({"seq": seq, "date": format_day(day), "time": "%02d:%02d" % (minute // 60, minute % 60),
                       "kind": R.KIND_NAMES[kind], "code": names[code], "value": texts.format_value(kind, code, value),
                       "flags": flags}) + "\n"


def size_figures():
    entries = _ten_years()
    fs = pc.FaultFS()
    fs.mkdir("/data")
    store = Store(pc.DIRECTORY, fs=fs, max_segments=10 ** 6)
    for e in entries:
        store.append(*e)
    store.close()
    segment_bytes = fs.bytes_used(pc.DIRECTORY + "/seg_")
    jsonl = sum(len(_jsonl_line(i + 1, e).encode()) for i, e in enumerate(entries))
    return {
        "store_bytes_per_record": round(segment_bytes / len(entries), 2),
        "jsonl_bytes_per_record": round(jsonl / len(entries), 2),
        "heavy_user_entries_per_year": round(len(entries) / 10, 1),
    }


def capacity_figures():
    segments = 512 * 1024 // BLOCK - RESERVED_BLOCKS
    assert segments == MAX_SEGMENTS and SEGMENT_RECORDS * R.RECORD_SIZE == BLOCK, "defaults drifted from 512K"
    per_year = len(_ten_years()) / 10
    fs = pc.FaultFS()
    fs.mkdir("/data")
    store = Store(pc.DIRECTORY, fs=fs, max_segments=segments)
    stored = 0
    entries = pc.heavy_user_entries(random.Random(8), 100 * 365)
    try:
        for e in entries:
            store.append(*e)
            stored += 1
    except StoreFull:
        pass
    return {"capacity_years_512k": round(stored / per_year, 1), "capacity_records_512k": stored}


def upy_figures():
    """Runs bench/store_upy.py on the MicroPython unix port from mpy-cross output."""
    work = tempfile.mkdtemp(prefix="e2mon_bench_store_")
    try:
        lib = os.path.join(work, "lib")
        os.makedirs(os.path.join(work, "files"))
        compile_firmware("armv6m", lib)   # the device build, as deployed
        env = dict(os.environ, MICROPYPATH=lib + ":" + os.path.join(ROOT, "tests", "core"))
        figures = {}
        runs = ((["store_upy.py", os.path.join(work, "files")], "128K"),
                (["store_upy.py", os.path.join(work, "files"), "littlefs"], "512K"),
                (["store_upy_powercut.py", str(LITTLEFS_CUT_ENTRIES), "1"], "1M"))
        for args, heap in runs:
            out = subprocess.run([os.path.join(BIN, "micropython"), "-X", "heapsize=" + heap,
                                  os.path.join(HERE, args[0])] + args[1:],
                                 env=env, capture_output=True, text=True, timeout=900)
            if out.returncode:
                raise RuntimeError("store_upy.py failed on micropython:\n" + out.stdout + out.stderr)
            for line in out.stdout.splitlines():
                name, _, value = line.partition(": ")
                if name.startswith("PROBLEM"):
                    print(line, file=sys.stderr)
                    continue
                figures[name] = float(value) if "." in value else int(value)
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run():
    figures = {}
    figures.update(size_figures())
    figures.update(capacity_figures())
    figures.update(upy_figures())
    figures.update(powercut_figures())
    return figures
