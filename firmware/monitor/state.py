# Layout of the tracker's derived state: one flat array of int32, so a snapshot is its bytes and an
# evaluation reads fixed slots (its cost does not depend on how long the history is). -1 = none.
from array import array

from micropython import const

LAT_VAL = const(0)          # [18] latest value per analyte (by date)
LAT_DAY = const(18)         # [18] its day
LAT_FLAGS = const(36)       # [18] its flags byte
DOSE_AMT = const(54)        # [2] last dose amount per drug (0 after a STOP: the next dose is a start)
DOSE_DAY = const(56)        # [2] day of that dose (a STOP is not a dose)
DOSE_START = const(58)      # [2] first dose day of the current course per drug
DOSE_STOP = const(60)       # [2] day of the last STOP per drug
DRUG_CHANGE = const(62)     # [2] last start, stop, amount or frequency change per drug
DOSE_SLOT_DAY = const(64)   # [2 x 28] ring of dose days per drug (slot = day % 28)
DOSE_SLOT_SUM = const(120)  # [2 x 28] dose total on that day
SYM_SEV = const(176)        # [13] current severity per symptom
SYM_DAY = const(189)        # [13] day of the last entry for the symptom
SYM_ONSET = const(202)      # [13] day it appeared (0 -> >0)
SYM_RISE = const(215)       # [13] day it appeared or last got worse
THERAPY_START = const(228)  # first dose of any drug
LAST_CHANGE = const(229)    # last therapy start, stop or dose change (any drug)
E2_RUN_START = const(230)   # first of the current run of consecutive low E2 results
E2_RUN_LAST = const(231)    # last of that run
SEVERE_DAY = const(232)     # last E2 result above the severe threshold
GOAL = const(233)           # current goal (catalog.GOALS index)
GOAL_DAY = const(234)       # day the goal was set by an event (-1: from the profile)
TAPER_ON = const(235)
TAPER_DAY = const(236)
FERT_START = const(237)     # first dose while the fertility goal is set
LAST_SEQ = const(238)
C12_ASK = const(239)        # day C12 asked for a recheck that an E2 alone has not answered
FERT_T_START = const(240)   # first testosterone dose while the fertility goal is set (C15)
E2_RUN_VAL = const(241)     # the last result of the low run (C4 shows it) ...
E2_RUN_FLAGS = const(242)   # ... and its flags (below the limit of quantitation)
BMD_DAY = const(243)      # the latest DEXA scan day (any site)
BMD_MIN = const(244)      # the lowest T-score of that day (ISCD: the lowest site counts)
REM_ACK_DAY = const(245)    # [9] day of the last acknowledgement per reminder
REM_SNOOZE_DAY = const(254)     # [9] day of the last snooze
REM_SNOOZE_UNTIL = const(263)   # [9] first day the snooze no longer mutes
RULE_ACK_DAY = const(272)   # [32] day of the last acknowledgement per rule
STATE_SIZE = const(304)

DOSE_SLOTS = const(28)
WEEK_DAYS = const(7)
RULE_SLOTS = const(32)
REMINDER_SLOTS = const(9)


def fresh_state(goal):
    st = array("i", bytes(4 * STATE_SIZE))   # no list in between (small heaps)
    reset_state(st, goal)
    return st


def reset_state(st, goal):
    # the state of an empty log, in place
    for i in range(STATE_SIZE):
        st[i] = -1
    for i in range(13):
        st[SYM_SEV + i] = 0
    for i in range(2 * DOSE_SLOTS):
        st[DOSE_SLOT_SUM + i] = 0
    st[GOAL] = goal
    st[TAPER_ON] = 0
    st[LAST_SEQ] = 0
