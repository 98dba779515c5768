# Reminder evaluation (clinical-rules §2) over the tracker's state; no allocation. IDs, states and the
# rules of the window, acknowledgement and snooze are described in monitor.schedule.
import monitor.evaluate  # noqa: F401,I001  (compile order: see monitor.ingest)
from monitor import records as R
from monitor import schedule as M
from monitor import profile as P
from monitor import rules as U
from monitor import state as S


LIPID_ANALYTES = (R.A_HDL, R.A_LDL, R.A_TC, R.A_TG)


def _put(out, n, st, p, reminder, due, state, today):
    early = p[P.P_REMINDERS + 3 * reminder + 1]
    late = p[P.P_REMINDERS + 3 * reminder + 2]
    opens = due - early
    if state < 0:
        if today < opens:
            state = M.UPCOMING
        elif today <= due + late:
            state = M.DUE
        else:
            state = M.OVERDUE
    muted = M.MUTED_NO
    if state != M.DONE:
        # "Done" means drawn: muted for ACK_GRACE days at most while the result is awaited, and never
        # past the day it turns overdue unless it was already overdue when drawn.
        ack = st[S.REM_ACK_DAY + reminder]
        if ack >= opens and today < ack + p[P.P_ACK_GRACE] and (state != M.OVERDUE or ack > due + late):
            muted = M.MUTED_ACK
        # a snooze (SNOOZE_MAX days at most) never hides an overdue reminder
        snooze = st[S.REM_SNOOZE_DAY + reminder]
        if muted == M.MUTED_NO and state != M.OVERDUE and snooze >= opens and \
                today < st[S.REM_SNOOZE_UNTIL + reminder]:
            muted = M.MUTED_SNOOZE
    o = n * M.REMINDER_FIELDS
    out[o] = reminder
    out[o + 1] = state
    out[o + 2] = due
    out[o + 3] = muted
    return n + 1


def _opens(p, reminder, due):
    return due - p[P.P_REMINDERS + 3 * reminder + 1]


def _due_after(p, reminder, anchor):
    return anchor + p[P.P_REMINDERS + 3 * reminder]


def _periodic(out, n, st, p, reminder, base, last, today, interval):
    # Restarts from the latest matching lab on or after the base (therapy start, goal...).
    anchor = last if last >= base else base
    return _put(out, n, st, p, reminder, anchor + interval, -1, today)


def _one_shot(out, n, st, p, reminder, due, done_day, today):
    state = M.DONE if done_day >= _opens(p, reminder, due) else -1
    return _put(out, n, st, p, reminder, due, state, today)


def evaluate_reminders(st, p, today, out):
    if today < 0:
        return 0   # an unset clock (RTC back at its epoch) never fires a reminder
    n = 0
    e2_day = st[S.LAT_DAY + R.A_E2]
    start = st[S.THERAPY_START]

    # RECHECK (E2 and total T) after a start, stop or dose change, and when C1 or C12 asks for one; done
    # when both are logged on or after the day asked (from the window's opening for a change).
    tt_day = st[S.LAT_DAY + R.A_TT]
    panel = e2_day if e2_day < tt_day else tt_day
    change = st[S.LAST_CHANGE]
    request = U.recheck_request(st, p, today)
    due = _due_after(p, M.M_RECHECK, change)
    if change >= 0 and panel < _opens(p, M.M_RECHECK, due):
        n = _put(out, n, st, p, M.M_RECHECK, due, -1, today)
    elif request > panel:
        n = _put(out, n, st, p, M.M_RECHECK, request, -1, today)
    elif change >= 0:
        n = _put(out, n, st, p, M.M_RECHECK, due, M.DONE, today)

    anchor = U.severe_recheck_anchor(st)
    if anchor >= 0:
        n = _one_shot(out, n, st, p, M.M_RECHECK_SEVERE, _due_after(p, M.M_RECHECK_SEVERE, anchor), e2_day, today)

    # CBC while on TRT, from the first testosterone dose or the TRT goal's date; stops with testosterone
    cbc = U.cbc_start(st)
    if cbc >= 0:
        n = _periodic(out, n, st, p, M.M_CBC, cbc, st[S.LAT_DAY + R.A_HCT], today, p[P.P_REMINDERS + 3 * M.M_CBC])

    if start >= 0:
        last = -1
        for i in range(4):
            d = st[S.LAT_DAY + LIPID_ANALYTES[i]]
            if d > last:
                last = d
        n = _periodic(out, n, st, p, M.M_LIPIDS, start, last, today, p[P.P_REMINDERS + 3 * M.M_LIPIDS])

    dexa_day = st[S.BMD_DAY]
    baseline_pending = 0
    if start >= 0:
        age = U.therapy_age(st, p)
        if (age > p[P.P_DEXA_AGE]) or p[P.P_FRACTURE_HISTORY] or p[P.P_PLANNED_MONTHS] >= p[P.P_DEXA_PLANNED_MONTHS]:
            due = _due_after(p, M.M_DEXA_BASELINE, start)
            # a scan in the DEXA_PRIOR_DAYS before the start is the baseline (clinical-rules §2)
            counts_from = start - p[P.P_DEXA_PRIOR_DAYS]
            opens = _opens(p, M.M_DEXA_BASELINE, due)
            if opens < counts_from:
                counts_from = opens
            baseline_pending = dexa_day < counts_from
            n = _put(out, n, st, p, M.M_DEXA_BASELINE, due, -1 if baseline_pending else M.DONE, today)

    # Yearly instead of every two years while E2 stays low (C4) or the last T-score is in the band of
    # BMD_OSTEOPENIA or BMD_OSTEOPOROSIS, that rule being on.
    t = st[S.BMD_MIN]
    low = U.e2_persistently_low(st, p) or (dexa_day >= 0 and (
        (p[P.P_LEVELS + U.R_BMD_OSTEOPENIA] >= 0 and t < p[P.P_BMD_OSTEOPENIA])
        or (p[P.P_LEVELS + U.R_BMD_OSTEOPOROSIS] >= 0 and t <= p[P.P_BMD_OSTEOPOROSIS])))
    interval = p[P.P_DEXA_REPEAT_LOW_DUE] if low else p[P.P_REMINDERS + 3 * M.M_DEXA_REPEAT]
    if baseline_pending:
        pass   # one scan answers both: the baseline reminder alone asks for it
    elif dexa_day >= 0:
        n = _put(out, n, st, p, M.M_DEXA_REPEAT, dexa_day + interval, -1, today)
    elif low:
        base = start if start >= 0 else st[S.E2_RUN_START]
        n = _put(out, n, st, p, M.M_DEXA_REPEAT, base + interval, -1, today)

    if st[S.GOAL] == R.GOAL_FERTILITY:
        base = st[S.GOAL_DAY] if st[S.GOAL_DAY] >= 0 else start
        if base >= 0:
            n = _periodic(out, n, st, p, M.M_SEMEN, base, st[S.LAT_DAY + R.A_SPERM], today,
                          p[P.P_REMINDERS + 3 * M.M_SEMEN])
        if st[S.FERT_START] >= 0:
            due = _due_after(p, M.M_FERTILITY_REVIEW, st[S.FERT_START])
            n = _one_shot(out, n, st, p, M.M_FERTILITY_REVIEW, due, st[S.REM_ACK_DAY + M.M_FERTILITY_REVIEW], today)

    if st[S.TAPER_ON]:
        n = _periodic(out, n, st, p, M.M_TAPER_LABS, st[S.TAPER_DAY], e2_day, today,
                      p[P.P_REMINDERS + 3 * M.M_TAPER_LABS])
    return n
