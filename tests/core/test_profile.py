# The profile as data: encode/decode round trip, damage refused, bounds enforced.
from monitor import profile as X


def test_profile_encode_decode_and_damage():
    p = X.Profile()
    p.set("E2_HIGH", 550)
    p.set("GOAL", 1)
    blob = p.encode()
    q = X.Profile.decode(blob)
    assert list(q.params) == list(p.params) and q.encode() == blob
    for bad in (blob[:-1], blob[:-1] + bytes([blob[-1] ^ 1]), b"XXXX" + blob[4:], b""):
        try:
            X.Profile.decode(bad)
        except ValueError:
            continue
        raise AssertionError("damaged profile accepted")
    try:
        p.set("E2_HIGH", 20001)
    except ValueError:
        pass
    else:
        raise AssertionError("out of bounds accepted")
