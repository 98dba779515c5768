"""Flags and reminders (the integer tuples of monitor.tracker / the device's alerts payload)
in plain words, with the rule's source. The words themselves live in monitor.rules and
monitor.schedule; this only arranges them for the terminal, JSON and the report.
"""
from monitor import rules, schedule, texts


def flag_dict(flag):
    rule, level, day, value, value2, status = flag[:rules.FLAG_FIELDS]
    return {"rule": rules.RULES[rule], "level": rules.level_name(level), "day": day,
            "text": rules.message(rule, value, value2, status), "source": rules.source(rule),
            "indeterminate": bool(status & rules.STATUS_INDETERMINATE),
            "acknowledged": bool(status & rules.STATUS_ACKED)}


def flag_line(flag):
    d = flag_dict(flag)
    ack = " (acknowledged)" if d["acknowledged"] else ""
    return "[%s] %s (%s; source %s)%s" % (d["level"], d["text"], d["rule"], d["source"], ack)


def reminder_dict(reminder):
    index, state, due, muted = reminder[:schedule.REMINDER_FIELDS]
    return {"reminder": schedule.REMINDERS[index], "state": schedule.STATES[state], "due_day": due,
            "text": schedule.describe(index, state, due), "source": texts.REMINDER_SOURCES[index],
            "muted": ("no", "acknowledged", "snoozed")[muted] if 0 <= muted < 3 else str(muted)}


def reminder_line(reminder):
    d = reminder_dict(reminder)
    muted = "" if d["muted"] == "no" else " (%s)" % d["muted"]
    return "[%s] %s (source %s)%s" % (d["state"], d["text"], d["source"], muted)


def is_due(reminder):
    """Due or overdue (what a clinician acts on), as opposed to upcoming or done."""
    return reminder[1] in (schedule.DUE, schedule.OVERDUE)
