# Snapshot of a Tracker's state: magic, version, state size, profile fingerprint, int32 state
# (little-endian), CRC-32. The store keeps it so a reboot need not replay the whole log; a snapshot from
# another profile or layout is refused (rebuild from the log instead). Version 1 held testosterone doses in
# mg: it is loaded with them in µg (monitor.records.FLAG_UG), as its records now read.
import struct
from binascii import crc32

from monitor.records import D_TESTOSTERONE
from monitor.state import DOSE_AMT, STATE_SIZE, WEEK_SLOTS, WEEK_SUM

MAGIC = b"E2TS"
VERSION = 2
HEADER = 11   # magic (4), version (1), state size (2), profile fingerprint (4)
SIZE = HEADER + 4 * STATE_SIZE + 4


def dump(tracker):
    return bytes(dump_into(tracker, bytearray(SIZE)))


def dump_into(tracker, out):
    # writes the snapshot into a caller's bytearray of SIZE bytes (no allocation) and returns it
    out[0:4] = MAGIC
    struct.pack_into("<BHI", out, 4, VERSION, STATE_SIZE, tracker.profile.crc())
    for i in range(STATE_SIZE):
        struct.pack_into("<i", out, HEADER + 4 * i, tracker.st[i])
    struct.pack_into("<I", out, SIZE - 4, crc32(memoryview(out)[:SIZE - 4]) & 0xFFFFFFFF)
    return out


def load(tracker, blob):
    # blob: bytes, bytearray or memoryview of SIZE bytes; read in place (no copy of the state)
    if len(blob) != SIZE or bytes(blob[:4]) != MAGIC:
        raise ValueError("not a tracker snapshot of this version")
    if struct.unpack_from("<I", blob, SIZE - 4)[0] != crc32(memoryview(blob)[:SIZE - 4]) & 0xFFFFFFFF:
        raise ValueError("snapshot CRC mismatch")
    version, size, fingerprint = struct.unpack_from("<BHI", blob, 4)
    if not 1 <= version <= VERSION or size != STATE_SIZE:
        raise ValueError("snapshot layout differs")
    if fingerprint != tracker.profile.crc():
        raise ValueError("snapshot was made with another profile: rebuild from the log")
    st = tracker.st
    for i in range(STATE_SIZE):
        st[i] = struct.unpack_from("<i", blob, HEADER + 4 * i)[0]
    if version == 1:
        # the last testosterone dose (-1: none) and its week's daily totals, mg to µg
        if st[DOSE_AMT + D_TESTOSTERONE] > 0:
            st[DOSE_AMT + D_TESTOSTERONE] *= 1000
        for i in range(WEEK_SUM + D_TESTOSTERONE * WEEK_SLOTS, WEEK_SUM + (D_TESTOSTERONE + 1) * WEEK_SLOTS):
            st[i] *= 1000
