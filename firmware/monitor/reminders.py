# Reminder evaluation (clinical-rules §2) over the tracker's state; no allocation. IDs, states and the
# rules of the window, acknowledgement and snooze are described in monitor.schedule.
from monitor import records as R
from monitor.schedule import (
    DONE, DUE, MUTED_ACK, MUTED_NO, MUTED_SNOOZE, M_CBC, M_DEXA_BASELINE, M_DEXA_REPEAT,
    M_FERTILITY_REVIEW, M_LIPIDS, M_RECHECK, M_RECHECK_SEVERE, M_SEMEN, M_TAPER_LABS, OVERDUE,
    REMINDER_FIELDS, UPCOMING,
)
from monitor.profile import (
    P_DEXA_AGE, P_DEXA_PLANNED_MONTHS, P_DEXA_REPEAT_LOW_DUE, P_FRACTURE_HISTORY, P_PLANNED_MONTHS, P_REMINDERS,
)
from monitor.rules import e2_persistently_low, on_testosterone, severe_recheck_anchor, symptom_recheck_day, therapy_age
from monitor.state import (
    E2_RUN_START, FERT_START, GOAL, GOAL_DAY, LAST_CHANGE, LAT_DAY, REM_ACK_DAY, REM_SNOOZE_DAY,
    REM_SNOOZE_UNTIL, TAPER_DAY, TAPER_ON, THERAPY_START,
)


LIPID_ANALYTES = (R.A_HDL, R.A_LDL, R.A_TC, R.A_TG)


def _put(out, n, st, p, reminder, due, state, today):
    early = p[P_REMINDERS + 3 * reminder + 1]
    late = p[P_REMINDERS + 3 * reminder + 2]
    opens = due - early
    if state < 0:
        if today < opens:
            state = UPCOMING
        elif today <= due + late:
            state = DUE
        else:
            state = OVERDUE
    muted = MUTED_NO
    if state != DONE:
        ack = st[REM_ACK_DAY + reminder]
        if ack >= opens and (state != OVERDUE or ack > due + late):
            muted = MUTED_ACK
        snooze = st[REM_SNOOZE_DAY + reminder]
        if muted == MUTED_NO and snooze >= opens and today < st[REM_SNOOZE_UNTIL + reminder] and (
                state != OVERDUE or snooze > due + late):
            muted = MUTED_SNOOZE
    o = n * REMINDER_FIELDS
    out[o] = reminder
    out[o + 1] = state
    out[o + 2] = due
    out[o + 3] = muted
    return n + 1


def _opens(p, reminder, due):
    return due - p[P_REMINDERS + 3 * reminder + 1]


def _due_after(p, reminder, anchor):
    return anchor + p[P_REMINDERS + 3 * reminder]


def _periodic(out, n, st, p, reminder, base, last, today, interval):
    # Restarts from the latest matching lab on or after the base (therapy start, goal...).
    anchor = last if last >= base else base
    return _put(out, n, st, p, reminder, anchor + interval, -1, today)


def _one_shot(out, n, st, p, reminder, due, done_day, today):
    state = DONE if done_day >= _opens(p, reminder, due) else -1
    return _put(out, n, st, p, reminder, due, state, today)


def evaluate_reminders(st, p, today, out):
    if today < 0:
        return 0   # an unset clock (RTC back at its epoch) never fires a reminder
    n = 0
    e2_day = st[LAT_DAY + R.A_E2]
    start = st[THERAPY_START]

    # RECHECK after a start or dose change; also brought forward by symptoms with no E2 since (C1, C12).
    change = st[LAST_CHANGE]
    symptom_day = symptom_recheck_day(st)
    if change >= 0:
        due = _due_after(p, M_RECHECK, change)
        if e2_day < _opens(p, M_RECHECK, due):
            n = _put(out, n, st, p, M_RECHECK, due, -1, today)
        elif symptom_day >= 0:
            n = _put(out, n, st, p, M_RECHECK, symptom_day, -1, today)
        else:
            n = _put(out, n, st, p, M_RECHECK, due, DONE, today)
    elif symptom_day >= 0:
        n = _put(out, n, st, p, M_RECHECK, symptom_day, -1, today)

    anchor = severe_recheck_anchor(st)
    if anchor >= 0:
        n = _one_shot(out, n, st, p, M_RECHECK_SEVERE, _due_after(p, M_RECHECK_SEVERE, anchor), e2_day, today)

    if start >= 0 and (on_testosterone(st) or st[GOAL] == R.GOAL_TRT):
        n = _periodic(out, n, st, p, M_CBC, start, st[LAT_DAY + R.A_HCT], today, p[P_REMINDERS + 3 * M_CBC])

    if start >= 0:
        last = -1
        for i in range(4):
            d = st[LAT_DAY + LIPID_ANALYTES[i]]
            if d > last:
                last = d
        n = _periodic(out, n, st, p, M_LIPIDS, start, last, today, p[P_REMINDERS + 3 * M_LIPIDS])

    dexa_day = st[LAT_DAY + R.A_BMD_T]
    if start >= 0:
        age = therapy_age(st, p)
        if (age > p[P_DEXA_AGE]) or p[P_FRACTURE_HISTORY] or p[P_PLANNED_MONTHS] >= p[P_DEXA_PLANNED_MONTHS]:
            due = _due_after(p, M_DEXA_BASELINE, start)
            n = _one_shot(out, n, st, p, M_DEXA_BASELINE, due, dexa_day, today)

    low = e2_persistently_low(st, p)
    interval = p[P_DEXA_REPEAT_LOW_DUE] if low else p[P_REMINDERS + 3 * M_DEXA_REPEAT]
    if dexa_day >= 0:
        n = _put(out, n, st, p, M_DEXA_REPEAT, dexa_day + interval, -1, today)
    elif low:
        base = start if start >= 0 else st[E2_RUN_START]
        n = _put(out, n, st, p, M_DEXA_REPEAT, base + interval, -1, today)

    if st[GOAL] == R.GOAL_FERTILITY:
        base = st[GOAL_DAY] if st[GOAL_DAY] >= 0 else start
        if base >= 0:
            n = _periodic(out, n, st, p, M_SEMEN, base, st[LAT_DAY + R.A_SPERM], today,
                          p[P_REMINDERS + 3 * M_SEMEN])
        if st[FERT_START] >= 0:
            due = _due_after(p, M_FERTILITY_REVIEW, st[FERT_START])
            n = _one_shot(out, n, st, p, M_FERTILITY_REVIEW, due, st[REM_ACK_DAY + M_FERTILITY_REVIEW], today)

    if st[TAPER_ON]:
        n = _periodic(out, n, st, p, M_TAPER_LABS, st[TAPER_DAY], e2_day, today,
                      p[P_REMINDERS + 3 * M_TAPER_LABS])
    return n
