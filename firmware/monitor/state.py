# Layout of the tracker's derived state: one flat array of int32, so a snapshot is its bytes and an
# evaluation reads fixed slots (its cost does not depend on how long the history is). -1 = none.
from array import array

from micropython import const

LAT_VAL = const(0)          # [16] latest value per analyte (by date)
LAT_DAY = const(16)         # [16] its day
LAT_FLAGS = const(32)       # [16] its flags byte
DOSE_AMT = const(48)        # [2] last dose amount per drug
DOSE_DAY = const(50)        # [2] day of that dose
DOSE_START = const(52)      # [2] first dose day per drug
WEEK_DAY = const(54)        # [2 x 7] ring of dose days per drug (slot = day % 7)
WEEK_SUM = const(68)        # [2 x 7] dose total on that day
SYM_SEV = const(82)         # [13] current severity per symptom
SYM_DAY = const(95)         # [13] day of the last entry for the symptom
SYM_ONSET = const(108)      # [13] day it appeared (0 -> >0)
SYM_RISE = const(121)       # [13] day it appeared or last got worse
THERAPY_START = const(134)  # first dose of any drug
LAST_CHANGE = const(135)    # last therapy start or dose change (any drug)
E2_RUN_START = const(136)   # first of the current run of consecutive low E2 results
E2_RUN_LAST = const(137)    # last of that run
SEVERE_DAY = const(138)     # last E2 result above the severe threshold
GOAL = const(139)           # current goal (catalog.GOALS index)
GOAL_DAY = const(140)       # day the goal was set by an event (-1: from the profile)
TAPER_ON = const(141)
TAPER_DAY = const(142)
FERT_START = const(143)     # first dose while the fertility goal is set
LAST_SEQ = const(144)
REM_ACK_DAY = const(145)    # [9] day of the last acknowledgement per reminder
REM_SNOOZE_DAY = const(154)     # [9] day of the last snooze
REM_SNOOZE_UNTIL = const(163)   # [9] first day the snooze no longer mutes
RULE_ACK_DAY = const(172)   # [32] day of the last acknowledgement per rule
STATE_SIZE = const(204)

WEEK_SLOTS = const(7)
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
    for i in range(14):
        st[WEEK_SUM + i] = 0
    st[GOAL] = goal
    st[TAPER_ON] = 0
    st[LAST_SEQ] = 0
