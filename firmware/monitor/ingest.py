# Applying one stored record to the tracker's state (monitor.state): O(1), integer only. The latest
# result per analyte (by date; a back-dated one does not replace it), the therapy start and last dose
# change (start, stop, amount, frequency), symptom onsets and rises, the run of consecutive low E2
# results, acknowledgements, snoozes, goal and taper events.
# Compile order for the 64K heap: the large modules are imported (compiled) before the small ones they
# all use fill the heap; ingest -> reminders -> evaluate -> combine, each importing the next first.
import monitor.reminders  # noqa: F401,I001
from monitor import records as R
from monitor import profile as P
from monitor import rules as U
from monitor import schedule as M
from monitor import state as S

from micropython import const

ACK_RULE_BASE = 64   # EVENT_ACK value: reminder index below this, 64 + rule index for a flag

def apply_lab(st, p, day, code, value, flags):
    if code == R.A_BMD_T or code == R.A_BMD_T_HIP or code == R.A_BMD_T_FN:
        # the BMD rules read the lowest T-score of the latest scan day, whatever its site (ISCD)
        if day > st[S.BMD_DAY]:
            st[S.BMD_DAY] = day
            st[S.BMD_MIN] = value
        elif day == st[S.BMD_DAY] and value < st[S.BMD_MIN]:
            st[S.BMD_MIN] = value
    if not (0 <= code < R.ANALYTE_COUNT) or day < st[S.LAT_DAY + code]:
        return   # a back-dated result does not replace a later one
    if code == R.A_E2:
        # C12 held until this E2 (symptoms, no E2 in the NO_LAB_DAYS before): its recheck asks for total T
        # too, so it stays open until the whole panel is logged.
        prev = st[S.LAT_DAY + R.A_E2]
        stale_from = prev + p[P.P_NO_LAB_DAYS] + 1 if prev >= 0 else -1
        if p[P.P_LEVELS + U.R_C12] >= 0 and stale_from <= day:
            ask = -1
            for s in range(R.SYMPTOM_COUNT):
                if st[S.SYM_SEV + s] > 0 and st[S.SYM_RISE + s] > ask:
                    ask = st[S.SYM_RISE + s]
            if ask >= 0:
                if stale_from > ask:
                    ask = stale_from
                if ask > st[S.C12_ASK]:
                    st[S.C12_ASK] = ask
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
        st[S.E2_RUN_VAL] = value
        st[S.E2_RUN_FLAGS] = flags
    elif not below:
        st[S.E2_RUN_START] = -1
        st[S.E2_RUN_LAST] = -1
    if not below and value > p[P.P_E2_SEVERE]:
        st[S.SEVERE_DAY] = day


_DOSE_DAY_MAX = const(1 << 24)   # µg a day's ring slot holds at most: 28 of them stay below 2**30


def apply_dose(st, p, day, drug, amount):
    # A dose, or a STOP (amount 0). A dose change (clinical-rules §2) is a start, a new per-dose amount, a
    # STOP of a drug taken, or a logged 14-day total DOSE_CHANGE_PCT % off the 14 days before.
    if not (0 <= drug < R.DRUG_COUNT):
        return
    last = st[S.DOSE_DAY + drug]
    stopped = st[S.DOSE_STOP + drug]
    if amount <= 0:
        # a STOP of a drug taken, not before its last dose
        if last >= 0 and day >= last and last > stopped:
            st[S.DOSE_STOP + drug] = day
            st[S.DOSE_AMT + drug] = 0
            if day > st[S.LAST_CHANGE]:
                st[S.LAST_CHANGE] = day
            if day > st[S.DRUG_CHANGE + drug]:
                st[S.DRUG_CHANGE + drug] = day
        return
    if st[S.THERAPY_START] < 0 or day < st[S.THERAPY_START]:
        st[S.THERAPY_START] = day
    start = st[S.DOSE_START + drug]
    if day > stopped and (start <= stopped or day < start):
        st[S.DOSE_START + drug] = day   # the first dose of the current course
    if st[S.GOAL] == R.GOAL_FERTILITY and st[S.FERT_START] < 0:
        st[S.FERT_START] = day
    if st[S.GOAL] == R.GOAL_FERTILITY and drug == R.D_TESTOSTERONE and st[S.FERT_T_START] < 0:
        st[S.FERT_T_START] = day
    base = S.DOSE_SLOT_DAY + drug * S.DOSE_SLOTS
    slot = base + day % S.DOSE_SLOTS
    total = slot + (S.DOSE_SLOT_SUM - S.DOSE_SLOT_DAY)
    if st[slot] == day:
        st[total] = st[total] + amount if st[total] + amount < _DOSE_DAY_MAX else _DOSE_DAY_MAX
    elif day > st[slot]:
        st[slot] = day
        st[total] = amount if amount < _DOSE_DAY_MAX else _DOSE_DAY_MAX
    if day < last:
        return   # back-dated: not a change of the current regimen
    changed = st[S.DOSE_AMT + drug] != amount
    if not changed and st[S.DRUG_CHANGE + drug] <= day - (S.DOSE_SLOTS - 1):
        # the frequency: the last 14 days' total against the 14 days before, both inside this regimen
        recent = 0
        before = 0
        for i in range(S.DOSE_SLOTS):
            ago = day - st[base + i]
            if 0 <= ago < S.DOSE_SLOTS // 2:
                recent += st[base + i + (S.DOSE_SLOT_SUM - S.DOSE_SLOT_DAY)]
            elif S.DOSE_SLOTS // 2 <= ago < S.DOSE_SLOTS:
                before += st[base + i + (S.DOSE_SLOT_SUM - S.DOSE_SLOT_DAY)]
        pct = p[P.P_DOSE_CHANGE_PCT]
        # |recent - before| * 100 >= pct * before, without a product reaching 2**30
        changed = before > 0 and (recent - before if recent > before else before - recent) >= \
            (before // 100) * pct + ((before % 100) * pct + 99) // 100
    if changed:
        if day > st[S.LAST_CHANGE]:
            st[S.LAST_CHANGE] = day
        if day > st[S.DRUG_CHANGE + drug]:
            st[S.DRUG_CHANGE + drug] = day
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
            st[S.FERT_T_START] = -1
    elif code == R.EVENT_TAPER_START:
        st[S.TAPER_ON] = 1
        st[S.TAPER_DAY] = day
    elif code == R.EVENT_TAPER_END:
        st[S.TAPER_ON] = 0
