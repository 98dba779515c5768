"""`e2mon evaluate HISTORY.json [--at YYYY-MM-DD] [--json]`: a history through the device's own core.

The file's entries are validated and converted by monitor.records / monitor.units, applied in date order
to a monitor.tracker.Tracker built from the file's patient settings and profile overrides, and the
flags and reminders at the chosen date are printed. Refused entries are listed and do not stop the rest;
a malformed file exits non-zero with a message naming the entry and field. Without --at, the file's
top-level "at" is used, else today.
"""
import datetime
import json
import sys

import click

from host_tools.failures import EXIT_REJECTED, EXIT_STORAGE, Failure, reported
from host_tools.history import HistoryError, build_profile, day_of, load, parse_entry
from host_tools.settings import pass_settings
from monitor import catalog, dates, records, rules, schedule, texts
from monitor.tracker import Tracker


def evaluate(doc, at_day, name="history"):
    """The evaluation as a plain dict (the --json output)."""
    profile = build_profile(doc, name)
    accepted = []
    rejected = []
    for index, entry in enumerate(doc["entries"]):
        try:
            accepted.append((parse_entry(entry, index), index))
        except records.EntryError as exc:
            rejected.append((index, exc.code, getattr(exc, "detail", None)))
    accepted.sort(key=lambda item: (item[0][0], item[0][1], item[1]))
    tracker = Tracker(profile)
    seq = 0
    for (day, minute, kind, code, value, flags), index in accepted:
        status = tracker.check(kind, code, value, flags & ~records.FLAG_CLINIC, day, minute, at_day)
        if status:
            rejected.append((index, status, (kind, code, value)))
            continue
        seq += 1
        tracker.apply(seq, day, minute, kind, code, value, flags)
    rejected.sort()
    return {
        "at": dates.format_day(at_day),
        "flags": [flag_dict(f, profile.params) for f in tracker.flags(at_day)],
        "reminders": [reminder_dict(r, profile.params) for r in tracker.reminders(at_day)],
        "rejected": [rejection_dict(i, code, what) for i, code, what in rejected],
    }


def flag_dict(flag, p=None):
    # p: the profile's parameters the texts' durations come from (the defaults without one)
    rule, level, day, value, value2, status = flag
    out = {"rule": catalog.RULES[rule], "level": catalog.level_name(level), "source": texts.RULE_SOURCES[rule],
           "date": dates.format_day(day) if day >= 0 else None,
           "message": texts.message(rule, value, value2, status, p)}
    if status & rules.STATUS_INDETERMINATE:
        out["indeterminate"] = True
    if status & rules.STATUS_ACKED:
        out["acknowledged"] = True
    if status & rules.STATUS_BELOW_LLOQ:
        out["below_lloq"] = True     # the value in the message is the lab's limit: "<24 pg/mL"
    if status & rules.STATUS_PATIENT_REPORTED:
        out["patient_reported"] = True   # the result it rests on was entered by the patient, not the clinic
    return out


def reminder_dict(reminder, p=None):
    rid, state, due, muted = reminder
    out = {"id": catalog.REMINDERS[rid], "state": catalog.STATES[state], "due": dates.format_day(due),
           "text": texts.describe_reminder(rid, state, due, p)}
    if state == schedule.OVERDUE:
        out["overdue_since"] = dates.format_day(texts.overdue_day(rid, due, p))
    if muted:
        out["muted"] = "drawn, waiting for the result" if muted == schedule.MUTED_ACK else "snoozed"
    return out


def rejection_dict(index, code, what):
    # what: the refused (kind, code, value), or words on what the entry may be (a refused precision)
    message = records.error_message(code)
    if isinstance(what, str):
        message += " (%s)" % what
    elif what is not None and what[0] == records.KIND_LAB and code == records.ERR_CONFIRM:
        si = texts.format_lab_si(what[1], what[2])
        shown = texts.format_value(records.KIND_LAB, what[1], what[2])
        message += " (%s%s)" % (shown, " = " + si if si else "")
    return {"index": index, "error": catalog.error_name(code), "message": message}


def print_text(result, name):
    click.echo("%s evaluated at %s" % (name, result["at"]))
    click.echo("Flags:" if result["flags"] else "Flags: none")
    for f in result["flags"]:
        mark = " (acknowledged)" if f.get("acknowledged") else ""
        click.echo("  [%s] %s %s%s: %s (source: %s)" % (f["level"], f["rule"], f["date"], mark, f["message"],
                                                         f["source"]))
    click.echo("Reminders:" if result["reminders"] else "Reminders: none")
    for r in result["reminders"]:
        mark = " (%s)" % r["muted"] if r.get("muted") else ""
        click.echo("  %-8s %-16s %s%s  %s" % (r["state"], r["id"], r["due"], mark, r["text"]))
    if result["rejected"]:
        click.echo("Rejected entries:")
        for r in result["rejected"]:
            click.echo("  entry %d: %s (%s)" % (r["index"], r["message"], r["error"]))


@click.command("evaluate")
@click.argument("history", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--at", "at", metavar="YYYY-MM-DD", help="Evaluate as of this date (default: the file's 'at', else today).")
@pass_settings
@reported
def evaluate_command(settings, history, at):
    """Evaluate a therapy history file offline with the device's rule core (--json: one JSON object)."""
    try:
        if history == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(history, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise Failure("cannot read %s (%s)" % (history, exc.strerror), "check the path", EXIT_STORAGE) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Failure("%s is not UTF-8 text (byte %d)" % (history, exc.start),
                      "save it as UTF-8 JSON", EXIT_REJECTED) from None
    try:
        doc = load(text, history)
        if at is None:
            at = doc.get("at")
        if at is None:
            at = datetime.date.today().isoformat()
        at_day = day_of(at, "--at" if at is not doc.get("at") else "%s: field 'at'" % history)
        result = evaluate(doc, at_day, history)
    except HistoryError as exc:
        raise Failure(str(exc), "fix the file and rerun", EXIT_REJECTED) from None
    if settings.as_json:
        click.echo(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        print_text(result, history)


def register(cli):
    cli.add_command(evaluate_command)
