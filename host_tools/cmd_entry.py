"""`e2mon entry void|amend`: a mistake corrected in the open, on the device, so every host that pulls sees it.
The entry stays in the log; a correcting record (monitor.corrections) says it no longer counts, or which
corrected entry replaces it, and why (catalog.REASONS). The rules, the report and the exports then use the
corrected value (host_tools.corrections)."""
import datetime

import click

from host_tools import audit, connect, entry_checks
from host_tools.cmd_push import _convert, checked_options, parse_when, refuse_entry
from host_tools.device_command import role_option, run
from host_tools.failures import EXIT_NOT_FOUND, EXIT_REJECTED, Failure, reported
from host_tools.settings import SummaryGroup, emit, pass_settings
from monitor import catalog, dates, records, texts, validate

REASON_NAMES = tuple(name.replace("_", "-") for name in catalog.REASONS)


def _reason_option(fn):
    return click.option("--reason", type=click.Choice(REASON_NAMES, case_sensitive=False), required=True,
                        help="Why (kept on the device with the correction).")(fn)


def _reason_index(name):
    return REASON_NAMES.index(name.lower())


@click.group("entry", cls=SummaryGroup)
def entry_group():
    """Void or amend a stored entry (the original is kept; the correction is recorded on the device)."""


def _pulled_record(settings, seq, needed):
    """The record `seq` as this host pulled it, or None (a Failure when `needed`)."""
    device_id, rows = entry_checks.pulled(settings)
    for row in rows:
        if row[0] == seq:
            if row[3] == records.KIND_EVENT:
                raise Failure("record %d is a device event, not an entry" % seq,
                              "give the record number of a lab result, dose or symptom (e2mon export)", EXIT_REJECTED)
            return row, rows
    if needed:
        raise Failure("record %d of %s is not on this host" % (seq, device_id or "the device"),
                      "run e2mon pull first: an amendment starts from the stored entry", EXIT_NOT_FOUND)
    return None, rows


def _describe(row):
    _seq, day, minute, kind, code, value, flags = row
    return "%s on %s %02d:%02d" % (texts.format_value(kind, code, value, flags), dates.format_day(day),
                                   minute // 60, minute % 60)


@entry_group.command("void")
@click.argument("seq", type=click.IntRange(1, 0x3FFFFFFF), metavar="RECORD")
@_reason_option
@role_option
@pass_settings
@reported
def void_cmd(settings, seq, reason, role):
    """Void a lab result, dose or symptom by its record number, e.g. `entry void 41 --reason duplicate`."""
    row, _rows = _pulled_record(settings, seq, False)

    async def send():
        async with connect.session(settings, None, role) as (link, device_id):
            return await link.void_entry(seq, _reason_index(reason)), device_id

    event, device_id = run(send(), "voiding record %d" % seq)
    settings.audit(audit.CORRECT, device_id, "record %d voided (record %d): %s, as %s" % (seq, event, reason, role))
    what = " (%s)" % _describe(row) if row else ""
    emit(settings, {"target": seq, "seq": event, "reason": reason},
         "record %d%s voided on the device by record %d: %s" % (seq, what, event, reason))


@entry_group.command("amend", context_settings={"ignore_unknown_options": True})
@click.argument("seq", type=click.IntRange(1, 0x3FFFFFFF), metavar="RECORD")
@click.argument("value", metavar="VALUE")
@click.argument("unit", metavar="[UNIT]", required=False)
@_reason_option
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="Default: the entry's own date.")
@click.option("--time", "time_text", metavar="HH:MM", help="Default: the entry's own time.")
@click.option("--method", type=click.Choice(list(catalog.METHODS), case_sensitive=False),
              help="A lab's method (default: the entry's own).")
@click.option("--below-lloq", is_flag=True, help="The corrected lab result is below the lab's limit.")
@click.option("--confirm", is_flag=True, help="Store an unusual value or date after checking it.")
@role_option
@pass_settings
@reported
def amend_cmd(settings, seq, value, unit, reason, date_text, time_text, method, below_lloq, confirm, role):
    """Replace a stored entry's value (and date, time or method), e.g. `entry amend 41 38.5 pg/mL --reason
    wrong-value`; a symptom takes its severity alone. The entry must have been pulled to this host."""
    row, rows = _pulled_record(settings, seq, True)
    _seq, day, minute, kind, code, old_value, old_flags = row
    flags = 0
    if kind == records.KIND_SYMPTOM:
        if not value.isdigit():
            refuse_entry(records.ERR_SEVERITY, kind, code, 0)
        stored = int(value)
    else:
        if unit is None:
            raise Failure("record %d is a %s: give the value with its unit" % (seq, records.KIND_NAMES[kind]),
                          "e.g. e2mon entry amend %d 38.5 pg/mL --reason wrong-value" % seq, EXIT_REJECTED)
        name = catalog.ANALYTES[code] if kind == records.KIND_LAB else catalog.DRUGS[code]
        stored, is_si = _convert(kind, code, name, value, unit, below_lloq)
        if kind == records.KIND_LAB:
            flags = ([m.lower() for m in catalog.METHODS].index(method.lower()) if method
                     else old_flags & records.METHOD_MASK)
            flags |= (records.FLAG_SI if is_si else 0) | (records.FLAG_BELOW_LLOQ if below_lloq else 0)
        if confirm:
            flags |= records.FLAG_CONFIRMED
    if date_text or time_text:
        new_day, new_minute = parse_when(date_text or dates.format_day(day),
                                         time_text or "%02d:%02d" % (minute // 60, minute % 60))
    else:
        new_day, new_minute = day, minute
    today = _today()
    status = validate.check_entry(kind, code, stored, flags, new_day, new_minute, today)
    if status != records.ERR_OK:
        refuse_entry(status, kind, code, stored)
    if new_day != day:   # the original's own date needs no second confirmation
        checked_options(settings, kind, code, stored, flags, new_day, new_minute, confirm, True)
    reason_index = _reason_index(reason)

    async def send():
        async with connect.session(settings, None, role) as (link, device_id):
            return await link.amend_entry(seq, reason_index, kind, code, stored, flags, new_day, new_minute), \
                device_id

    event, device_id = run(send(), "amending record %d" % seq)
    settings.audit(audit.CORRECT, device_id, "record %d amended by record %d (record %d): %s, as %s"
                   % (seq, event - 1, event, reason, role))
    new_row = (event - 1, new_day, new_minute, kind, code, stored, flags)
    emit(settings, {"target": seq, "seq": event, "replacement": event - 1, "reason": reason,
                    "was": _describe(row), "now": _describe(new_row)},
         "record %d (%s) amended on the device: record %d holds %s (record %d: %s)"
         % (seq, _describe(row), event - 1, _describe(new_row), event, reason))


def _today():
    now = datetime.datetime.now()
    return dates.days_from_civil(now.year, now.month, now.day)


def register(cli):
    cli.add_command(entry_group)
