# Plain messages of the records' ERR_* codes (index = code); loaded when an entry is refused.
ERROR_MESSAGES = (
    "ok",
    "unknown entry type",
    "unknown test, medicine, symptom or event",
    "this unit is not accepted for this entry",
    "too many decimal places",
    "value outside the possible range: check the number and the unit",
    "unusual value: check the number and the unit, then confirm it",
    "the date is in the future",
    "invalid date or time",
    "the clock is not set: set the time first",
    "severity must be 0, 1, 2 or 3",
    "invalid method or qualifier",
    "free testosterone cannot exceed 10% of total testosterone: check the units",
    "unusual weekly total: check the doses, then confirm",
    "invalid profile",
)
