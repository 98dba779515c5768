"""Flags and reminders (the integer tuples of monitor.tracker / the device's alerts payload)
in plain words, with the rule's source. The dict form is `e2mon evaluate`'s (host_tools.cmd_evaluate),
so `alerts --json` and `evaluate --json` read alike; the words live in monitor.texts.
"""
from host_tools.cmd_evaluate import flag_dict as _evaluate_flag_dict
from host_tools.cmd_evaluate import reminder_dict as _evaluate_reminder_dict
from monitor import schedule, texts


def flag_dict(flag):
    return _evaluate_flag_dict(tuple(flag))


def flag_line(flag):
    d = flag_dict(flag)
    ack = " (acknowledged)" if d.get("acknowledged") else ""
    return "[%s] %s (%s; source %s)%s" % (d["level"], d["message"], d["rule"], d["source"], ack)


def reminder_dict(reminder):
    d = _evaluate_reminder_dict(tuple(reminder))
    d["source"] = texts.REMINDER_SOURCES[reminder[0]]
    return d


def reminder_line(reminder):
    d = reminder_dict(reminder)
    muted = " (%s)" % d["muted"] if d.get("muted") else ""
    return "[%s] %s (source %s)%s" % (d["state"], d["text"], d["source"], muted)


def is_due(reminder):
    """Due or overdue (what a clinician acts on), as opposed to upcoming or done."""
    return reminder[1] in (schedule.DUE, schedule.OVERDUE)
