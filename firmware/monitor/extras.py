# Helpers of monitor.records, monitor.rules and monitor.schedule for hosts and displays: names,
# conversion, formatting, validation and plain text. Reached as records.<name>, rules.<name> and
# schedule.<name> through their module __getattr__ (see find), so the device's resident core (what
# evaluation needs) does not carry them; each loads what it needs on first use.
from monitor.catalog import ERROR_NAMES, REMINDERS, RULES
from monitor.profile import LEVELS


def find(name):
    # the attribute `name` from this module, catalog, validate, or raise AttributeError
    from monitor import catalog, extras, validate
    for module in (extras, catalog, validate):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(name)


def error_name(code):
    if 0 <= code < len(ERROR_NAMES):
        return "ERR_" + ERROR_NAMES[code]
    return "ERR_%d" % code


def check_entry(kind, code, value, flags, day, minute, today, tt=0, week_total=0, now=-1):
    # 0 if the entry may be stored, else an ERR_* code (monitor.validate); now: minutes since 2000-01-01
    from monitor.validate import check_entry as check
    return check(kind, code, value, flags, day, minute, today, tt, week_total, now)


def convert_entry(kind, code, mantissa, decimals, unit):
    from monitor import units
    return units.convert_entry(kind, code, mantissa, decimals, unit)


def unit_index(kind, code, unit):
    from monitor import units
    return units.unit_index(kind, code, unit)


def format_value(kind, code, value, flags=0):
    # flags: a lab's flags byte; below the limit of quantitation the text keeps its "<"
    from monitor import texts
    return texts.format_value(kind, code, value, flags)


def format_lab_si(code, value):
    from monitor import texts
    return texts.format_lab_si(code, value)


def rule_index(name):
    for i in range(len(RULES)):
        if RULES[i] == name:
            return i
    raise ValueError("unknown rule %s" % name)


def message(rule, value, value2, status):
    # Plain-language flag text; always ends by sending the patient to the clinician, never a dose.
    from monitor import texts
    return texts.message(rule, value, value2, status)


def source(rule):
    from monitor import texts
    return texts.RULE_SOURCES[rule]


def level_name(level):
    return LEVELS[level] if 0 <= level < len(LEVELS) else "off"


def describe(reminder, state, due):
    from monitor import texts
    return texts.describe_reminder(reminder, state, due)


def reminder_index(name):
    for i in range(len(REMINDERS)):
        if REMINDERS[i] == name:
            return i
    raise ValueError("unknown reminder %s" % name)
