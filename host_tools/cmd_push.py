"""`e2mon push lab|dose|symptom`: an entry stored on the device, checked here first (plain words before
any radio traffic) and again on the device against its own clock and history."""
import datetime

import click

from host_tools import audit, connect, entry_checks, profile_file
from host_tools.device_command import role_option, run
from host_tools.failures import EXIT_REJECTED, Failure, clip, reported
from host_tools.settings import SummaryGroup, emit, pass_settings
from monitor import catalog, dates, protocol, protocol_text, records, texts, validate


def parse_decimal(text):
    """'38.5' -> (385, 1). Plain words on anything else."""
    try:
        return profile_file._decimal(text.strip())
    except ValueError:
        raise Failure("%s is not a number" % clip(text), "write it like 38 or 38.5", EXIT_REJECTED) from None


def parse_when(date_text, time_text):
    now = datetime.datetime.now()
    try:
        day = dates.parse_day(date_text) if date_text else dates.days_from_civil(now.year, now.month, now.day)
    except ValueError as exc:
        raise Failure("--date %s: %s" % (clip(date_text), exc), "write it as YYYY-MM-DD", EXIT_REJECTED) from None
    if time_text:
        try:
            hour, minute = (int(x) for x in time_text.split(":"))
            if not (0 <= hour < 24 and 0 <= minute < 60):
                raise ValueError
        except ValueError:
            raise Failure("--time %s is not a time" % clip(time_text), "write it as HH:MM", EXIT_REJECTED) from None
    else:
        hour, minute = (now.hour, now.minute) if not date_text else (12, 0)
    return day, hour * 60 + minute


def lookup(names, text, what):
    wanted = text.strip().upper()
    for i, name in enumerate(names):
        if name.upper() == wanted:
            return i
    raise Failure("unknown %s %s" % (what, clip(text)), "use one of: %s" % ", ".join(names), EXIT_REJECTED)


def refuse_entry(code, kind, entry_code, value):
    """An ERR_* from monitor.records as one clear line (the unusual value shown in both units)."""
    from host_tools.cmd_evaluate import rejection_dict   # the same words as `e2mon evaluate`

    message = rejection_dict(0, code, (kind, entry_code, value))["message"]
    todo = "check the entry"
    if code == records.ERR_RANGE and kind in (records.KIND_LAB, records.KIND_DOSE):
        low, high = _possible_range(kind, entry_code)
        name = (catalog.ANALYTES if kind == records.KIND_LAB else catalog.DRUGS)[entry_code]
        raise Failure("%s %s is outside the possible range, %s to %s (%s)"
                      % (name, texts.format_value(kind, entry_code, value), texts.format_value(kind, entry_code, low),
                         texts.format_value(kind, entry_code, high), catalog.error_name(code)),
                      "check the number and the unit", EXIT_REJECTED)
    if code in (records.ERR_CONFIRM, records.ERR_CONFIRM_WEEK):
        if kind != records.KIND_LAB:
            message = "%s (%s)" % (message, texts.format_value(kind, entry_code, value))
        todo = "if it is right, rerun with --confirm"
    elif code == records.ERR_CLOCK:
        todo = "run e2mon time sync first"
    elif code == records.ERR_RANGE:
        todo = "check the number and the unit"
    elif code == records.ERR_FUTURE:
        todo = "check --date and --time (and the device clock: e2mon time show)"
    elif code == records.ERR_BUDGET:
        todo = "log it with the device's buttons, or ask your clinician to raise PUSH_DAY_BUDGET"
    raise Failure("%s (%s)" % (message, catalog.error_name(code)), todo, EXIT_REJECTED)


def _possible_range(kind, code):
    """The lowest and highest value the device stores at all for a lab test or medicine (stored units)."""
    if kind == records.KIND_LAB:
        return validate.LAB_REJECT_LO[code], validate.LAB_REJECT_HI[code]
    return validate.DOSE_REJECT_LO[code], validate.DOSE_REJECT_HI[code]


@click.group("push", cls=SummaryGroup)
def push_group():
    """Store a lab result, dose or symptom on the device (validated here and on the device)."""


def _entry_options(fn):
    fn = click.option("--yes", "assume_yes", is_flag=True,
                      help="Store an exact duplicate of a stored entry without asking.")(fn)
    fn = click.option("--confirm", is_flag=True,
                      help="Store an unusual value, or a date before the therapy or a year back, after checking it.")(fn)
    fn = click.option("--time", "time_text", metavar="HH:MM")(fn)
    fn = click.option("--date", "date_text", metavar="YYYY-MM-DD", help="Default: today.")(fn)
    return role_option(fn)


# ignore_unknown_options: a negative VALUE (`push lab BMD_T -2.5 SD`) is an argument, not an option.
@push_group.command("lab", context_settings={"ignore_unknown_options": True})
@click.argument("analyte", metavar="ANALYTE")
@click.argument("value", metavar="VALUE")
@click.argument("unit", metavar="UNIT")
@click.option("--method", type=click.Choice(list(catalog.METHODS), case_sensitive=False),
              default="unknown", show_default=True)
@click.option("--below-lloq", is_flag=True, help="The lab reported the result below its limit (VALUE is the limit).")
@_entry_options
@pass_settings
@reported
def push_lab(settings, analyte, value, unit, method, below_lloq, role, date_text, time_text, confirm, assume_yes):
    """A lab result, e.g. `push lab E2 38 pg/mL --date 2026-11-01 --method LC-MS/MS`."""
    code = lookup(catalog.ANALYTES, analyte, "lab test")
    stored, is_si = _convert(records.KIND_LAB, code, catalog.ANALYTES[code], value, unit, below_lloq)
    flags = [m.lower() for m in catalog.METHODS].index(method.lower())
    flags |= records.FLAG_SI if is_si else 0
    flags |= records.FLAG_BELOW_LLOQ if below_lloq else 0
    flags |= records.FLAG_CONFIRMED if confirm else 0
    _push(settings, role, records.KIND_LAB, code, stored, flags, date_text, time_text, confirm, assume_yes,
          typed=(value.strip(), _unit_spelling(records.KIND_LAB, code, unit)))


def _unit_spelling(kind, code, unit):
    # the unit as the unit table spells it ("PMOL/L" typed is "pmol/L")
    from monitor import units
    return units.units_for(kind, code)[units.unit_index(kind, code, unit)][0]


def _convert(kind, code, name, value, unit, limit=False):
    # The entered decimal in the stored integer unit (a limit of quantitation rounded up), or a Failure
    # naming the units accepted.
    from monitor import units
    if kind == records.KIND_LAB and value.strip().startswith(("<", "≤")):
        number = value.strip().lstrip("<≤= ")
        raise Failure("%s is not a number: a result below the lab's limit is entered as the limit with "
                      "--below-lloq" % clip(value),
                      "enter it as: e2mon push lab %s %s %s --below-lloq" % (name, number or "LIMIT", unit),
                      EXIT_REJECTED)
    mantissa, decimals = parse_decimal(value)
    try:
        return units.convert_entry(kind, code, mantissa, decimals, unit, limit)
    except records.EntryError as exc:
        if exc.code == records.ERR_PRECISION:
            # never rounded: say what the stored unit holds ("testosterone doses take at most 3 decimals in mg")
            what = "%s %s" % (name, "doses" if kind == records.KIND_DOSE else "results")
            raise Failure("%s %s %s: %s take %s" % (name, value, unit, what, units.precision_text(kind, code, unit)),
                          "enter the value as the lab or prescription gives it, within that precision",
                          EXIT_REJECTED) from None
        accepted = ", ".join(row[0] for row in units.units_for(kind, code))
        raise Failure("%s %s %s: %s" % (name, value, unit, exc),
                      "units accepted for %s: %s" % (name, accepted), EXIT_REJECTED) from None


@push_group.command("dose", context_settings={"ignore_unknown_options": True})
@click.argument("drug", metavar="DRUG")
@click.argument("value", metavar="AMOUNT")
@click.argument("unit", metavar="UNIT")
@_entry_options
@pass_settings
@reported
def push_dose(settings, drug, value, unit, role, date_text, time_text, confirm, assume_yes):
    """A dose taken, e.g. `push dose anastrozole 0.5 mg`."""
    code = lookup(catalog.DRUGS, drug, "medicine")
    stored, _si = _convert(records.KIND_DOSE, code, catalog.DRUGS[code], value, unit)
    if stored == 0:
        raise Failure("%s %s %s: a dose of 0 is not a dose" % (catalog.DRUGS[code], value, unit),
                      "to log that the drug was stopped: e2mon push stop %s" % catalog.DRUGS[code], EXIT_REJECTED)
    flags = records.FLAG_CONFIRMED if confirm else 0
    _push(settings, role, records.KIND_DOSE, code, stored, flags, date_text, time_text, confirm, assume_yes)


@push_group.command("stop")
@click.argument("drug", metavar="DRUG")
@_entry_options
@pass_settings
@reported
def push_stop(settings, drug, role, date_text, time_text, confirm, assume_yes):
    """A drug stopped (a dose change: the recheck starts again), e.g. `push stop anastrozole`."""
    code = lookup(catalog.DRUGS, drug, "medicine")
    _push(settings, role, records.KIND_DOSE, code, 0, 0, date_text, time_text, confirm, assume_yes)


@push_group.command("symptom", context_settings={"ignore_unknown_options": True})
@click.argument("symptom", metavar="SYMPTOM")
@click.argument("severity", metavar="SEVERITY")
@_entry_options
@pass_settings
@reported
def push_symptom(settings, symptom, severity, role, date_text, time_text, confirm, assume_yes):
    """A symptom with its severity 0-3 on the day of onset, e.g. `push symptom JOINT 2`."""
    code = lookup(catalog.SYMPTOMS, symptom, "symptom")
    if not severity.isdigit():
        refuse_entry(records.ERR_SEVERITY, records.KIND_SYMPTOM, code, 0)
    _push(settings, role, records.KIND_SYMPTOM, code, int(severity), 0, date_text, time_text, confirm, assume_yes)


def _push(settings, role, kind, code, value, flags, date_text, time_text, confirm, assume_yes, typed=None):
    day, minute = parse_when(date_text, time_text)
    now = datetime.datetime.now()
    today = dates.days_from_civil(now.year, now.month, now.day)
    # The host checks first so the answer comes in plain words before any radio traffic;
    # the device checks again against its own clock and history.
    status = validate.check_entry(kind, code, value, flags, day, minute, today,
                                 now=today * 1440 + now.hour * 60 + now.minute)
    if status != records.ERR_OK:
        refuse_entry(status, kind, code, value)
    options = checked_options(settings, kind, code, value, flags, day, minute, confirm, assume_yes)
    seq, device_id = run(_push_entry(settings, role, kind, code, value, flags, day, minute, options, assume_yes),
                         "storing the entry")
    settings.audit(audit.PUSH, device_id, "record %d (%s) as %s" % (seq, records.KIND_NAMES[kind], role))
    _remember_as_typed(settings, device_id, seq, typed, bool(time_text) or not date_text)
    shown = texts.format_value(kind, code, value, flags)
    emit(settings, {"seq": seq, "kind": records.KIND_NAMES[kind], "code": code, "name": _entry_name(kind, code),
                    "value": value_json(kind, code, value), "unit": _stored_unit(kind, code, value),
                    "shown": shown, "date": dates.format_day(day), "time": "%02d:%02d" % divmod(minute, 60),
                    "entered_as": " ".join(typed) if typed else None},
         "stored on the device as record %d: %s on %s" % (seq, shown, dates.format_day(day)))


def checked_options(settings, kind, code, value, flags, day, minute, confirm, assume_yes):
    """The protocol.ENTRY_OPT_* of a push after the host's own checks on what it has pulled: an unusual date
    without --confirm is refused, an exact duplicate asked about (entry_checks)."""
    _device_id, rows = entry_checks.pulled(settings)
    if not confirm:
        why = entry_checks.unusual_date(rows, day)
        if why:
            entry_checks.refuse_unusual_date(why)
    same = entry_checks.duplicate_of(rows, kind, code, value, flags, day, minute)
    if same is not None:
        entry_checks.confirm_duplicate(same, assume_yes)
        assume_yes = True
    return (protocol.ENTRY_OPT_DATE if confirm else 0) | (protocol.ENTRY_OPT_DUPLICATE if assume_yes else 0)


async def _push_entry(settings, role, kind, code, value, flags, day, minute, options, assume_yes):
    from host_tools.device_link import DeviceError

    async with connect.session(settings, None, role) as (link, device_id):
        try:
            return await link.push_entry(kind, code, value, flags, day, minute, options), device_id
        except DeviceError as exc:
            if exc.code == protocol.ERR_DUPLICATE:   # stored since this host last pulled
                entry_checks.confirm_duplicate(exc.seq, assume_yes, "on the device")
                return await link.push_entry(kind, code, value, flags, day, minute,
                                             options | protocol.ENTRY_OPT_DUPLICATE), device_id
            device_refusal(exc, kind, code, value)


def device_refusal(exc, kind, code, value):
    """A device's refusal of an entry in plain words (re-raised when it has none here)."""
    if 0 < exc.code < 0xC0:   # a monitor.records validation code from the device
        refuse_entry(exc.code, kind, code, value)
    if exc.code == protocol.ERR_DATE_UNUSUAL:
        raise Failure("the device refused the date: %s" % protocol_text.error_text(exc.code),
                      "if the date is right, rerun with --confirm", EXIT_REJECTED) from None
    raise exc


def _remember_as_typed(settings, device_id, seq, typed, time_given):
    """Keeps what was typed next to the stored record (exports show an SI value as entered, and a date
    entered without a time as a date only); only in a database that exists (push creates none)."""
    if not settings.db_exists() or (typed is None and time_given):
        return
    with settings.open_db() as db:
        value, unit = typed if typed else ("", "")
        db.remember_as_typed(device_id, seq, value, unit, time_given)


def _entry_name(kind, code):
    from host_tools.export import catalog as export_catalog
    return export_catalog(kind, code).name


def _stored_unit(kind, code, value):
    from host_tools.export import catalog as export_catalog
    if kind == records.KIND_DOSE and value == 0:
        return ""
    return export_catalog(kind, code).unit


def value_json(kind, code, value):
    """A stored integer as the number a person reads in its unit (385 -> 38.5 for pg/mL); a STOP is
    "stopped"."""
    from host_tools.export import display_value
    if kind == records.KIND_DOSE and value == 0:
        return "stopped"
    number = display_value(kind, code, value)
    return int(number) if number == number.to_integral_value() else float(number)


def register(cli):
    cli.add_command(push_group)
