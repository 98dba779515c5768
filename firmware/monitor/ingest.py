# Applying one stored record to the tracker's state (monitor.state): O(1), integer only. The latest
# result per analyte (by date; a back-dated one does not replace it), the therapy start and last dose
# change, symptom onsets and rises, the run of consecutive low E2 results, acknowledgements, snoozes,
# goal and taper events.
# Compile order for the 64K heap: the large modules are imported (compiled) before the small ones they
# all use fill the heap; ingest -> reminders -> evaluate -> combine, each importing the next first.
import monitor.reminders  # noqa: F401,I001
from monitor import records as R
from monitor import profile as P
from monitor import rules as U
from monitor import schedule as M
from monitor import state as S

ACK_RULE_BASE = 64   # EVENT_ACK value: reminder index below this, 64 + rule index for a flag

def apply_lab(st, p, day, code, value, flags):
    if not (0 <= code < R.ANALYTE_COUNT) or day < st[S.LAT_DAY + code]:
        return   # a back-dated result does not replace a later one
    st[S.LAT_VAL + code] = value
    st[S.LAT_DAY + code] = day
    st[S.LAT_FLAGS + code] = flags
    if code != R.A_E2:
        return
    below = flags & R.FLAG_BELOW_LLOQ
    if (value <= p[P.P_E2_LOW]) if below else (value < p[P.P_E2_LOW]):
        if st[S.E2_RUN_START] < 0:
            st[S.E2_RUN_START] = day
        st[S.E2_RUN_LAST] = day
    elif not below:
        st[S.E2_RUN_START] = -1
        st[S.E2_RUN_LAST] = -1
    if not below and value > p[P.P_E2_SEVERE]:
        st[S.SEVERE_DAY] = day


def apply_dose(st, day, drug, amount):
    if not (0 <= drug < R.DRUG_COUNT):
        return
    if st[S.THERAPY_START] < 0 or day < st[S.THERAPY_START]:
        st[S.THERAPY_START] = day
    if st[S.DOSE_START + drug] < 0 or day < st[S.DOSE_START + drug]:
        st[S.DOSE_START + drug] = day
    if st[S.GOAL] == R.GOAL_FERTILITY and st[S.FERT_START] < 0:
        st[S.FERT_START] = day
    slot = S.WEEK_DAY + drug * S.WEEK_SLOTS + day % S.WEEK_SLOTS
    if st[slot] == day:
        st[slot + (S.WEEK_SUM - S.WEEK_DAY)] += amount
    elif day > st[slot]:
        st[slot] = day
        st[slot + (S.WEEK_SUM - S.WEEK_DAY)] = amount
    if day < st[S.DOSE_DAY + drug]:
        return   # back-dated: not a change of the current regimen
    if st[S.DOSE_AMT + drug] != amount:
        if day > st[S.LAST_CHANGE]:
            st[S.LAST_CHANGE] = day
    st[S.DOSE_AMT + drug] = amount
    st[S.DOSE_DAY + drug] = day


def apply_symptom(st, day, code, severity):
    if not (0 <= code < R.SYMPTOM_COUNT) or day < st[S.SYM_DAY + code]:
        return
    before = st[S.SYM_SEV + code]
    if severity > 0 and before == 0:
        st[S.SYM_ONSET + code] = day
        st[S.SYM_RISE + code] = day
    elif severity > before:
        st[S.SYM_RISE + code] = day
    elif severity == 0:
        st[S.SYM_ONSET + code] = -1
        st[S.SYM_RISE + code] = -1
    st[S.SYM_SEV + code] = severity
    st[S.SYM_DAY + code] = day


def apply_event(st, day, code, value, flags):
    if code == R.EVENT_ACK:
        if 0 <= value < M.REMINDER_COUNT:
            if day > st[S.REM_ACK_DAY + value]:
                st[S.REM_ACK_DAY + value] = day
        elif 0 <= value - ACK_RULE_BASE < U.RULE_COUNT:
            if day > st[S.RULE_ACK_DAY + value - ACK_RULE_BASE]:
                st[S.RULE_ACK_DAY + value - ACK_RULE_BASE] = day
    elif code == R.EVENT_SNOOZE:
        if 0 <= value < M.REMINDER_COUNT and flags > 0:
            st[S.REM_SNOOZE_DAY + value] = day
            st[S.REM_SNOOZE_UNTIL + value] = day + (flags if flags < M.SNOOZE_MAX else M.SNOOZE_MAX)
    elif code == R.EVENT_GOAL:
        if 0 <= value < R.GOAL_COUNT and value != st[S.GOAL]:
            st[S.GOAL] = value
            st[S.GOAL_DAY] = day
            st[S.FERT_START] = -1
    elif code == R.EVENT_TAPER_START:
        st[S.TAPER_ON] = 1
        st[S.TAPER_DAY] = day
    elif code == R.EVENT_TAPER_END:
        st[S.TAPER_ON] = 0
