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


def test_profile_with_an_unordered_ladder_refused():
    # E2_CRITICAL = 50 pg/mL above E2_LOW = 20 pg/mL: the device refuses it like damage.
    p = X.Profile()
    p.params[X.P_E2_CRITICAL] = 500
    try:
        X.Profile.decode(p.encode())
    except ValueError as exc:
        assert "E2_CRITICAL" in str(exc)
    else:
        raise AssertionError("unordered ladder accepted")
    p.params[X.P_E2_CRITICAL] = 100
    assert list(X.Profile.decode(p.encode()).params) == list(X.Profile().params)
