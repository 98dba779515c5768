"""The clinician-editable rule profile: a flat array of integer parameters.

Thresholds in stored units (monitor.units), day counts, patient settings (birth year, goal, fracture
history, planned months) and one level per rule (monitor.rules order; -1 = off). A clinician changes any
of them without code. `Profile.encode()` gives versioned, CRC-checked bytes; `Profile.decode(blob)`
raises ValueError on damage or an out-of-bounds value. Names are in monitor.texts.PARAM_NAMES.
"""
import struct
from array import array
from binascii import crc32

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

LEVELS = ("info", "discuss", "urgent")
LEVEL_OFF = const(-1)
LEVEL_INFO = const(0)
LEVEL_DISCUSS = const(1)
LEVEL_URGENT = const(2)

# Default level per rule, in monitor.rules.RULES order.
RULE_LEVELS = array("h", (0, 0, 1, 1, 0, 1, 1, 1,
               0, 1, 0, 0, -1,
               1, 2, 2, 0, 1, 1, 0, 1, 2, 1, 1, 1))
# Profile parameters (order fixed; names in monitor.texts.PARAM_NAMES): default, allowed min and max,
# and the analyte whose stored unit a threshold is in (-1: days, years, tenths or a setting).
# Thresholds in stored units; TE_RATIO in tenths; reminders take 3 each (due day, window opens this
# many days before, overdue this many days after), in monitor.schedule order; then patient settings.
PARAM_DEFAULTS = array("h", (

    200, 400, 400, 450, 600, 600, 800, 260, 200, 150, 100, 100,
    500, 1000, 300, 540, 520, 28, 42, 42, 50, 12, 28, 14,
    14, 28, 14, 14, 91, 14, 14, 182, 14, 14, 0, 60,
    60, 730, 30, 30, 91, 14, 14, 112, 7, 7, 14, 3,
    3, 365, 0, 0, 0, 0,
))
PARAM_MIN = array("h", (

    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, 150, 150, 1, 1, 1, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0,
    0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0,
    0, 1, 0, 0, 0, 0,
))
PARAM_MAX = array("h", (

    20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 1000,
    5000, 5000, 5000, 750, 750, 3650, 3650, 3650, 120, 600, 3650, 3650,
    3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650,
    3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650, 3650,
    3650, 3650, 2200, 2, 1, 600,
))
PARAM_ANALYTE = array("h", (

    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 1, 1, 1, 7,
    7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1,
))
P_E2_TARGET_LOW = const(0)
P_E2_TARGET_HIGH = const(1)
P_E2_ABOVE = const(2)
P_E2_MILD_LOW = const(3)
P_E2_MILD_HIGH = const(4)
P_E2_HIGH = const(5)
P_E2_SEVERE = const(6)
P_E2_BONE = const(7)
P_E2_LOW = const(8)
P_E2_LOW_SYMPT = const(9)
P_E2_CRITICAL = const(10)
P_TE_RATIO = const(11)
P_TT_TARGET_LOW = const(12)
P_TT_TARGET_HIGH = const(13)
P_TT_LOW = const(14)
P_HCT_HIGH = const(15)
P_HCT_WARN = const(16)
P_E2_PERSIST_DAYS = const(17)
P_SYMPTOM_PERSIST_DAYS = const(18)
P_NO_LAB_DAYS = const(19)
P_DEXA_AGE = const(20)
P_DEXA_PLANNED_MONTHS = const(21)
P_REMINDERS = const(22)     # 3 per reminder: due, early, late
P_DEXA_REPEAT_LOW_DUE = const(49)
P_BIRTH_YEAR = const(50)
P_GOAL = const(51)
P_FRACTURE_HISTORY = const(52)
P_PLANNED_MONTHS = const(53)
P_LEVELS = const(54)        # one per rule
PARAM_COUNT = const(79)

PROFILE_MAGIC = b"E2MP"
PROFILE_VERSION = const(1)

def param_index(name):
    from monitor.texts import PARAM_NAMES
    for i in range(PARAM_COUNT):
        if PARAM_NAMES[i] == name:
            return i
    raise ValueError("unknown profile parameter %s" % name)


def param_name(i):
    from monitor.texts import PARAM_NAMES
    return PARAM_NAMES[i]


def param_bounds(i):
    if i >= P_LEVELS:
        return LEVEL_OFF, LEVEL_URGENT
    return PARAM_MIN[i], PARAM_MAX[i]


def param_analyte(i):
    return PARAM_ANALYTE[i] if i < P_LEVELS else -1


class Profile:
    """The clinician-editable rule profile: a flat array of integer parameters."""

    def __init__(self):
        self.params = array("i", list(PARAM_DEFAULTS) + list(RULE_LEVELS))

    def get(self, name):
        return self.params[param_index(name)]

    def set(self, name, value):
        i = param_index(name) if isinstance(name, str) else name
        lo, hi = param_bounds(i)
        if not (lo <= value <= hi):
            raise ValueError("profile %s: %d outside %d..%d" % (param_name(i), value, lo, hi))
        self.params[i] = value

    def level(self, rule):  # rule index, monitor.rules order
        return self.params[P_LEVELS + rule]

    def check(self):
        """Raises ValueError if a parameter is out of bounds or a band is inverted."""
        for i in range(PARAM_COUNT):
            lo, hi = param_bounds(i)
            if not (lo <= self.params[i] <= hi):
                raise ValueError("profile %s: %d outside %d..%d" % (param_name(i), self.params[i], lo, hi))
        for lo_i, hi_i in ((P_E2_TARGET_LOW, P_E2_TARGET_HIGH), (P_E2_MILD_LOW, P_E2_MILD_HIGH),
                           (P_TT_TARGET_LOW, P_TT_TARGET_HIGH)):
            if self.params[lo_i] > self.params[hi_i]:
                raise ValueError("profile %s above %s" % (param_name(lo_i), param_name(hi_i)))

    def encode(self):
        body = PROFILE_MAGIC + struct.pack("<BH", PROFILE_VERSION, PARAM_COUNT) + bytes(self.params_le())
        return body + struct.pack("<I", crc32(body) & 0xFFFFFFFF)

    def params_le(self):
        out = bytearray(4 * PARAM_COUNT)
        for i in range(PARAM_COUNT):
            struct.pack_into("<i", out, 4 * i, self.params[i])
        return out

    def crc(self):
        return crc32(self.encode()) & 0x7FFFFFFF

    @classmethod
    def decode(cls, blob):
        """Profile from encode()'s bytes; raises ValueError on any damage or bad value."""
        blob = bytes(blob)
        if len(blob) < 11 or blob[:4] != PROFILE_MAGIC:
            raise ValueError("not an e2mon profile")
        version, count = struct.unpack_from("<BH", blob, 4)
        if version != PROFILE_VERSION:
            raise ValueError("profile version %d not supported" % version)
        if count != PARAM_COUNT or len(blob) != 7 + 4 * count + 4:
            raise ValueError("profile has the wrong length")
        if struct.unpack_from("<I", blob, len(blob) - 4)[0] != crc32(blob[:-4]) & 0xFFFFFFFF:
            raise ValueError("profile CRC mismatch")
        profile = cls()
        for i in range(count):
            profile.params[i] = struct.unpack_from("<i", blob, 7 + 4 * i)[0]
        profile.check()
        return profile


