# Combination rules (clinical-rules §4): symptoms with the latest results and therapy dates, integer
# only and without allocating; called by monitor.evaluate after the lab ladders.
from monitor import profile as P
from monitor import records as R
from monitor import state as S
from monitor import rules as U

from micropython import const

# Symptoms whose usual direction is low estradiol or either (clinical-rules §3): the ones C3 names.
LOW_E2_SYMPTOMS = const(0x1A1F)   # JOINT, LIBIDO, FATIGUE, MOOD, ED, HOTFLASH, COGNITION, WELLBEING


def combination_flags(st, p, today, out, n):
    # Combination rules C1-C6, C11, C12, C14 after the lab flags; returns the new count.
    e2_day = st[S.LAT_DAY + R.A_E2]
    e2 = st[S.LAT_VAL + R.A_E2]
    e2_below = st[S.LAT_FLAGS + R.A_E2] & R.FLAG_BELOW_LLOQ
    # Symptoms. c1: a JOINT..ED symptom active; any: any symptom active; excess: BREAST..FLUID active.
    c1_code = -1
    c1_rise = -1
    new_code = -1
    new_rise = -1
    any_code = -1
    any_day = -1
    excess_code = -1
    present = 0   # bit per active symptom
    for s in range(R.SYMPTOM_COUNT):
        if st[S.SYM_SEV + s] <= 0:
            continue
        present |= 1 << s
        rise = st[S.SYM_RISE + s]
        if rise >= any_day:
            any_code = s
            any_day = rise
        if s <= R.S_ED:
            if rise >= c1_rise:
                c1_code = s
                c1_rise = rise
            if st[S.LAST_CHANGE] >= 0 and rise > st[S.LAST_CHANGE] and rise > e2_day and rise >= new_rise:
                new_code = s
                new_rise = rise
        elif s <= R.S_FLUID and excess_code < 0:
            excess_code = s
    shown = U.STATUS_BELOW_LLOQ if e2_below else 0   # the E2 in the text gets its "<"
    # C2, C3 and C5 read symptoms against the latest E2 only while it is recent (clinical-rules §4,
    # precedence): an older one leaves the symptoms to C12. With the clock unset, the E2 counts as recent.
    stale_from = e2_day + p[P.P_NO_LAB_DAYS] + 1 if e2_day >= 0 else -1
    fresh = e2_day >= 0 and (today < 0 or today < stale_from)
    if e2_day >= 0 and not st[S.LAT_FLAGS + R.A_E2] & R.FLAG_CLINIC:
        shown |= U.STATUS_PATIENT_REPORTED
    low_symptom = 0   # C1, C2, C3 or C1's C12 wording: no plain C12 beside them
    if fresh and any_code >= 0 and p[P.P_LEVELS + U.R_C3] >= 0 and U.e2_surely_below(st, p[P.P_E2_CRITICAL]):
        # value2: the low-E2 symptoms present (bit mask), else every symptom present
        named = present & LOW_E2_SYMPTOMS
        n = U.emit(out, n, p, st, U.R_C3, e2_day if e2_day > any_day else any_day, e2, named if named else present,
                   shown)
        low_symptom = 1
    elif fresh and c1_code >= 0 and p[P.P_LEVELS + U.R_C2] >= 0 and U.e2_surely_below(st, p[P.P_E2_LOW_SYMPT]):
        n = U.emit(out, n, p, st, U.R_C2, e2_day if e2_day > c1_rise else c1_rise, e2, c1_code, shown)
        low_symptom = 1
    elif new_code >= 0 and U.drug_taken(st, R.D_ANASTROZOLE):
        if p[P.P_LEVELS + U.R_C1] >= 0:
            n = U.emit(out, n, p, st, U.R_C1, new_rise, new_code, st[S.LAST_CHANGE], 0)
            low_symptom = 1
    elif new_code >= 0 and p[P.P_LEVELS + U.R_C12] >= 0:
        # C1's symptoms without an aromatase inhibitor: a recheck, not a guess (C12's wording)
        n = U.emit(out, n, p, st, U.R_C12, new_rise, new_code, st[S.LAST_CHANGE], U.STATUS_AFTER_CHANGE)
        low_symptom = 1
    if U.e2_persistently_low(st, p):
        # the run's last result (surely low), not the latest, which may be an unsure "<24 pg/mL"
        n = U.emit(out, n, p, st, U.R_C4, st[S.E2_RUN_LAST], st[S.E2_RUN_VAL], st[S.E2_RUN_START],
                   (U.STATUS_BELOW_LLOQ if st[S.E2_RUN_FLAGS] & R.FLAG_BELOW_LLOQ else 0)
                   | (0 if st[S.E2_RUN_FLAGS] & R.FLAG_CLINIC else U.STATUS_PATIENT_REPORTED))
    if fresh and excess_code >= 0 and not e2_below and e2 > p[P.P_E2_HIGH]:
        rise = st[S.SYM_RISE + excess_code]
        n = U.emit(out, n, p, st, U.R_C5, e2_day if e2_day > rise else rise, e2, excess_code, shown)
    anchor = U.severe_recheck_anchor(st)
    due_param = P.P_REMINDERS + 3   # RECHECK_SEVERE due / early
    if anchor >= 0 and e2_day < anchor + p[due_param] - p[due_param + 1]:
        n = U.emit(out, n, p, st, U.R_C6, anchor, anchor + p[due_param], st[S.SEVERE_DAY], 0)
    if today >= 0 and any_code >= 0:
        # C11: labs in target, yet a symptom has lasted SYMPTOM_PERSIST_DAYS or more. Labs in target
        # (clinical-rules §4): the latest E2 measured (not below LLOQ) in the target band with no E2 flag,
        # E2_BONE included; the latest TT measured and in target; no hematocrit flag. Written inline: every
        # helper's name is one more entry in the device's table of interned names (README, Performance).
        lv = P.P_LEVELS
        tt = st[S.LAT_VAL + R.A_TT]
        hct = st[S.LAT_VAL + R.A_HCT]
        in_target = e2_day >= 0 and not e2_below and p[P.P_E2_TARGET_LOW] <= e2 <= p[P.P_E2_TARGET_HIGH] \
            and not (p[lv + U.R_E2_BONE] >= 0 and e2 < p[P.P_E2_BONE]) \
            and not (p[lv + U.R_E2_LOW] >= 0 and e2 < p[P.P_E2_LOW]) \
            and not (p[lv + U.R_E2_ABOVE] >= 0 and e2 > p[P.P_E2_TARGET_HIGH]) \
            and not (p[lv + U.R_E2_HIGH] >= 0 and e2 > p[P.P_E2_HIGH]) \
            and not ((p[lv + U.R_E2_MILD] >= 0 or p[lv + U.R_C7] >= 0)
                     and p[P.P_E2_MILD_LOW] <= e2 <= p[P.P_E2_MILD_HIGH]) \
            and st[S.LAT_DAY + R.A_TT] >= 0 and not st[S.LAT_FLAGS + R.A_TT] & R.FLAG_BELOW_LLOQ \
            and p[P.P_TT_TARGET_LOW] <= tt <= p[P.P_TT_TARGET_HIGH] \
            and not (st[S.LAT_DAY + R.A_HCT] >= 0 and ((p[lv + U.R_C9] >= 0 and hct >= p[P.P_HCT_HIGH]) or (
                p[lv + U.R_HCT_WARN] >= 0 and hct >= p[P.P_HCT_WARN])))
        # ... drawn (E2 and TT) after the symptom last rose and after the last therapy change (a draw on the
        # change day reflects the regimen before it), the E2 recent: so never beside C1 or C12.
        tt_day = st[S.LAT_DAY + R.A_TT]
        panel = e2_day if e2_day < tt_day else tt_day
        if in_target and fresh and not low_symptom and panel > st[S.LAST_CHANGE]:
            oldest = -1
            oldest_code = -1
            for s in range(R.SYMPTOM_COUNT):
                onset = st[S.SYM_ONSET + s]
                if st[S.SYM_SEV + s] > 0 and onset >= 0 and onset <= today - p[P.P_SYMPTOM_PERSIST_DAYS] and (
                        panel >= st[S.SYM_RISE + s]) and (oldest < 0 or onset < oldest):
                    oldest = onset
                    oldest_code = s
            if oldest_code >= 0:
                # dated to when it became true: the symptom's SYMPTOM_PERSIST_DAYS reached, both labs in
                day = oldest + p[P.P_SYMPTOM_PERSIST_DAYS]
                latest = e2_day if e2_day > tt_day else tt_day
                n = U.emit(out, n, p, st, U.R_C11, day if day > latest else latest, oldest_code, e2, 0)
        # C12: symptoms but no E2 result in the last NO_LAB_DAYS: do not guess high or low; dated to the day
        # that became true.
        if not low_symptom and not fresh:
            n = U.emit(out, n, p, st, U.R_C12, any_day if any_day > stale_from else stale_from, any_code, e2_day, 0)
    # C15: a testosterone dose logged while trying to conceive, testosterone still taken
    if st[S.GOAL] == R.GOAL_FERTILITY and st[S.FERT_T_START] >= 0 and U.drug_taken(st, R.D_TESTOSTERONE):
        n = U.emit(out, n, p, st, U.R_C15, st[S.FERT_T_START], 0, 0, 0)
    if st[S.SYM_SEV + R.S_COGNITION] > 0 or st[S.SYM_SEV + R.S_MOOD] > 0:
        code = R.S_COGNITION if st[S.SYM_SEV + R.S_COGNITION] > 0 else R.S_MOOD
        n = U.emit(out, n, p, st, U.R_C14, st[S.SYM_RISE + code], code, 0, 0)
    return n
