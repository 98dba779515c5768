# Power cuts on real littlefs (MicroPython's os.VfsLfs2) under the store, on the unix port.
# usage: micropython store_upy_powercut.py ENTRIES STRIDE [noflush]
# (noflush: a deliberately broken store whose appends return before the data is committed, to show
# the campaign catches it)
# A RAM block device counts every program/erase; for a cut at write n, write n lands only partly
# (or not at all) and nothing after it reaches the "flash". The flash image as of the cut is then
# mounted fresh and the store checked: every append that returned before the cut is there and
# intact (unless acknowledged and covered by a snapshot, so reclaimable), numbers increase, and a
# new append gets a fresh number. Prints `name: value` lines.
import gc
import os
import sys

from monitor.records import KIND_DOSE, KIND_LAB, KIND_SYMPTOM
from monitor.store import Store, StoreFull
from monitor.store_files import OsFiles
from store_fs import RamBlocks  # tests/core, on MICROPYPATH

BLOCK = 256
BLOCKS = 64
MOUNT = "/lfs_cut"
DIRECTORY = MOUNT + "/log"
ENTRIES = [100]
FILES = [None]


class NoFlushFiles(OsFiles):
    def sync(self, f):
        pass


class CutBlocks(RamBlocks):
    """littlefs blocks on which power fails during write number `cut` (an erase counts as a write)."""

    def __init__(self, image):
        self.block_size = BLOCK
        self.blocks = [bytearray(b) for b in image]
        self.writes = 0
        self.cut = -1        # index of the write during which power fails; -1: never
        self.tear = 0        # bytes of that write that still land

    def writeblocks(self, block, buf, offset=0):
        n = self.writes
        self.writes += 1
        if self.cut >= 0 and n >= self.cut:
            if n == self.cut and self.tear:
                self._span(block, offset or 0, memoryview(buf)[:self.tear], True)
            return
        self._span(block, offset or 0, buf, True)

    def ioctl(self, op, arg):
        if op == 6:   # erase: counts as a write that can be cut
            n = self.writes
            self.writes += 1
            if not (self.cut >= 0 and n >= self.cut):
                b = self.blocks[arg]
                for i in range(BLOCK):
                    b[i] = 0xFF
            return 0
        return RamBlocks.ioctl(self, op, arg)


def entry(i):
    kind = (KIND_SYMPTOM, KIND_SYMPTOM, KIND_DOSE, KIND_LAB)[i % 4]
    return 9500 + i // 2, (i * 97) % 1440, kind, i % 13, i * 7 - 50, i % 3


def new_store():
    return Store(DIRECTORY, fs=FILES[0], segment_records=16, max_segments=5)


def powered(dev):
    return dev.cut < 0 or dev.writes <= dev.cut


def workload(dev):
    """Runs the workload until the device has lost power; returns what each call returned when.

    After the cut littlefs sees its writes fail to read back and reports errors: those end the run.
    """
    returned = []     # (seq, entry index, writes when append returned)
    acks = []         # upto of each acknowledge that had started
    snaps = []        # upto of each snapshot save that had started
    try:
        _run(dev, returned, acks, snaps)
    except (OSError, StoreFull):
        if powered(dev):
            raise
    try:
        os.umount(MOUNT)
    except OSError:
        pass
    return returned, acks, snaps


def _run(dev, returned, acks, snaps):
    os.mount(os.VfsLfs2(dev), MOUNT)
    box = [new_store()]    # the open store (replaced at each simulated reboot)
    try:
        _appends(dev, box, returned, acks, snaps)
    finally:
        try:
            box[0].close()
        except OSError:
            pass   # the power is already gone


def _appends(dev, box, returned, acks, snaps):
    store = box[0]
    i = 0
    while i < ENTRIES[0] and powered(dev):
        try:
            seq = store.append(*entry(i))
        except StoreFull:
            if not powered(dev):
                return
            sync(dev, store, acks, store.next_seq - 1)
            snapshot(dev, store, snaps)
            continue
        returned.append((seq, i, dev.writes))
        i += 1
        if i % 12 == 0:
            sync(dev, store, acks, max(0, store.next_seq - 4))
        if i % 20 == 0:
            snapshot(dev, store, snaps)
        if i % 45 == 0:
            store.close()
            store = box[0] = new_store()


def sync(dev, store, acks, upto):
    if powered(dev):      # a call started after the cut cannot reach the flash: not counted
        acks.append(upto)
    store.acknowledge(upto)


def snapshot(dev, store, snaps):
    upto = store.next_seq - 1
    if powered(dev):
        snaps.append(upto)
    store.save_snapshot(upto, b"state-%d" % upto)


def check(image, cut, returned, acks, snaps):
    """Mounts the flash as of the cut; returns (entries lost, problem or None)."""
    dev = CutBlocks(image)
    try:
        os.mount(os.VfsLfs2(dev), MOUNT)
    except OSError as exc:
        return len(returned), "littlefs would not mount: %r" % (exc,)
    store = None
    try:
        store = new_store()
        return _check_store(store, cut, returned, acks, snaps)
    finally:
        if store is not None:
            store.close()
        os.umount(MOUNT)


def _check_store(store, cut, returned, acks, snaps):
    got = {}
    last = 0
    for r in store.records(0):
        if r[0] <= last:
            return 0, "seq %d after %d" % (r[0], last)
        last = r[0]
        got[r[0]] = r[1:]
    bound = min(max(acks + [0]), max(snaps + [0]))
    lost = 0
    for seq, i, writes in returned:
        if writes <= cut and seq > bound and got.get(seq) != entry(i):
            lost += 1
    newest = max([last] + [s for s, _, w in returned if w <= cut])
    try:
        seq = store.append(9999, 0, KIND_SYMPTOM, 0, 1, 0)
    except StoreFull:
        return lost, None
    if seq <= newest:
        return lost, "seq %d reused" % seq
    return lost, None


def main():
    ENTRIES[0] = int(sys.argv[1])
    stride = int(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3] == "noflush":
        FILES[0] = NoFlushFiles()
    base = CutBlocks([bytearray(BLOCK) for _ in range(BLOCKS)])
    os.VfsLfs2.mkfs(base)
    image = base.blocks
    full = CutBlocks(image)
    workload(full)
    total = full.writes
    points = lost = 0
    problems = 0
    n = 0
    while n < total:
        for tear in (0, BLOCK // 2):
            dev = CutBlocks(image)
            dev.cut = n
            dev.tear = tear
            returned, acks, snaps = workload(dev)
            # acks/snaps list every call that started before the power was gone.
            k, problem = check(dev.blocks, n, returned, acks, snaps)
            points += 1
            lost += k
            if problem is not None:
                problems += 1
                if problems <= 5:
                    print("PROBLEM at write %d tear %d: %s" % (n, tear, problem))
            dev = None
            gc.collect()
        n += stride
    print("powercut_littlefs_writes: %d" % total)
    print("powercut_littlefs_points: %d" % points)
    print("powercut_littlefs_entries_lost: %d" % lost)
    print("powercut_littlefs_problems: %d" % problems)


main()
