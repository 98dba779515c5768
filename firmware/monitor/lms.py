# Verifying HSS/LMS hash-based signatures (RFC 8554) with hashlib.sha256 alone.
#
# Why LMS for the publisher's signature on update bundles: verifying is nothing but SHA-256 over short
# messages (no big integers, a few hundred bytes of heap), which every MicroPython port has in C; Ed25519
# in pure Python needs 255-bit modular arithmetic on big ints, far beyond the boards' small ints and heap.
# The cost is on the signer: a key signs at most 2^h times and must never reuse a one-time key
# (host_tools/release.py keeps that state).
#
#   verify_hss(public_key, message, signature) -> True / False     (never raises on bad input)
#   stats[0]   SHA-256 compressions-worth of hash calls made so far (the bench's verify cost)
#
# Formats (RFC 8554 section 6.2 and 5.4): HSS public key = L u32 | LMS public key; LMS public key =
# LMS type u32 | LM-OTS type u32 | I (16) | T[1] (32); HSS signature = Nspk u32 | Nspk signed public keys
# (LMS signature | LMS public key) | LMS signature; LMS signature = q u32 | LM-OTS signature | LMS type u32 |
# path (h x 32); LM-OTS signature = LM-OTS type u32 | C (32) | y (p x 32).
import hashlib
import struct

from micropython import const

N = const(32)
_D_PBLC = b"\x80\x80"
_D_MESG = b"\x81\x81"
_D_LEAF = b"\x82\x82"
_D_INTR = b"\x83\x83"
MAX_LEVELS = const(8)

# LM-OTS type -> (w, p, ls): SHA-256, n = 32 (RFC 8554 table 1)
OTS_TYPES = {1: (1, 265, 7), 2: (2, 133, 6), 3: (4, 67, 4), 4: (8, 34, 0)}
# LMS type -> h: SHA-256, m = 32 (RFC 8554 table 2)
LMS_TYPES = {5: 5, 6: 10, 7: 15, 8: 20, 9: 25}

stats = [0]


def _coef(s, i, w):
    return ((1 << w) - 1) & (s[i * w >> 3] >> (8 - (w * (i % (8 // w)) + w)))


def _ots_candidate(ots_type, ident, q, message, sig, at):
    """Algorithm 4b: the LM-OTS public key the signature at sig[at:] implies; None if malformed."""
    w, p, ls = OTS_TYPES[ots_type]
    top = (1 << w) - 1
    c = sig[at + 4:at + 4 + N]
    h = hashlib.sha256(ident)
    h.update(struct.pack(">I", q))
    h.update(_D_MESG)
    h.update(c)
    h.update(message)
    digest = h.digest()
    stats[0] += 1 + (len(message) + 22 + N) // 64
    total = 0
    for i in range(N * 8 // w):
        total += top - _coef(digest, i, w)
    total <<= ls
    qc = digest + bytes((total >> 8, total & 0xFF))
    # One buffer for every chain step: I | q | i u16 | j u8 | tmp (55 bytes, one SHA-256 block).
    buf = bytearray(ident + struct.pack(">IHB", q, 0, 0) + bytes(N))
    pub = hashlib.sha256(ident)
    pub.update(struct.pack(">I", q))
    pub.update(_D_PBLC)
    y = at + 4 + N
    for i in range(p):
        buf[20] = i >> 8
        buf[21] = i & 0xFF
        buf[23:] = sig[y + i * N:y + (i + 1) * N]
        for j in range(_coef(qc, i, w), top):
            buf[22] = j
            buf[23:] = hashlib.sha256(buf).digest()
        stats[0] += top - _coef(qc, i, w)
        pub.update(memoryview(buf)[23:])
    stats[0] += (22 + p * N) // 64 + 1
    return pub.digest()


def lms_signature_size(sig, at):
    """Length of the LMS signature starting at sig[at]; None if its types are unknown or it is cut short."""
    if len(sig) < at + 8:
        return None
    ots_type = struct.unpack_from(">I", sig, at + 4)[0]
    if ots_type not in OTS_TYPES:
        return None
    p = OTS_TYPES[ots_type][1]
    type_at = at + 4 + 4 + N + p * N
    if len(sig) < type_at + 4:
        return None
    lms_type = struct.unpack_from(">I", sig, type_at)[0]
    if lms_type not in LMS_TYPES:
        return None
    size = type_at + 4 + LMS_TYPES[lms_type] * N - at
    return size if len(sig) >= at + size else None


def verify_lms(public_key, message, sig, at=0, size=None):
    """Algorithm 6a on the LMS signature at sig[at:at + size] (size None: the rest of sig)."""
    if size is None:
        size = len(sig) - at
    if len(public_key) != 24 + N or lms_signature_size(sig, at) != size:
        return False
    lms_type, ots_type = struct.unpack_from(">II", public_key, 0)
    ident = bytes(public_key[8:24])
    if lms_type not in LMS_TYPES or ots_type not in OTS_TYPES:
        return False
    q, sig_ots_type = struct.unpack_from(">II", sig, at)
    if sig_ots_type != ots_type:
        return False
    h = LMS_TYPES[lms_type]
    p = OTS_TYPES[ots_type][1]
    type_at = at + 8 + N + p * N
    if struct.unpack_from(">I", sig, type_at)[0] != lms_type or q >= (1 << h):
        return False
    kc = _ots_candidate(ots_type, ident, q, message, sig, at + 4)
    node = (1 << h) + q
    prefix = bytearray(ident + struct.pack(">I", node) + _D_LEAF)
    tmp = hashlib.sha256(prefix + kc).digest()
    path = type_at + 4
    for i in range(h):
        sibling = sig[path + i * N:path + (i + 1) * N]
        odd = node & 1
        node >>= 1
        struct.pack_into(">I", prefix, 16, node)
        prefix[20:22] = _D_INTR
        hh = hashlib.sha256(prefix)
        if odd:
            hh.update(sibling)
            hh.update(tmp)
        else:
            hh.update(tmp)
            hh.update(sibling)
        tmp = hh.digest()
    stats[0] += 2 + h * 2
    return tmp == bytes(public_key[24:])


def verify_hss(public_key, message, signature):
    """True only if signature is a valid HSS signature of message under public_key."""
    try:
        if len(public_key) != 4 + 24 + N or len(signature) < 4:
            return False
        levels = struct.unpack_from(">I", public_key, 0)[0]
        nspk = struct.unpack_from(">I", signature, 0)[0]
        if levels < 1 or levels > MAX_LEVELS or nspk + 1 != levels:
            return False
        key = memoryview(public_key)[4:]
        at = 4
        for _ in range(nspk):
            size = lms_signature_size(signature, at)
            if size is None or len(signature) < at + size + 24 + N:
                return False
            child = memoryview(signature)[at + size:at + size + 24 + N]
            if not verify_lms(key, child, signature, at, size):
                return False
            key = child
            at += size + 24 + N
        return verify_lms(key, message, signature, at, len(signature) - at)
    except (ValueError, IndexError, KeyError, TypeError):
        return False
