# Snapshot of a Tracker's state: magic, version, state size, profile fingerprint, int32 state
# (little-endian), CRC-32. The store keeps it so a reboot need not replay the whole log; a snapshot from
# another profile or layout (an older version included) is refused: the log is replayed instead.
import struct
from binascii import crc32

from monitor.state import STATE_SIZE

MAGIC = b"E2TS"
VERSION = 3
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
    if version != VERSION or size != STATE_SIZE:
        raise ValueError("snapshot layout differs")
    if fingerprint != tracker.profile.crc():
        raise ValueError("snapshot was made with another profile: rebuild from the log")
    st = tracker.st
    for i in range(STATE_SIZE):
        st[i] = struct.unpack_from("<i", blob, HEADER + 4 * i)[0]
