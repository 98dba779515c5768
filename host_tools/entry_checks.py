"""The host's side of monitor.entry_checks for `e2mon push` and `e2mon entry amend`: before any radio traffic,
an exact duplicate of a record already pulled is asked about ("already stored as record N; store again?"),
and a date before the therapy's start or over a year before the newest record needs --confirm. The device
checks both again (protocol.ERR_DUPLICATE, ERR_DATE_UNUSUAL); its duplicate answer is asked about the same way.

- `pulled(settings) -> (device id or None, [records])`: what this host holds of the device the command means
- `duplicate_of(rows, kind, code, value, flags, day, minute) -> record number or None`
- `unusual_date(rows, day) -> words saying why, or None`
- `confirm_duplicate(seq, assume_yes)`: asks on a terminal, else needs --yes
"""
import sys

import click

from host_tools.corrections import Corrections
from host_tools.failures import EXIT_REJECTED, Failure
from monitor import dates, entry_checks, records


def pulled(settings):
    """(device id, its pulled records as a list) for the device a command names (or the only one, or the
    simulator's); (None, []) when this host has nothing of it."""
    if not settings.db_exists():
        return None, []
    from host_tools import connect
    device_id = connect._device_id(settings, settings.device_given())
    with settings.open_db() as db:
        if device_id:
            device_id = db.find_device(device_id)
        else:
            known = db.devices()
            device_id = known[0] if len(known) == 1 else None
        if device_id is None:
            return None, []
        return device_id, list(db.records(device_id))


def duplicate_of(rows, kind, code, value, flags, day, minute):
    fixes = Corrections.of(r for r in rows if r[3] == records.KIND_EVENT)
    for r in rows:
        if entry_checks.same(r, kind, code, value, flags, day, minute) and fixes.counts(r[0]):
            return r[0]
    return None


def unusual_date(rows, day):
    """Why `day` needs --confirm, in words, or None (the device's rule, on the pulled records)."""
    fixes = Corrections.of(r for r in rows if r[3] == records.KIND_EVENT)
    start = min((r[1] for r in rows if r[3] == records.KIND_DOSE and r[5] > 0 and fixes.counts(r[0])), default=-1)
    newest = max((r[1] for r in rows), default=0)
    if not entry_checks.unusual_date(day, start, newest):
        return None
    if 0 <= start and day < start:
        return "%s is before the therapy's start (%s)" % (dates.format_day(day), dates.format_day(start))
    return "%s is more than a year before the newest record (%s)" % (dates.format_day(day), dates.format_day(newest))


def refuse_unusual_date(why):
    raise Failure("%s: check the year" % why, "if the date is right, rerun with --confirm", EXIT_REJECTED)


def confirm_duplicate(seq, assume_yes, where="on this host"):
    """Returns when the user wants an exact duplicate of record `seq` stored again; a Failure otherwise."""
    if assume_yes:
        return
    question = "the same entry is already stored as record %d (%s); store it again?" % (seq, where)
    if not sys.stdin.isatty():
        raise Failure(question.replace("; store it again?", ""), "to store it again anyway, rerun with --yes",
                      EXIT_REJECTED)
    if not click.confirm(question[0].upper() + question[1:], default=False, err=True):
        raise Failure("not stored: record %d already holds it" % seq, "", EXIT_REJECTED)
