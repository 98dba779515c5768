# The device's HSS/LMS verifier (monitor/lms.py) against the host signer's vectors (lms_vectors.py):
# every vector verifies, and a changed message, signature byte, key byte or length does not.
from lms_vectors import PRODUCTION, VECTORS
from monitor import lms


def _vector(i):
    pub, msg, sig = VECTORS[i]
    return bytes.fromhex(pub), bytes.fromhex(msg), bytes.fromhex(sig)


def test_vectors_verify():
    for i in range(len(VECTORS)):
        pub, msg, sig = _vector(i)
        assert lms.verify_hss(pub, msg, sig)


def test_the_production_parameters_verify():
    pub, msg, sig = [bytes.fromhex(x) for x in PRODUCTION]
    assert lms.verify_hss(pub, msg, sig)
    assert not lms.verify_hss(pub, msg, sig[:4] + bytes((sig[4] ^ 1,)) + sig[5:])


def test_any_change_is_refused():
    pub, msg, sig = _vector(0)
    assert not lms.verify_hss(pub, msg + b"x", sig)
    assert not lms.verify_hss(pub, msg[:-1], sig)
    for offset in (0, 3, 4, 8, 40, 100, len(sig) // 2, len(sig) - 33, len(sig) - 1):
        bad = bytearray(sig)
        bad[offset] ^= 0x01
        assert not lms.verify_hss(pub, msg, bytes(bad))
    for offset in (3, 7, 11, 20, len(pub) - 1):
        bad = bytearray(pub)
        bad[offset] ^= 0x80
        assert not lms.verify_hss(bytes(bad), msg, sig)
    assert not lms.verify_hss(pub, msg, sig[:-1])
    assert not lms.verify_hss(pub, msg, sig + b"\x00")
    assert not lms.verify_hss(pub, msg, b"")
    assert not lms.verify_hss(pub[:-1], msg, sig)


def test_a_signature_does_not_verify_under_another_key():
    pub0, msg0, sig0 = _vector(0)
    pub2, msg2, sig2 = _vector(2)
    assert not lms.verify_hss(pub2, msg0, sig0)
    assert not lms.verify_hss(pub0, msg2, sig2)


def test_verify_cost_is_counted_in_hash_calls():
    pub, msg, sig = _vector(0)
    before = lms.stats[0]
    assert lms.verify_hss(pub, msg, sig)
    used = lms.stats[0] - before
    # LMOTS W4: 67 chains of at most 15 steps; LMS H5: 5 path nodes; plus message, key and leaf hashes
    assert 67 < used <= 67 * 15 + 40
