"""Publisher side of over-the-air updates: the signing key and `e2mon release build`.

- `keygen(name, height=10)`: a new HSS/LMS key (RFC 8554, pyhsslms): NAME.prv (0600, the signer's state)
  and NAME.pub (what `e2mon deploy --publisher-key NAME.pub` puts on a device).
- `sign(name, message) -> signature`: signs with the next one-time key. The advanced state is written to
  disk (temp file, fsync, rename, directory fsync) before the signature is returned, under an exclusive
  lock, so no one-time key is ever used twice, even if this process dies or two builds run at once: a
  crash can only waste a key, never reuse one. Never copy or restore a .prv file from a backup: an older
  state would sign again with keys already used.
- `build(board, version, sequence, key_name, out_path, source_dir=FIRMWARE) -> summary dict`: the firmware
  compiled for the board (mpy-cross, as `e2mon deploy` builds it; source for the simulator), with
  monitor/version.py set to this release, as a bundle (monitor/bundle.py) signed over its manifest.

Parameters: LMS_SHA256_M32_H10 with LMOTS_SHA256_N32_W4 by default: 1,024 releases per key, a 2.6 KB
signature, and about 540 SHA-256 calls to verify on the device. pyhsslms rebuilds the whole tree when it
loads a key, so signing with it takes seconds on the host (height 5 keys, for tests, are instant).
"""
import fcntl
import hashlib
import os
import shutil
import tempfile

import pyhsslms

from host_tools import deploy
from monitor import bundle, lms

LMS_TYPES = {5: pyhsslms.lms_sha256_m32_h5, 10: pyhsslms.lms_sha256_m32_h10, 15: pyhsslms.lms_sha256_m32_h15}
OTS_W4 = pyhsslms.lmots_sha256_n32_w4
# board name for `release build` -> (the device's boards NAME, code kind)
TARGETS = {"esp32": ("esp32", "mpy-xtensawin"), "pico_w": ("pico_w", "mpy-armv6m"),
           "sim": ("sim(pico_w)", "py")}


class ReleaseError(Exception):
    pass


def keygen(name, height=10):
    if height not in LMS_TYPES:
        raise ReleaseError("height must be one of %s" % ", ".join(map(str, sorted(LMS_TYPES))))
    prv_path, pub_path = name + ".prv", name + ".pub"
    for path in (prv_path, pub_path):
        if os.path.exists(path):
            raise ReleaseError("%s exists: a publisher key is never overwritten" % path)
    key = pyhsslms.HssPrivateKey(levels=1, lms_type=LMS_TYPES[height], lmots_type=OTS_W4)
    _write_new(prv_path, key.serialize(), 0o600)
    _write_new(pub_path, key.publicKey().serialize(), 0o644)
    return pub_path


def _write_new(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(path)


def _fsync_dir(path):
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def public_key(name):
    with open(name + ".pub", "rb") as f:
        return f.read()


def remaining(name):
    with open(name + ".prv", "rb") as f:
        return pyhsslms.HssPrivateKey.deserialize(f.read()).remaining()


def sign(name, message):
    prv_path = name + ".prv"
    with open(prv_path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(prv_path, "rb") as f:
            key = pyhsslms.HssPrivateKey.deserialize(f.read())
        if key.is_exhausted():
            raise ReleaseError("publisher key %s has signed its last release" % prv_path)
        signature = key.sign(message)
        tmp = prv_path + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.serialize())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, prv_path)          # the used one-time key is on record before anyone sees its use
        _fsync_dir(prv_path)
    if not lms.verify_hss(public_key(name), message, signature):   # the device's own verifier agrees
        raise ReleaseError("signature does not verify with %s.pub" % name)
    return signature


# ---- bundles --------------------------------------------------------------------------------------------
def release_tree(board, version, sequence, out_dir, source_dir=deploy.FIRMWARE, floor=0):
    """The files a bundle carries for board, in out_dir; returns their relative paths, sorted."""
    if board not in TARGETS:
        raise ReleaseError("unknown board %r (one of %s)" % (board, ", ".join(TARGETS)))
    code = TARGETS[board][1]
    work = tempfile.mkdtemp(prefix="e2mon-release-")
    try:
        src = os.path.join(work, "src")
        shutil.copytree(source_dir, src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        with open(os.path.join(src, "monitor", "version.py"), "w") as f:
            f.write("# Written by `e2mon release build`.\nVERSION = %r\nSEQUENCE = %d\nFLOOR = %d\n"
                    % (version, sequence, floor))
        if code == "py":
            shutil.copytree(src, out_dir, dirs_exist_ok=True)
        else:
            deploy.compile_firmware(code.split("-", 1)[1], out_dir, source_dir=src)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files = []
    for dirpath, dirs, names in os.walk(out_dir):
        dirs.sort()
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(dirpath, name), out_dir).replace(os.sep, "/")
            if rel not in bundle.RESERVED and not (code != "py" and rel.endswith(".py")):
                files.append(rel)
    return sorted(files)


def make_bundle(files, board_name, code, version, sequence, sign_manifest, floor=0):
    """files: [(path, bytes)]; sign_manifest(manifest bytes) -> signature. Returns the bundle bytes."""
    entries = [(path, len(data), hashlib.sha256(data).digest()) for path, data in files]
    manifest = bundle.encode_manifest(sequence, version, board_name, code, entries, floor)
    header = bundle.header_bytes(manifest, sign_manifest(manifest))
    return header + b"".join(data for _path, data in files)


def build(board, version, sequence, key_name, out_path, source_dir=deploy.FIRMWARE, floor=0):
    if not 0 <= sequence < 2 ** 31:
        raise ReleaseError("sequence must be a non-negative 31-bit number")
    if not 0 <= floor <= sequence:
        raise ReleaseError("the floor must be from 0 to the sequence (%d)" % sequence)
    if not version or len(version) > 32 or not version.isascii() or "|" in version:
        raise ReleaseError("version must be 1-32 ASCII characters without '|'")
    tree = tempfile.mkdtemp(prefix="e2mon-bundle-")
    try:
        paths = release_tree(board, version, sequence, tree, source_dir, floor)
        files = []
        for rel in paths:
            with open(os.path.join(tree, rel), "rb") as f:
                files.append((rel, f.read()))
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    board_name, code = TARGETS[board]
    data = make_bundle(files, board_name, code, version, sequence, lambda m: sign(key_name, m), floor)
    with open(out_path, "wb") as f:
        f.write(data)
    header = bundle.header_size(data)
    return {"bundle": out_path, "board": board_name, "code": code, "version": version, "sequence": sequence,
            "floor": floor,
            "files": len(files), "bytes": len(data), "header_bytes": header,
            "signatures_left": remaining(key_name)}


def read_bundle(path):
    """(bundle bytes, header size, Manifest) of a bundle file; ReleaseError if it is not one."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        size = bundle.header_size(data)
        if size is None:
            raise bundle.BundleError("file too short")
        manifest = bundle.Manifest(bundle.split_header(data[:size])[0])
    except bundle.BundleError as exc:
        detail = "" if "not an e2mon update bundle" in str(exc) else ": %s" % exc
        raise ReleaseError("%s is not an e2mon update bundle%s" % (path, detail)) from None
    if size + manifest.payload_size != len(data):
        raise ReleaseError("%s is cut short or has bytes added" % path)
    return data, size, manifest
