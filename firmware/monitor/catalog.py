# Names and display tables of the record codes, rule IDs, reminder IDs and profile levels (monitor.records,
# monitor.rules, monitor.schedule and monitor.profile define the codes themselves); codes are indexes into
# these tuples. Hosts and displays import this module; the device's evaluation never loads it.

ANALYTES = ("E2", "TT", "FT", "LH", "FSH", "SHBG", "PRL", "HCT", "PSA", "HDL", "LDL", "TC", "TG", "VITD",
            "SPERM", "BMD_T", "BMD_T_HIP", "BMD_T_FN")
LOINC = ("2243-4", "2986-8", "2991-8", "10501-5", "15067-2", "13967-5", "2842-3", "4544-3", "2857-1",
         "2085-9", "13457-7", "2093-3", "2571-8", "62292-8", "9780-8", "38267-1", "38264-8",
         "38263-0")
LOINC_E2_SENSITIVE = "72873-3"
SYMPTOMS = ("JOINT", "LIBIDO", "FATIGUE", "MOOD", "ED", "BREAST", "GYNO", "NIPPLE", "FLUID", "HOTFLASH",
            "HEADACHE", "COGNITION", "WELLBEING")
DRUGS = ("anastrozole", "testosterone")   # both stored in µg
DRUG_STORED_UNIT = ("ug", "ug")
GOALS = ("trt", "fertility", "estrogen_control")
METHODS = ("unknown", "immunoassay", "LC-MS/MS")

# The conventional unit each lab value is stored in (monitor.units: the first row of its unit table), and
# the decimal places of the stored integer in it.
LAB_UNIT = ("pg/mL", "ng/dL", "pg/mL", "mIU/mL", "mIU/mL", "nmol/L", "ng/mL", "%", "ng/mL", "mg/dL", "mg/dL",
            "mg/dL", "mg/dL", "ng/mL", "M/mL", "SD", "SD", "SD")
LAB_DECIMALS = (1, 0, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1)
DOSE_DECIMALS = (3, 3)   # both stored in µg, shown in mg
ERROR_NAMES = ("OK", "KIND", "CODE", "UNIT", "PRECISION", "RANGE", "CONFIRM", "FUTURE", "DATE", "CLOCK",
               "SEVERITY", "FLAGS", "FT_ABOVE_TT", "CONFIRM_WEEK", "PROFILE", "BUDGET", "BEFORE_CLOCK")
# Why an entry was voided or amended: the flags byte of records.EVENT_VOID / EVENT_AMEND indexes this.
REASONS = ("entered_in_error", "duplicate", "wrong_value", "wrong_unit", "wrong_date", "wrong_patient", "other")

# Rule IDs (monitor.rules R_* order), reminder IDs and states (monitor.schedule order).
RULES = ("E2_ABOVE", "E2_MILD", "E2_HIGH", "E2_SEVERE", "E2_BONE", "E2_LOW", "E2_LOW_SYMPT", "E2_CRITICAL",
         "TE_RATIO", "TT_LOW", "TT_BELOW_TARGET", "TT_ABOVE_TARGET", "HCT_WARN",
         "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C11", "C12", "C14", "BMD_OSTEOPENIA",
         "BMD_OSTEOPOROSIS", "C15")
REMINDERS = ("RECHECK", "RECHECK_SEVERE", "CBC", "LIPIDS", "DEXA_BASELINE", "DEXA_REPEAT", "SEMEN",
             "FERTILITY_REVIEW", "TAPER_LABS")
STATES = ("upcoming", "due", "overdue", "done")
LEVELS = ("info", "discuss", "urgent")   # monitor.profile LEVEL_* order


def error_name(code):
    if 0 <= code < len(ERROR_NAMES):
        return "ERR_" + ERROR_NAMES[code]
    return "ERR_%d" % code


def rule_index(name):
    for i in range(len(RULES)):
        if RULES[i] == name:
            return i
    raise ValueError("unknown rule %s" % name)


def reminder_index(name):
    for i in range(len(REMINDERS)):
        if REMINDERS[i] == name:
            return i
    raise ValueError("unknown reminder %s" % name)


def level_name(level):
    return LEVELS[level] if 0 <= level < len(LEVELS) else "off"
