# Recheck reminders (clinical-rules §2), computed from dates in the tracker's state.
#
# Reminder IDs, states and fields. monitor.reminders' `evaluate_reminders(st, p, today, out)` writes REMINDER_FIELDS ints per active reminder into `out`
# without allocating: reminder, state, due day, muted. With the clock unset (today < 0) there is no
# reminder at all. Each reminder has a due day with a window: it is UPCOMING before `due - early`, DUE
# until `due + late`, then OVERDUE (escalation). Logging the matching lab inside or after the window
# satisfies it: one-shot reminders become DONE, periodic ones restart from that lab.
# Acknowledging (EVENT_ACK, value = reminder index: "Done", the sample was drawn) mutes the current cycle
# while the result is awaited, for the profile's ACK_GRACE days at most; an acknowledgement before the
# reminder turned overdue stops muting once it does, and one still without its lab after the grace lets
# the reminder return, overdue. A snooze (EVENT_SNOOZE, flags = days, SNOOZE_MAX at most) mutes it until
# it turns overdue. FERTILITY_REVIEW (not a lab) is done by acknowledging it inside its window.
from micropython import const

M_RECHECK = const(0)
M_RECHECK_SEVERE = const(1)
M_CBC = const(2)
M_LIPIDS = const(3)
M_DEXA_BASELINE = const(4)
M_DEXA_REPEAT = const(5)
M_SEMEN = const(6)
M_FERTILITY_REVIEW = const(7)
M_TAPER_LABS = const(8)
REMINDER_COUNT = const(9)

UPCOMING = const(0)
DUE = const(1)
OVERDUE = const(2)
DONE = const(3)

MUTED_NO = const(0)
MUTED_ACK = const(1)
MUTED_SNOOZE = const(2)
SNOOZE_MAX = const(7)   # days

REMINDER_FIELDS = const(4)
M_ID = const(0)
M_STATE = const(1)
M_DUE = const(2)
M_MUTED = const(3)
