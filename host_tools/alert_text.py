"""Flags and reminders (the integer tuples of monitor.tracker / the device's alerts payload)
in plain words, with the rule's source. The dict form is `e2mon evaluate`'s (host_tools.cmd_evaluate),
so `alerts --json` and `evaluate --json` read alike; the words live in monitor.texts.
"""
from host_tools.cmd_evaluate import flag_dict as _evaluate_flag_dict
from host_tools.cmd_evaluate import reminder_dict as _evaluate_reminder_dict
from monitor import schedule, texts


def flag_dict(flag, p=None):
    # p: the device's profile parameters (durations in the texts); the defaults without them
    return _evaluate_flag_dict(tuple(flag), p)


def flag_line(flag, today=None, p=None):
    """One flag in words, led by the date of the result it rests on (and its age, given today's day
    number), so an old value does not read as current."""
    d = flag_dict(flag, p)
    ack = " (acknowledged)" if d.get("acknowledged") else ""
    when = ""
    if d.get("date"):
        when = "%s: " % d["date"]
        if today is not None and flag[2] <= today:
            when = "%s (%s): " % (d["date"], age_text(today - flag[2]))
    by = " (rests on a patient-reported result)" if d.get("patient_reported") else ""
    return "[%s] %s%s%s (%s; source %s)%s" % (d["level"], when, d["message"], by, d["rule"], d["source"], ack)


def age_text(days):
    if days == 0:
        return "today"
    if days < 60:
        return "%d day%s ago" % (days, "" if days == 1 else "s")
    return "%d months ago" % (days * 12 // 365)


def reminder_dict(reminder, p=None):
    d = _evaluate_reminder_dict(tuple(reminder), p)
    d["source"] = texts.REMINDER_SOURCES[reminder[0]]
    return d


def reminder_line(reminder, p=None):
    d = reminder_dict(reminder, p)
    muted = " (%s)" % d["muted"] if d.get("muted") else ""
    return "[%s] %s (source %s)%s" % (d["state"], d["text"], d["source"], muted)


def is_due(reminder):
    """Due or overdue (what a clinician acts on), as opposed to upcoming or done."""
    return reminder[1] in (schedule.DUE, schedule.OVERDUE)
