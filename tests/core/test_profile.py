# The profile as data: encode/decode round trip, damage refused, bounds enforced.
from monitor import profile as P
from monitor import profile_codec


def test_profile_encode_decode_and_damage():
    p = P.Profile()
    profile_codec.set_param(p, "E2_HIGH", 550)
    profile_codec.set_param(p, "GOAL", 1)
    blob = profile_codec.encode(p)
    q = profile_codec.decode(blob)
    assert list(q.params) == list(p.params) and profile_codec.encode(q) == blob
    for bad in (blob[:-1], blob[:-1] + bytes([blob[-1] ^ 1]), b"XXXX" + blob[4:], b""):
        try:
            profile_codec.decode(bad)
        except ValueError:
            continue
        raise AssertionError("damaged profile accepted")
    try:
        profile_codec.set_param(p, "E2_HIGH", 20001)
    except ValueError:
        pass
    else:
        raise AssertionError("out of bounds accepted")


def test_profile_with_an_unordered_ladder_refused():
    # E2_CRITICAL = 50 pg/mL above E2_LOW = 20 pg/mL: the device refuses it like damage.
    p = P.Profile()
    p.params[P.P_E2_CRITICAL] = 500
    try:
        profile_codec.decode(profile_codec.encode(p))
    except ValueError as exc:
        assert "E2_CRITICAL" in str(exc)
    else:
        raise AssertionError("unordered ladder accepted")
    p.params[P.P_E2_CRITICAL] = 100
    assert list(profile_codec.decode(profile_codec.encode(p)).params) == list(P.Profile().params)
