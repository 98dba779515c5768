"""The store's file layer and its small atomic files (sync mark, snapshots).

OsFiles is the default file layer (builtin open and os, on MicroPython and CPython); the store takes
any object with the same methods, so a fault-injecting layer can stand in for it in tests.

A small file is: magic (4 bytes) | upto u32 | blob length u32 | CRC-32 of upto, length and blob |
blob. It is written to a temp name, flushed, then renamed over the old one (atomic on littlefs).
"""
import os
import struct
from binascii import crc32

SMALL_HEADER = "<4sIII"
SMALL_HEADER_SIZE = 16
SMALL_MAX_BLOB = 0x100000
ENOSPC = 28


def no_space(exc):
    """True if an OSError says the file system is full."""
    return bool(exc.args) and exc.args[0] == ENOSPC


class OsFiles:
    def open(self, path, mode):
        return open(path, mode)

    def listdir(self, path):
        return os.listdir(path)

    def size(self, path):
        return os.stat(path)[6]

    def rename(self, src, dst):
        os.rename(src, dst)

    def remove(self, path):
        os.remove(path)

    def mkdir(self, path):
        os.mkdir(path)

    def sync(self, f):
        f.flush()
        fsync = getattr(os, "fsync", None)   # CPython; on littlefs flush() already commits
        if fsync is not None:
            fsync(f.fileno())

    def sync_dir(self, path):
        # POSIX needs the directory flushed for a create or rename to survive; littlefs does not.
        fsync = getattr(os, "fsync", None)
        read_only = getattr(os, "O_RDONLY", None)
        if fsync is not None and read_only is not None:
            fd = os.open(path, read_only)
            try:
                fsync(fd)
            finally:
                os.close(fd)


def read_small(fs, path, magic, want_blob):
    """Returns (upto, blob or None) if the file is whole and its CRC matches, else None."""
    try:
        f = fs.open(path, "rb")
    except OSError:
        return None
    try:
        head = f.read(SMALL_HEADER_SIZE)
        if head is None or len(head) != SMALL_HEADER_SIZE:
            return None
        got_magic, upto, length, check = struct.unpack(SMALL_HEADER, head)
        if got_magic != magic or length > SMALL_MAX_BLOB:
            return None
        blob = f.read(length) if length else b""
        if blob is None or len(blob) != length or f.read(1):
            return None
    finally:
        f.close()
    if crc32(blob, crc32(head[4:12])) & 0xFFFFFFFF != check:
        return None
    return upto, (bytes(blob) if want_blob else None)


def write_small(fs, path, magic, upto, blob):
    """Writes and flushes a small file at path (the caller renames it into place)."""
    if len(blob) > SMALL_MAX_BLOB:
        raise ValueError("blob too large: %d bytes" % len(blob))
    head = bytearray(SMALL_HEADER_SIZE)
    struct.pack_into("<II", head, 4, upto, len(blob))
    check = crc32(blob, crc32(memoryview(head)[4:12])) & 0xFFFFFFFF
    struct.pack_into(SMALL_HEADER, head, 0, magic, upto, len(blob), check)
    f = fs.open(path, "wb")
    try:
        f.write(head)
        if len(blob):
            f.write(blob)
        fs.sync(f)
    finally:
        f.close()
