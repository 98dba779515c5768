# A monitor.profile.Profile's parameters by name, their bounds and units, its check, and its bytes: magic,
# version, count, int32 parameters (little-endian), CRC-32. Loaded only when a profile is encoded, decoded,
# checked or read by name, not by evaluation.
import struct
from binascii import crc32

from array import array

from monitor.param_names import PARAM_NAMES
from monitor.rules import (
    R_BMD_OSTEOPENIA, R_BMD_OSTEOPOROSIS, R_C6, R_C7, R_C9, R_E2_BONE, R_E2_CRITICAL, R_E2_HIGH, R_E2_LOW,
    R_E2_LOW_SYMPT, R_E2_MILD, R_E2_SEVERE, R_HCT_WARN, R_TT_BELOW_TARGET, R_TT_LOW,
)
from monitor.profile import (
    LEVEL_OFF, LEVEL_URGENT, P_BMD_OSTEOPENIA, P_BMD_OSTEOPOROSIS, P_E2_BONE, P_E2_CRITICAL,
    P_E2_HIGH, P_E2_LOW, P_E2_LOW_SYMPT, P_E2_MILD_HIGH, P_E2_MILD_LOW, P_E2_SEVERE, P_E2_TARGET_HIGH,
    P_E2_TARGET_LOW, P_HCT_HIGH, P_HCT_WARN, P_LEVELS, P_TT_LOW, P_TT_TARGET_HIGH, P_TT_TARGET_LOW, PARAM_COUNT,
    PROFILE_MAGIC, PROFILE_VERSION, Profile,
)

# Allowed min and max of each parameter before the levels, and the analyte whose stored unit a threshold
# is in (-1: days, years, tenths or a setting).
PARAM_MIN = array("h", (

    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, 150, 150, 1, 1, 1, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0,
    0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0,
    0, 1, 0, 0, 0, 0, -80, -80, 0, 1, 1, 10, 0,
))
PARAM_MAX = array("h", (

    20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 1000,
    5000, 5000, 5000, 750, 750, 3650, 3650, 3650, 120, 600, 3650, 3650,
    3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650,
    3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650,
    3650, 3650, 2200, 2, 1, 600, 60, 60, 3650, 2000, 90, 400, 1231,
))
PARAM_ANALYTE = array("h", (

    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 1, 1, 1, 7,
    7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, 15, 15, -1, -1, -1, -1, -1,
))


def param_index(name):
    for i in range(PARAM_COUNT):
        if PARAM_NAMES[i] == name:
            return i
    raise ValueError("unknown profile parameter %s" % name)


def param_name(i):
    return PARAM_NAMES[i]


def param_bounds(i):
    if i >= P_LEVELS:
        return LEVEL_OFF, LEVEL_URGENT
    return PARAM_MIN[i], PARAM_MAX[i]


def param_analyte(i):
    return PARAM_ANALYTE[i] if i < P_LEVELS else -1


def get_param(profile, name):
    return profile.params[param_index(name)]


def set_param(profile, name, value):
    # By name or index; raises ValueError outside the parameter's allowed range.
    i = param_index(name) if isinstance(name, str) else name
    lo, hi = param_bounds(i)
    if not (lo <= value <= hi):
        raise ValueError("profile %s: %d outside %d..%d" % (param_name(i), value, lo, hi))
    profile.params[i] = value

HEADER = 7   # magic (4), version (1), count (2)


def check(profile):
    # Raises ValueError if a parameter is out of bounds or a band is inverted.
    params = profile.params
    for i in range(PARAM_COUNT):
        lo, hi = param_bounds(i)
        if not (lo <= params[i] <= hi):
            raise ValueError("profile %s: %d outside %d..%d" % (param_name(i), params[i], lo, hi))
    bad = ladder_fault(params)
    if bad:
        raise ValueError("profile %s must be %s %s" % (param_name(bad[0]), "below" if bad[2] else "at most",
                                                        param_name(bad[1])))


# The threshold ladders (clinical-rules §1) as chains: parameter, then 1 if it must be below the next
# member (0: at most), ..., the last member, then 0. Every band has room, so no rule is shadowed or
# inverted. E2_BONE lies inside the target band by design (20-26 pg/mL); the mild band may reach past
# E2_HIGH, which then takes precedence.
LADDER = (
    (P_E2_CRITICAL, 1, P_E2_LOW_SYMPT, 1, P_E2_LOW, 1, P_E2_BONE, 1, P_E2_TARGET_HIGH, 0),
    (P_E2_LOW, 0, P_E2_TARGET_LOW, 0),
    (P_E2_TARGET_LOW, 1, P_E2_TARGET_HIGH, 1, P_E2_MILD_LOW, 0, P_E2_HIGH, 1, P_E2_SEVERE, 0),
    (P_E2_MILD_LOW, 0, P_E2_MILD_HIGH, 0),
    (P_TT_LOW, 1, P_TT_TARGET_LOW, 1, P_TT_TARGET_HIGH, 0),
    (P_HCT_WARN, 1, P_HCT_HIGH, 0),
    (P_BMD_OSTEOPOROSIS, 0, P_BMD_OSTEOPENIA, 0),
)
# A threshold is compared only while a rule whose band it bounds is on (parameter, rule, rule or -1); one
# not listed (the targets' E2_TARGET_LOW, E2_TARGET_HIGH, TT_TARGET_HIGH) always is. A member skipped
# passes its order on: E2_CRITICAL must still be below E2_LOW when E2_LOW_SYMPT is off.
LADDER_GATES = (
    P_E2_CRITICAL, R_E2_CRITICAL, -1, P_E2_LOW_SYMPT, R_E2_LOW_SYMPT, -1, P_E2_LOW, R_E2_LOW, -1,
    P_E2_BONE, R_E2_BONE, -1, P_E2_MILD_LOW, R_E2_MILD, R_C7, P_E2_MILD_HIGH, R_E2_MILD, R_C7,
    P_E2_HIGH, R_E2_HIGH, -1, P_E2_SEVERE, R_E2_SEVERE, R_C6, P_TT_LOW, R_TT_LOW, -1,
    P_TT_TARGET_LOW, R_TT_BELOW_TARGET, -1, P_HCT_WARN, R_HCT_WARN, -1, P_HCT_HIGH, R_C9, -1,
    P_BMD_OSTEOPOROSIS, R_BMD_OSTEOPOROSIS, -1, P_BMD_OSTEOPENIA, R_BMD_OSTEOPENIA, -1,
)


def ladder_member_on(params, i):
    for k in range(0, len(LADDER_GATES), 3):
        if LADDER_GATES[k] == i:
            r = LADDER_GATES[k + 2]
            return params[P_LEVELS + LADDER_GATES[k + 1]] >= 0 or (r >= 0 and params[P_LEVELS + r] >= 0)
    return True


def ladder_fault(params):
    # (lower, higher, strict) of the first pair of switched-on thresholds out of order, or None.
    for chain in LADDER:
        lower = -1
        strict = 0
        for k in range(0, len(chain), 2):
            i = chain[k]
            if ladder_member_on(params, i):
                if lower >= 0 and (params[lower] > params[i] or (params[lower] == params[i] and strict)):
                    return lower, i, strict
                lower = i
                strict = 0
            if lower >= 0:
                strict = strict or chain[k + 1]
    return None


def encode(profile):
    # Versioned, CRC-checked bytes.
    out = bytearray(HEADER + 4 * PARAM_COUNT + 4)
    out[0:4] = PROFILE_MAGIC
    struct.pack_into("<BH", out, 4, PROFILE_VERSION, PARAM_COUNT)
    for i in range(PARAM_COUNT):
        struct.pack_into("<i", out, HEADER + 4 * i, profile.params[i])
    struct.pack_into("<I", out, len(out) - 4, crc32(memoryview(out)[:-4]) & 0xFFFFFFFF)
    return bytes(out)


# Version 2 had E2_ABOVE (its index 2; the flag now follows E2_TARGET_HIGH) and 57 other parameters, then
# 27 levels; version 3 drops it and adds ACK_GRACE, DOSE_CHANGE_PCT and BIRTH_MONTH_DAY (at their defaults)
# before the levels.
V2_ABOVE = 2
V2_LEVELS = 58
V2_RULES = 27


def decode(blob):
    # A Profile from encode()'s bytes, or from an older version's (migrated: every clinician value is kept);
    # raises ValueError on any damage or bad value.
    blob = bytes(blob)
    if len(blob) < HEADER + 4 or blob[:4] != PROFILE_MAGIC:
        raise ValueError("not an e2mon profile")
    version, count = struct.unpack_from("<BH", blob, 4)
    if version == 2:
        ok = count == V2_LEVELS + V2_RULES
    elif version == PROFILE_VERSION:
        # a profile written before rules were appended: the missing levels keep their defaults
        ok = P_LEVELS + V2_RULES <= count <= PARAM_COUNT
    else:
        raise ValueError("profile version %d not supported" % version)
    if not ok or len(blob) != HEADER + 4 * count + 4:
        raise ValueError("profile has the wrong length")
    if struct.unpack_from("<I", blob, len(blob) - 4)[0] != crc32(blob[:-4]) & 0xFFFFFFFF:
        raise ValueError("profile CRC mismatch")
    profile = Profile()
    params = profile.params
    for i in range(count):
        value = struct.unpack_from("<i", blob, HEADER + 4 * i)[0]
        if version == PROFILE_VERSION:
            params[i] = value
        elif i >= V2_LEVELS:
            params[P_LEVELS + i - V2_LEVELS] = value
        elif i != V2_ABOVE:
            params[i - (i > V2_ABOVE)] = value
    check(profile)
    return profile

