# Helpers for the store's core tests (tests/core/test_store*.py): a fresh directory of real files,
# and littlefs in a RAM block device when the interpreter has os.VfsLfs2 and the heap has room.
import os

from monitor.records import (
    KIND_DOSE, KIND_EVENT, KIND_LAB, KIND_SYMPTOM, RECORD_SIZE, unpack_record,
)


class RamBlocks:
    """A block device in RAM (readblocks/writeblocks/ioctl) so littlefs can be mounted in-process.

    One bytearray per block: no large contiguous allocation in a small, fragmented heap.
    """

    def __init__(self, block_size, blocks):
        self.block_size = block_size
        self.blocks = [bytearray(block_size) for _ in range(blocks)]

    def _span(self, block, offset, buf, write):
        done = 0
        size = self.block_size
        while done < len(buf):
            start = offset % size
            n = min(size - start, len(buf) - done)
            target = memoryview(self.blocks[block + offset // size])
            if write:
                target[start:start + n] = memoryview(buf)[done:done + n]
            else:
                memoryview(buf)[done:done + n] = target[start:start + n]
            done += n
            offset += n

    def readblocks(self, block, buf, offset=0):
        self._span(block, offset, buf, False)

    def writeblocks(self, block, buf, offset=0):
        self._span(block, offset or 0, buf, True)

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.blocks)
        if op == 5:
            return self.block_size
        return 0


def rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        os.remove(path + "/" + name)
    os.rmdir(path)


def littlefs_fits():
    """littlefs in RAM needs ~16 KB more than the 64K-heap runner has left; tests/firmware/test_store_upy.py
    runs the store's core tests again on the unix port with a bigger heap so the littlefs pass runs."""
    if not hasattr(os, "VfsLfs2"):
        return False
    import gc
    gc.collect()
    return gc.mem_free() > 40000


def each_fs(fn):
    """Runs fn(directory) on a fresh directory of real files, then on littlefs if available."""
    real = "/tmp/e2mon_store_%s" % "".join("%02x" % b for b in os.urandom(4))
    try:
        fn(real)
    finally:
        rmtree(real)
    if littlefs_fits():
        bdev = RamBlocks(256, 32)
        os.VfsLfs2.mkfs(bdev)
        mount_point = "/e2mon_lfs"
        os.mount(os.VfsLfs2(bdev), mount_point)
        try:
            fn(mount_point + "/log")
        finally:
            os.umount(mount_point)


def entry(i):
    """A deterministic mixed entry for index i: (day, minute, kind, code, value, flags)."""
    kind = (KIND_LAB, KIND_SYMPTOM, KIND_DOSE, KIND_SYMPTOM, KIND_EVENT)[i % 5]
    return (9000 + i // 3, (i * 37) % 1440, kind, i % 13, i * 1000 - 7, i % 256)


def fill(store, n, start=0):
    return [store.append(*entry(i)) for i in range(start, start + n)]


def read_all(store, from_seq=0, batch=5):
    buf = bytearray(batch * RECORD_SIZE)
    out = []
    seq = from_seq
    while True:
        count, seq = store.read_into(seq, buf)
        if count == 0:
            return out
        for k in range(count):
            out.append(unpack_record(buf, k * RECORD_SIZE))


def seg_path(directory, first):
    return "%s/seg_%d.log" % (directory, first)


def write_bytes(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()
