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


def _v2_blob():
    from binascii import unhexlify

    from profile_vectors import V2_PROFILE_HEX
    return unhexlify(V2_PROFILE_HEX)


def test_a_version_2_profile_migrates_with_every_clinician_value():
    from profile_vectors import V2_PROFILE_VALUES
    p = profile_codec.decode(_v2_blob())
    for name, value in V2_PROFILE_VALUES:
        assert profile_codec.get_param(p, name) == value, name
    blob = profile_codec.encode(p)
    assert blob[4] == P.PROFILE_VERSION
    assert list(profile_codec.decode(blob).params) == list(p.params)


def test_a_damaged_or_truncated_version_2_profile_is_refused():
    blob = _v2_blob()
    for bad in (blob[:-1], blob[:-5] + blob[-4:], blob[:-1] + bytes([blob[-1] ^ 1]), blob[:4] + b"\x01" + blob[5:]):
        try:
            profile_codec.decode(bad)
        except ValueError:
            continue
        raise AssertionError("damaged profile accepted")


def test_tables_line_up():
    assert len(P.PARAM_DEFAULTS) == len(profile_codec.PARAM_MIN) == len(profile_codec.PARAM_MAX) == \
        len(profile_codec.PARAM_ANALYTE) == P.P_LEVELS
    from monitor.param_names import PARAM_NAMES
    assert len(PARAM_NAMES) == P.PARAM_COUNT and PARAM_NAMES[P.P_ACK_GRACE] == "ACK_GRACE"
    assert PARAM_NAMES[P.P_LEVELS - 1] == "BIRTH_MONTH_DAY"
    profile_codec.check(P.Profile())


def _fault(settings):
    p = P.Profile()
    for i in settings:
        p.params[i] = settings[i]
    bad = profile_codec.ladder_fault(p.params)
    return None if bad is None else bad[:2]


def test_order_checks_compare_only_rules_switched_on():
    from monitor import rules as U
    hct_warn_on = P.P_LEVELS + U.R_HCT_WARN
    assert _fault({P.P_HCT_HIGH: 520}) is None                       # HCT_WARN (52 %) is off by default
    assert _fault({P.P_HCT_HIGH: 500}) is None
    assert _fault({P.P_HCT_HIGH: 520, hct_warn_on: 0}) == (P.P_HCT_WARN, P.P_HCT_HIGH)   # switched on later
    assert _fault({P.P_HCT_HIGH: 521, hct_warn_on: 0}) is None
    low_sympt_off = P.P_LEVELS + U.R_E2_LOW_SYMPT
    assert _fault({P.P_E2_LOW: 150}) == (P.P_E2_LOW_SYMPT, P.P_E2_LOW)
    assert _fault({P.P_E2_LOW: 150, low_sympt_off: -1}) is None
    # a skipped threshold passes its order on: E2_CRITICAL is still compared with E2_LOW, strictly
    assert _fault({P.P_E2_LOW: 150, low_sympt_off: -1, P.P_E2_CRITICAL: 150}) == (P.P_E2_CRITICAL, P.P_E2_LOW)
    assert _fault({P.P_E2_LOW: 150, low_sympt_off: -1, P.P_E2_CRITICAL: 149}) is None
    # the targets are always compared
    assert _fault({P.P_E2_TARGET_LOW: 400}) == (P.P_E2_TARGET_LOW, P.P_E2_TARGET_HIGH)


def test_a_profile_written_before_a_rule_was_appended_keeps_its_default_level():
    import struct
    from binascii import crc32
    p = P.Profile()
    profile_codec.set_param(p, "E2_HIGH", 550)
    blob = bytearray(profile_codec.encode(p)[:-8])    # one level short (C15's), CRC dropped
    struct.pack_into("<H", blob, 5, P.PARAM_COUNT - 1)
    blob += struct.pack("<I", crc32(blob) & 0xFFFFFFFF)
    assert list(profile_codec.decode(blob).params) == list(p.params)
