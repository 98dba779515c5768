# The clinician-editable rule profile: a flat array of integer parameters.
#
# Thresholds in stored units (monitor.units), day counts, patient settings (birth year, goal, fracture
# history, planned months) and one level per rule (monitor.rules order; -1 = off). A clinician changes any
# of them without code. monitor.profile_codec gives and reads its versioned, CRC-checked bytes, checks its
# bounds and reaches parameters by name (monitor.param_names.PARAM_NAMES); evaluation needs none of that.
from array import array
from binascii import crc32

from micropython import const

# Rule levels (their names: monitor.catalog.LEVELS).
LEVEL_OFF = const(-1)
LEVEL_INFO = const(0)
LEVEL_DISCUSS = const(1)
LEVEL_URGENT = const(2)

# Default level per rule, in monitor.catalog.RULES order.
RULE_LEVELS = array("h", (0, 0, 1, 1, 0, 1, 1, 1,
               0, 1, 0, 0, -1,
               1, 2, 2, 0, 1, 1, 0, 1, 2, 1, 1, 1,
               0, 1, 1))
# Profile parameters (order fixed; names in monitor.param_names, allowed ranges and units in
# monitor.profile_codec): defaults.
# Thresholds in stored units; TE_RATIO in tenths; reminders take 3 each (due day, window opens this
# many days before, overdue this many days after), in monitor.schedule order; then patient settings.
PARAM_DEFAULTS = array("h", (

    200, 400, 450, 600, 600, 800, 260, 200, 150, 100, 100,
    500, 1000, 300, 540, 520, 28, 42, 42, 50, 12, 28, 14,
    14, 28, 14, 14, 91, 14, 14, 182, 14, 14, 0, 60,
    60, 730, 30, 30, 91, 14, 14, 112, 7, 7, 14, 3,
    3, 365, 0, 0, 0, 0, -10, -25, 730, 48, 14, 50, 0,
))
P_E2_TARGET_LOW = const(0)
P_E2_TARGET_HIGH = const(1)
P_E2_MILD_LOW = const(2)
P_E2_MILD_HIGH = const(3)
P_E2_HIGH = const(4)
P_E2_SEVERE = const(5)
P_E2_BONE = const(6)
P_E2_LOW = const(7)
P_E2_LOW_SYMPT = const(8)
P_E2_CRITICAL = const(9)
P_TE_RATIO = const(10)
P_TT_TARGET_LOW = const(11)
P_TT_TARGET_HIGH = const(12)
P_TT_LOW = const(13)
P_HCT_HIGH = const(14)
P_HCT_WARN = const(15)
P_E2_PERSIST_DAYS = const(16)
P_SYMPTOM_PERSIST_DAYS = const(17)
P_NO_LAB_DAYS = const(18)
P_DEXA_AGE = const(19)
P_DEXA_PLANNED_MONTHS = const(20)
P_REMINDERS = const(21)     # 3 per reminder: due, early, late
P_DEXA_REPEAT_LOW_DUE = const(48)
P_BIRTH_YEAR = const(49)
P_GOAL = const(50)
P_FRACTURE_HISTORY = const(51)
P_PLANNED_MONTHS = const(52)
P_BMD_OSTEOPENIA = const(53)     # T-score below: low bone density (0.1 SD; -1.0 itself is normal)
P_BMD_OSTEOPOROSIS = const(54)   # at or below: osteoporosis range
P_DEXA_PRIOR_DAYS = const(55)    # a scan this many days before the start counts as the baseline
P_PUSH_DAY_BUDGET = const(56)    # entries a patient's host may push per day (the buttons are never limited)
P_ACK_GRACE = const(57)          # days "Done" (drawn) mutes a reminder while its result is awaited
P_DOSE_CHANGE_PCT = const(58)    # a 14-day dose total this many % off the 14 days before is a change
P_BIRTH_MONTH_DAY = const(59)    # month and day of birth as MMDD (0: unknown; the year alone counts then)
P_LEVELS = const(60)        # one per rule
PARAM_COUNT = const(88)

PROFILE_MAGIC = b"E2MP"
PROFILE_VERSION = const(3)

class Profile:
    # The clinician-editable rule profile: a flat array of integer parameters.

    def __init__(self):
        self.params = array("i", bytes(4 * PARAM_COUNT))   # no list in between (small heaps)
        self.reset()

    def reset(self):
        # every parameter back to its default, in place
        params = self.params
        for i in range(P_LEVELS):
            params[i] = PARAM_DEFAULTS[i]
        for i in range(PARAM_COUNT - P_LEVELS):
            params[P_LEVELS + i] = RULE_LEVELS[i]

    def level(self, rule):  # rule index, monitor.rules order
        return self.params[P_LEVELS + rule]

    def crc(self):
        # Fingerprint of the parameters (low 31 bits of their CRC-32, little-endian int32 each).
        return crc32(self.params) & 0x7FFFFFFF
