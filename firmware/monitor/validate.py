# Entry validation (clinical-rules §5): plausibility bands, dates, qualifiers. Loaded only when an entry
# is checked (check_entry), not by evaluation.
from array import array

from monitor.records import (
    ANALYTE_COUNT, A_FT, DRUG_COUNT, ERR_CLOCK, ERR_CODE, ERR_CONFIRM, ERR_CONFIRM_WEEK, ERR_DATE,
    ERR_FLAGS, ERR_FT_ABOVE_TT, ERR_FUTURE, ERR_KIND, ERR_OK, ERR_RANGE, ERR_SEVERITY, EVENT_NAMES,
    FLAG_CONFIRMED, KIND_DOSE, KIND_EVENT, KIND_LAB, KIND_SYMPTOM, LAB_FLAGS_ALL, METHOD_MASK,
    MINUTES_PER_DAY, SEVERITY_MAX, SYMPTOM_COUNT, FUTURE_MINUTES,
)

# Plausibility in stored units: outside [reject_lo, reject_hi] refused; outside [confirm_lo, confirm_hi]
# accepted only with FLAG_CONFIRMED. A confirm bound equal to the reject bound means "none".
LAB_REJECT_LO = array("i", (0, 0, 0, 0, 0, 10, 0, 150, 0, 5, 0, 0, 10, 0, 0, -80, -80, -80))
LAB_REJECT_HI = array("i", (20000, 5000, 15000, 2000, 2000, 3000, 50000, 750, 1000000, 250, 1000, 1000, 10000, 4000,
                 10000, 60, 60, 60))
LAB_CONFIRM_LO = array("i", (50, 50, 0, 0, 0, 50, 0, 300, 0, 5, 0, 0, 10, 40, 0, -80, -80, -80))
LAB_CONFIRM_HI = array("i", (2000, 1500, 5000, 500, 500, 1500, 1000, 600, 1000, 250, 300, 1000, 1000, 1500, 3000, 60,
                  60, 60))
DOSE_REJECT_LO = (1, 1000)          # µg: anastrozole 0.001-10 mg, testosterone 1-2000 mg per dose
DOSE_REJECT_HI = (10000, 2000000)
DOSE_CONFIRM_LO = (125, 1000)
DOSE_CONFIRM_HI = (1000, 2000000)
DOSE_WEEK_CONFIRM = (7000, 400000)   # a week's total above this needs confirmation


def check_entry(kind, code, value, flags, day, minute, today, tt=0, week_total=0, now=-1):
    # 0 if the entry may be stored, else an ERR_* code.
    #
    # today: the device's day number, or -1 when the clock is unset. tt: latest total testosterone
    # (ng/dL, 0 if none) for the free-T check. week_total: the same drug's doses in the 6 days before
    # `day` and on it, excluding this one.
    # now: the device's time in minutes since 2000-01-01 (-1: compare days only); an entry more than
    # FUTURE_MINUTES ahead of it is refused.
    if today < 0:
        return ERR_CLOCK
    if not (0 <= day <= 65535) or not (0 <= minute < MINUTES_PER_DAY):
        return ERR_DATE
    if now < 0:
        if day > today:
            return ERR_FUTURE
    elif day * MINUTES_PER_DAY + minute - now > FUTURE_MINUTES:   # below 2**27: no big int
        return ERR_FUTURE
    confirmed = flags & FLAG_CONFIRMED
    if kind == KIND_LAB:
        if not (0 <= code < ANALYTE_COUNT):
            return ERR_CODE
        if flags & ~LAB_FLAGS_ALL or (flags & METHOD_MASK) == 3:
            return ERR_FLAGS
        if not (LAB_REJECT_LO[code] <= value <= LAB_REJECT_HI[code]):
            return ERR_RANGE
        if code == A_FT and tt > 0 and value > 10 * tt:
            return ERR_FT_ABOVE_TT
        if not confirmed and not (LAB_CONFIRM_LO[code] <= value <= LAB_CONFIRM_HI[code]):
            return ERR_CONFIRM
        return ERR_OK
    if kind == KIND_DOSE:
        if not (0 <= code < DRUG_COUNT):
            return ERR_CODE
        if flags & ~FLAG_CONFIRMED:
            return ERR_FLAGS
        if value == 0:
            return ERR_OK   # a STOP of the drug (clinical-rules §2)
        if not (DOSE_REJECT_LO[code] <= value <= DOSE_REJECT_HI[code]):
            return ERR_RANGE
        if not confirmed and not (DOSE_CONFIRM_LO[code] <= value <= DOSE_CONFIRM_HI[code]):
            return ERR_CONFIRM
        if not confirmed and week_total + value > DOSE_WEEK_CONFIRM[code]:
            return ERR_CONFIRM_WEEK
        return ERR_OK
    if kind == KIND_SYMPTOM:
        if not (0 <= code < SYMPTOM_COUNT):
            return ERR_CODE
        if not (0 <= value <= SEVERITY_MAX):
            return ERR_SEVERITY
        if flags:
            return ERR_FLAGS
        return ERR_OK
    if kind == KIND_EVENT:
        if not (0 <= code < len(EVENT_NAMES)):
            return ERR_CODE
        return ERR_OK
    return ERR_KIND
