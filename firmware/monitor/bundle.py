# Update bundles: the one copy of their layout, for the host that builds them (host_tools/release.py) and
# the device that stages them (monitor/update.py).  Loaded only while an update runs.
#
# bundle   = header | payload
# header   = MAGIC (4) | manifest length u32 LE | manifest | signature length u32 LE | signature
# manifest = format u8 | sequence u32 | floor u32 (format 2; format 1 has none: 0) |
#            version, board, code (each: length u8 | ASCII) | file count u16 |
#            per file: size u32 | SHA-256 (32) | path (length u8 | ASCII, '/'-separated, relative)
#            (integers little-endian)
# payload  = the files' bytes, concatenated in manifest order
# signature: HSS/LMS (monitor/lms.py) by the publisher over the manifest bytes; the manifest carries every
# file's hash, so it covers the payload too.
#
# version is what the screen and the host show; sequence orders releases (a downgrade is a lower one); floor is
# the publisher's anti-rollback floor: no release below it installs again once this one is confirmed.
# board is a boards/*.py NAME; code says what the device must be able to load: "py" (source) or
# "mpy-<arch>" (mpy-cross output for that architecture).
import struct

MAGIC = b"E2UP"
FORMAT = 2
HASH_SIZE = 32
MAX_MANIFEST = 8192
MAX_SIGNATURE = 16384
MAX_FILES = 200
_STRUCT_ERROR = getattr(struct, "error", ValueError)   # CPython's; MicroPython raises ValueError


# The update requests' and replies' layouts (monitor/protocol.py describes them; these live here so the
# device loads them only while an update runs).
UPDATE_REPLY_FORMAT = "<BBII"
UPDATE_BEGIN_FORMAT = "<BII32sB"


def encode_update_reply(op, status, stored, total, extra=b""):
    return struct.pack(UPDATE_REPLY_FORMAT, status, op, stored, total) + extra


class BundleError(ValueError):
    pass


def header_bytes(manifest, signature):
    return MAGIC + struct.pack("<I", len(manifest)) + manifest + struct.pack("<I", len(signature)) + signature


def header_size(prefix):
    """The header's total length from its first 8 + manifest length + 4 bytes; None if prefix is too short
    to tell, BundleError if it is not a bundle header."""
    if len(prefix) < 8:
        return None
    if bytes(prefix[:4]) != MAGIC:
        raise BundleError("not an e2mon update bundle")
    mlen = struct.unpack_from("<I", prefix, 4)[0]
    if mlen > MAX_MANIFEST:
        raise BundleError("manifest too large")
    if len(prefix) < 12 + mlen:
        return None
    slen = struct.unpack_from("<I", prefix, 8 + mlen)[0]
    if slen > MAX_SIGNATURE:
        raise BundleError("signature too large")
    return 12 + mlen + slen


def split_header(header):
    """(manifest, signature) of a whole header, as memoryviews into it."""
    if header_size(header) != len(header):
        raise BundleError("header length does not match")
    mlen = struct.unpack_from("<I", header, 4)[0]
    view = memoryview(header)   # views, not copies: a signature is 2-5 KB of a small heap
    return view[8:8 + mlen], view[12 + mlen:]


def encode_manifest(sequence, version, board, code, files, floor=0):
    """files: [(path, size, sha256 digest)] in payload order."""
    out = bytearray(struct.pack("<BII", FORMAT, sequence, floor))
    for text in (version, board, code):
        raw = text.encode()
        out.append(len(raw))
        out += raw
    out += struct.pack("<H", len(files))
    for path, size, digest in files:
        raw = path.encode()
        if len(digest) != HASH_SIZE:
            raise BundleError("bad hash for " + path)
        out += struct.pack("<I", size) + digest + bytes((len(raw),)) + raw
    return bytes(out)


class Manifest:
    """A decoded manifest: .sequence .floor .version .board .code .files [(path, size, digest)] .payload_size"""

    def __init__(self, raw):
        raw = bytes(raw)
        try:
            fmt, self.sequence = struct.unpack_from("<BI", raw, 0)
            at = 5
            self.floor = 0
            if fmt == FORMAT:
                self.floor = struct.unpack_from("<I", raw, at)[0]
                at += 4
            elif fmt != 1:
                raise BundleError("manifest format %d not supported" % fmt)
            texts = []
            for _ in range(3):
                n = raw[at]
                texts.append(raw[at + 1:at + 1 + n].decode())
                at += 1 + n
            self.version, self.board, self.code = texts
            count = struct.unpack_from("<H", raw, at)[0]
            at += 2
            if count > MAX_FILES:
                raise BundleError("too many files")
            files = []
            total = 0
            for _ in range(count):
                size = struct.unpack_from("<I", raw, at)[0]
                digest = raw[at + 4:at + 4 + HASH_SIZE]
                n = raw[at + 4 + HASH_SIZE]
                path = raw[at + 5 + HASH_SIZE:at + 5 + HASH_SIZE + n].decode()
                at += 5 + HASH_SIZE + n
                if len(digest) != HASH_SIZE or len(path) != n or not safe_path(path):
                    raise BundleError("bad file entry")
                files.append((path, size, digest))
                total += size
        except (IndexError, _STRUCT_ERROR, UnicodeError):
            raise BundleError("manifest cut short or garbled") from None
        if at != len(raw):
            raise BundleError("bytes after the manifest")
        self.files = files
        self.payload_size = total


# Never in a bundle: run by name from the filesystem (main, boot), the boot selector that picks the slot
# itself, and the slot's own bookkeeping (monitor/update.py: ID, HEADER, HEADER.part, *.tmp).
RESERVED = ("main.py", "boot.py", "update_boot.py", "manifest.py", "main.mpy", "boot.mpy", "update_boot.mpy",
            "manifest.mpy", "ID", "HEADER", "HEADER.part")


def safe_path(path):
    """A relative path inside the slot: no empty, '.' or '..' part, no leading '/', none of RESERVED at the
    top, no part ending in .tmp or .part (the slot's temporary files)."""
    if not path or path[0] == "/" or "\\" in path or path in RESERVED:
        return False
    for part in path.split("/"):
        if part in ("", ".", "..") or part.endswith(".tmp") or part.endswith(".part"):
            return False
    return True

