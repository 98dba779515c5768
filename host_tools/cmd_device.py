"""Commands that talk to a device: scan, provision, pull, push, time, profile, alerts, reminders.

Each opens one link (BLE, `--sim`, or USB with `--port`; see host_tools.connect),
does its job through H3's DeviceLink and ends with one clear line on failure.
"""
import asyncio
import datetime
import os
import sys

import click

from host_tools import alert_text, connect, keys, profile_file
from host_tools.failures import (EXIT_AUTH, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_LINK, EXIT_REJECTED,
                                 EXIT_STORAGE, Failure, clip, reported)
from host_tools.progress import Progress
from host_tools.settings import (SummaryGroup, device_title, emit, legacy_device_argument, pass_settings,
                                 use_port)
from monitor import (
    catalog, dates, profile_codec, protocol, protocol_host, protocol_text, records, texts, validate,
)
from monitor import profile as P

STORE_BATCH = 2000      # records per host transaction during a pull


def run(coro, doing):
    """Runs a command's coroutine; DeviceLink/bleak errors become one clear Failure."""
    try:
        return asyncio.run(coro)
    except Failure:
        raise
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        failure = connect.link_failure(exc, doing)
        if failure is None:
            raise
        raise failure from exc


def device_argument(fn):
    return legacy_device_argument(fn)


def role_option(fn):
    return click.option("--as", "role", type=click.Choice(["clinician", "patient"]), default="clinician",
                        show_default=True, help="Which provisioned key to use.")(fn)


# ---- scan -------------------------------------------------------------------------------------------
@click.command("scan")
@click.option("--seconds", type=float, default=connect.SCAN_SECONDS, show_default=True)
@pass_settings
@reported
def scan_cmd(settings, seconds):
    """List your devices nearby (those this computer was provisioned with): label, device, address now,
    signal, firmware. Devices advertise only a changing identifier; the others are ignored."""
    found = run(connect.scan(settings, seconds), "scanning")
    lines = ["%-20s %-18s at %-18s %5s dBm  firmware %s" % (
        d["label"], d["device_id"], d["address"], d["rssi"] if d["rssi"] is not None else "?", d["firmware"] or "?")
        for d in found]
    emit(settings, found, lines or ["none of your devices found (is it awake and in range? provisioned here?)"])


# ---- provision ----------------------------------------------------------------------------------------
@click.command("provision")
@device_argument
@click.option("--birth-year", type=int, help="Patient's birth year, stored in the profile (optional).")
@click.option("--goal", type=click.Choice(list(catalog.GOALS)), help="Therapy goal, stored in the profile.")
@pass_settings
@reported
def provision_cmd(settings, device, birth_year, goal):
    """Over USB (--port): create the device key, keep it on this computer, set the clock and the profile.

    --device is the id this computer files its keys and data under (e.g. the address printed on the board);
    the device advertises no fixed address, later commands find it by its identifier (e2mon scan).
    """
    use_port(settings)
    device = settings.device_given(device)
    if not settings.port:
        raise Failure("provisioning needs the USB cable", "pass --port PORT (e.g. e2mon --port /dev/ttyUSB0 "
                      "provision --device ADDRESS)", EXIT_REJECTED)
    if not device:
        if not settings.sim:
            raise Failure("no device id given", "pass an id to file it under with --device (e.g. its printed address)",
                          EXIT_REJECTED)
        from sim import radio
        device = radio.DEVICE_ADDRESS
    profile = P.Profile()
    if birth_year is not None:
        _set_profile_value(profile, "BIRTH_YEAR", birth_year)
    if goal is not None:
        _set_profile_value(profile, "GOAL", catalog.GOALS.index(goal))
    result = run(_provision(settings, connect.normalize_address(device), profile), "provisioning")
    # A provisioned device starts a new log: what this host pulled before is kept under another id.
    with settings.open_db() as db:
        result["archived_as"] = db.archive_device(result["device_id"])
    lines = ["provisioned %s: keys stored in %s" % (result["device_id"], result["key_store"]),
             "clock set to %s, default profile sent (%d bytes)" % (result["clock"], result["profile_bytes"])]
    if result["archived_as"]:
        lines.append("records pulled earlier from this address are kept as device %s" % result["archived_as"])
    emit(settings, result, lines)


def _set_profile_value(profile, name, value):
    try:
        profile_codec.set_param(profile, name, value)
        profile_file.check(profile, "--" + name.lower().replace("_", "-"))
    except ValueError as exc:   # ProfileFileError too
        raise Failure(str(exc), "check the value", EXIT_REJECTED) from None


async def _provision(settings, device_id, profile):
    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink

    key = host_crypto.new_device_key()
    async with connect.client(settings, device_id) as (serial_client, device_id):
        status = await serial_client.provision(key)
        if status != protocol.STATUS_OK:
            raise Failure("the device refused the new key: %s" % protocol_text.error_text(status),
                          "check it runs the e2mon firmware and is connected over USB", EXIT_AUTH)
        # The device holds the key now: keep the role and beacon keys (never the device key) before anything else.
        where = None
        for name, value in host_crypto.host_keys(key).items():
            where = keys.save_key(device_id, name, value)
        link = DeviceLink(serial_client, host_crypto.role_key(key, connect_role("clinician")), "clinician")
        await link.open_session()
        now = datetime.datetime.now().replace(microsecond=0)
        await link.set_time(now)
        connect.remember_device_clock(device_id, now)
        blob = profile_codec.encode(profile)
        await link.set_profile(blob)
        await link.close()
    if where != "keyring":
        where = os.path.dirname(where)
    return {"device_id": device_id, "key_store": where, "clock": now.isoformat(sep=" "),
            "profile_bytes": len(blob)}


def connect_role(role):
    from host_tools.device_link import role_code
    return role_code(role)


# ---- pull ---------------------------------------------------------------------------------------------
@click.command("pull")
@device_argument
@pass_settings
@reported
def pull_cmd(settings, device):
    """Incremental, resumable pull of the device's log into the host database; acknowledges what was stored."""
    from host_tools.db import RecordConflict

    kept = {"new": 0}
    with settings.open_db() as db:
        try:
            result = run(pull_into(settings, db, device, kept=kept), "pulling")
        except RecordConflict as exc:
            raise Failure("device %s sent record %d with other content than this host stored for it (was the "
                          "device reset or replaced?); that batch was not stored" % (exc.device_id, exc.seq),
                          "pull it into a separate database (e2mon --db NEW.sqlite pull) and compare",
                          EXIT_STORAGE) from None
        except KeyboardInterrupt:
            raise Failure("interrupted", "%s; rerun to continue" % _kept_text(kept), EXIT_INTERRUPTED) from None
        except Failure as failure:
            if "device_id" not in kept:
                raise
            raise Failure(failure.what, "%s; %s" % (_kept_text(kept), failure.todo[:1].lower() + failure.todo[1:]),
                          failure.exit_code) from None
        label = db.label(result["device_id"])
    result["label"] = label
    emit(settings, result, "%s: stored %d new records (%d on this host), acknowledged up to %s, %.1f s"
         % (device_title(result["device_id"], label), result["new"], result["total_on_host"],
            result["acknowledged"] if result["acknowledged"] is not None else "-", result["seconds"]))


def _kept_text(kept):
    """What an interrupted pull kept, in words (whole, verified records are stored as they arrive)."""
    if "device_id" not in kept:
        return "nothing was stored yet"
    return "the %d new records received before were kept (%d from %s on this host)" % (
        kept["new"], kept["total"], kept["device_id"])


async def pull_into(settings, db, device, progress_out=None, kept=None):
    """Pulls every record the host lacks; stores in batches (each a transaction); returns a summary.
    `kept` (a dict) follows what is stored as it goes: device_id, new, total."""
    kept = {} if kept is None else kept
    async with connect.session(settings, device, "clinician") as (link, device_id):
        firmware = await _firmware(link.client)
        db.ensure_device(device_id, firmware=firmware)
        try:
            db.set_profile(device_id, await link.get_profile())
        except Exception as exc:  # noqa: BLE001 - the report falls back to default bands
            failure = connect.link_failure(exc, "reading the profile")
            if failure is not None and failure.exit_code == EXIT_LINK:
                raise failure from exc
        start = db.next_seq(device_id)
        total = await link.count(start)
        if total == 0 and start > 0 and await link.count(start - 1) == 0:
            # The device no longer has the newest record this host stored: its numbering went back.
            raise Failure("device %s has no record %d although this host stored it (was the device reset or "
                          "replaced?)" % (device_id, start - 1),
                          "pull it into a separate database (e2mon --db NEW.sqlite pull)", EXIT_STORAGE)
        progress = Progress(total, out=progress_out)
        pending = []
        stored = [0]

        def flush():
            if pending:
                stored[0] += db.store_records(device_id, pending)
                pending.clear()
                kept.update(device_id=device_id, new=stored[0], total=db.count(device_id))

        substantive = [0]   # new records other than the device's own sync marks

        def on_batch(batch):
            pending.extend(batch)
            substantive[0] += sum(1 for r in batch if not _is_sync_mark(r))
            progress.advance(len(batch))
            if len(pending) >= STORE_BATCH:
                flush()

        try:
            await link.pull(start, on_batch)
        finally:
            # Whole, verified records received before an interruption are kept: a rerun resumes after them.
            flush()
            elapsed = progress.finish()
        last = db.next_seq(device_id) - 1
        acknowledged = None
        # Each acknowledgement logs a sync mark on the device: acknowledging only marks would never settle.
        if last >= 0 and substantive[0]:
            await link.acknowledge(last)
            acknowledged = last
    return {"device_id": device_id, "new": stored[0], "total_on_host": db.count(device_id),
            "acknowledged": acknowledged, "seconds": round(elapsed, 3), "firmware": firmware}


def _is_sync_mark(record):
    return record[3] == records.KIND_EVENT and record[4] == records.EVENT_SYNC_MARK


async def _firmware(client):
    read = getattr(client, "read_gatt_char", None)
    if read is None:
        return None
    try:
        return bytes(await read(protocol_host.sig_uuid(protocol.DIS_FIRMWARE_REVISION))).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - optional information
        return None


# ---- push ---------------------------------------------------------------------------------------------
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


@click.group("push", cls=SummaryGroup)
def push_group():
    """Store a lab result, dose or symptom on the device (validated here and on the device)."""


def _entry_options(fn):
    fn = click.option("--confirm", is_flag=True, help="Store an unusual value after checking it.")(fn)
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
def push_lab(settings, analyte, value, unit, method, below_lloq, role, date_text, time_text, confirm):
    """A lab result, e.g. `push lab E2 38 pg/mL --date 2026-11-01 --method LC-MS/MS`."""
    code = lookup(catalog.ANALYTES, analyte, "lab test")
    stored, is_si = _convert(records.KIND_LAB, code, catalog.ANALYTES[code], value, unit)
    flags = [m.lower() for m in catalog.METHODS].index(method.lower())
    flags |= records.FLAG_SI if is_si else 0
    flags |= records.FLAG_BELOW_LLOQ if below_lloq else 0
    flags |= records.FLAG_CONFIRMED if confirm else 0
    _push(settings, None, role, records.KIND_LAB, code, stored, flags, date_text, time_text)


def _convert(kind, code, name, value, unit):
    # The entered decimal in the stored integer unit, or a Failure naming the units accepted.
    from monitor import units
    mantissa, decimals = parse_decimal(value)
    try:
        return units.convert_entry(kind, code, mantissa, decimals, unit)
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


@push_group.command("dose")
@click.argument("drug", metavar="DRUG")
@click.argument("value", metavar="AMOUNT")
@click.argument("unit", metavar="UNIT")
@_entry_options
@pass_settings
@reported
def push_dose(settings, drug, value, unit, role, date_text, time_text, confirm):
    """A dose taken, e.g. `push dose anastrozole 0.5 mg`."""
    code = lookup(catalog.DRUGS, drug, "medicine")
    stored, _si = _convert(records.KIND_DOSE, code, catalog.DRUGS[code], value, unit)
    flags = records.FLAG_CONFIRMED if confirm else 0
    _push(settings, None, role, records.KIND_DOSE, code, stored, flags, date_text, time_text)


@push_group.command("symptom")
@click.argument("symptom", metavar="SYMPTOM")
@click.argument("severity", metavar="SEVERITY")
@_entry_options
@pass_settings
@reported
def push_symptom(settings, symptom, severity, role, date_text, time_text, confirm):
    """A symptom with its severity 0-3 on the day of onset, e.g. `push symptom JOINT 2`."""
    code = lookup(catalog.SYMPTOMS, symptom, "symptom")
    if not severity.isdigit():
        refuse_entry(records.ERR_SEVERITY, records.KIND_SYMPTOM, code, 0)
    _push(settings, None, role, records.KIND_SYMPTOM, code, int(severity), 0, date_text, time_text)


def _push(settings, device, role, kind, code, value, flags, date_text, time_text):
    day, minute = parse_when(date_text, time_text)
    now = datetime.datetime.now()
    today = dates.days_from_civil(now.year, now.month, now.day)
    # The host checks first so the answer comes in plain words before any radio traffic;
    # the device checks again against its own clock and history.
    status = validate.check_entry(kind, code, value, flags, day, minute, today,
                                 now=today * 1440 + now.hour * 60 + now.minute)
    if status != records.ERR_OK:
        refuse_entry(status, kind, code, value)
    seq = run(_push_entry(settings, device, role, kind, code, value, flags, day, minute), "storing the entry")
    shown = texts.format_value(kind, code, value, flags)
    emit(settings, {"seq": seq, "kind": records.KIND_NAMES[kind], "code": code, "value": value, "flags": flags,
                    "date": dates.format_day(day), "minute": minute},
         "stored on the device as record %d: %s on %s" % (seq, shown, dates.format_day(day)))


async def _push_entry(settings, device, role, kind, code, value, flags, day, minute):
    from host_tools.device_link import DeviceError

    async with connect.session(settings, device, role) as (link, _device_id):
        try:
            return await link.push_entry(kind, code, value, flags, day, minute)
        except DeviceError as exc:
            if 0 < exc.code < 0xC0:   # a monitor.records validation code from the device
                refuse_entry(exc.code, kind, code, value)
            raise


# ---- time ---------------------------------------------------------------------------------------------
@click.group("time", cls=SummaryGroup)
def time_group():
    """The device clock (Current Time Service)."""


@time_group.command("sync")
@device_argument
@click.option("--force", is_flag=True,
              help="Set the clock even to a day before the newest stored record (the device logs the jump).")
@pass_settings
@reported
def time_sync(settings, device, force):
    """Set the device clock to this computer's local time (clinician key)."""
    result = run(_time_sync(settings, device, force), "setting the clock")
    emit(settings, result, "device clock was %s, now %s%s" % (result["before"] or "unset", result["now"],
                                                              " (forced back, logged)" if result["forced"] else ""))


async def _time_sync(settings, device, force):
    from host_tools.device_link import DeviceError
    async with connect.session(settings, device, "clinician") as (link, device_id):
        before = await _device_time(link)
        now = datetime.datetime.now().replace(microsecond=0)
        try:
            await link.set_time(now, force)
            connect.remember_device_clock(device_id, now)
        except DeviceError as exc:
            if exc.code != protocol.ERR_CLOCK_BACK:
                raise
            raise Failure("the device holds records dated after %s (its clock reads %s); setting the clock back "
                          "before them was refused" % (now.date().isoformat(), before or "unset"),
                          "check this computer's date; if it is right and the device's records are misdated, "
                          "rerun with --force (the jump is logged on the device)", EXIT_REJECTED) from None
    return {"device_id": device_id, "before": before, "now": now.isoformat(sep=" "), "forced": bool(force)}


async def _device_time(link):
    from host_tools.device_link import DeviceError
    try:
        day, minute, second = await link.get_time()
    except DeviceError as exc:
        if exc.code == protocol.ERR_CLOCK_UNSET:
            return None
        raise
    return "%s %02d:%02d:%02d" % (dates.format_day(day), minute // 60, minute % 60, second)


@time_group.command("show")
@device_argument
@role_option
@pass_settings
@reported
def time_show(settings, device, role):
    """Show the device clock."""
    async def show():
        async with connect.session(settings, device, role) as (link, _device_id):
            return await _device_time(link)
    when = run(show(), "reading the clock")
    emit(settings, {"device_time": when}, when or "the device clock is not set (run e2mon time sync)")


# ---- profile ------------------------------------------------------------------------------------------
@click.group("profile", cls=SummaryGroup)
def profile_group():
    """The clinician's rule profile on the device."""


@profile_group.command("show")
@device_argument
@click.option("--default", "show_default", is_flag=True, help="Print the default profile (no device needed).")
@role_option
@pass_settings
@reported
def profile_show(settings, device, show_default, role):
    """Print the device's profile as an editable file (save it, edit it, then `profile set FILE`)."""
    if show_default:
        profile = P.Profile()
    else:
        async def get():
            async with connect.session(settings, device, role) as (link, _device_id):
                return await link.get_profile()
        blob = run(get(), "reading the profile")
        try:
            profile = profile_codec.decode(blob)
        except ValueError as exc:
            raise Failure("the device sent a profile this host cannot read (%s)" % exc,
                          "update e2mon on this computer or set a new profile", EXIT_REJECTED) from None
    emit(settings, {name: profile.params[i] for i, name in enumerate(_param_names())},
         profile_file.to_text(profile).rstrip("\n"))


def _param_names():
    return profile_file.param_names()


def _read_profile_file(path, base=None, cross_check=True):
    """FILE's parameters on top of `base` (the defaults if None), checked as the device and this host check
    them; without cross_check, only each value alone (a JSON file is then only read)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise Failure("cannot read profile file %s (%s)" % (path, exc.strerror or exc), "check the path",
                      EXIT_STORAGE) from None
    except UnicodeDecodeError as exc:
        raise Failure("profile file %s is not UTF-8 text (byte %d)" % (path, exc.start), "save it as UTF-8 text",
                      EXIT_REJECTED) from None
    try:
        if not text.lstrip().startswith("{"):
            return profile_file.parse(text, path, base, cross_check)
        if not cross_check:
            return None
        profile = _json_profile(text, path, base)
        profile_file.check(profile, path)
        return profile
    except profile_file.ProfileFileError as exc:
        raise Failure("bad profile file: %s" % exc, "fix it and rerun; nothing was sent",
                      EXIT_REJECTED) from None


def _json_profile(text, path, base):
    """The "patient" and "profile" objects of an `e2mon evaluate` history file (host_tools.history)."""
    import decimal
    import json

    from host_tools.history import HistoryError, build_profile
    try:
        try:
            doc = json.loads(text, parse_float=decimal.Decimal)
        except RecursionError:
            raise HistoryError("%s: nested too deeply to be a profile" % path) from None
        if not isinstance(doc, dict):
            raise HistoryError("%s: the top level must be an object" % path)
        if not doc.get("patient") and not doc.get("profile"):
            raise HistoryError("%s sets no parameter: give a \"patient\" or \"profile\" object" % path)
        return build_profile(doc, path, base)
    except json.JSONDecodeError as exc:
        raise Failure("bad profile file: %s is not valid JSON (%s)" % (path, exc),
                      "fix it and rerun; nothing was sent", EXIT_REJECTED) from None
    except HistoryError as exc:
        raise Failure("bad profile file: %s" % exc, "fix it and rerun; nothing was sent", EXIT_REJECTED) from None


@profile_group.command("set")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@device_argument
@click.option("--replace", is_flag=True, help="Reset every parameter FILE does not name to its default.")
@click.option("--yes", "-y", "assume_yes", is_flag=True,
              help="Send without asking (no question is asked when stdin is not a terminal).")
@pass_settings
@reported
def profile_set(settings, path, device, replace, assume_yes):
    """Change the parameters FILE names on the device (clinician key); the rest keep their values.

    FILE is the text `profile show` prints (NAME = VALUE lines, any subset), or JSON with the "patient"
    and "profile" objects of an `e2mon evaluate` history file. The changes are shown (old -> new) and,
    on a terminal, confirmed before anything is sent."""
    # A bad line fails here, before any link is opened; the order of the thresholds is checked on the
    # profile that would result, the device's with FILE's changes.
    _read_profile_file(path, cross_check=replace)

    async def read():
        async with connect.session(settings, device, "clinician") as (link, device_id):
            return device_id, await link.get_profile()
    device_id, old_blob = run(read(), "reading the profile")
    try:
        old = profile_codec.decode(old_blob)
    except ValueError as exc:
        if not replace:
            raise Failure("the device's profile cannot be read (%s), so it cannot be changed in part" % exc,
                          "send a whole profile with --replace", EXIT_REJECTED) from None
        old = P.Profile()
    new = _read_profile_file(path, P.Profile() if replace else old)
    changes = profile_file.differences(old, new)
    diff = ["  %s: %s -> %s" % change for change in changes]
    result = {"device_id": device_id, "changes": [{"name": n, "old": o, "new": v} for n, o, v in changes],
              "sent": False}
    if not changes:
        emit(settings, result, "%s already has these values: nothing sent" % device_id)
        return
    if not assume_yes and sys.stdin.isatty():
        click.echo("Changes to the profile of %s:\n%s" % (device_id, "\n".join(diff)), err=True)
        if not click.confirm("Send them?", default=False, err=True):
            raise Failure("cancelled: nothing was sent", "", EXIT_FAILURE)
    blob = profile_codec.encode(new)

    async def send():
        async with connect.session(settings, device, "clinician") as (link, _device_id):
            if await link.get_profile() != old_blob:   # changed by someone else since it was read
                raise Failure("the profile on %s changed while you were deciding" % device_id,
                              "rerun to see the new differences; nothing was sent", EXIT_REJECTED)
            await link.set_profile(blob)
    run(send(), "sending the profile")
    with settings.open_db() as db:
        db.ensure_device(device_id)
        db.set_profile(device_id, blob)
    result.update(sent=True, bytes=len(blob))
    emit(settings, result, ["profile of %s: %d change%s sent" % (device_id, len(changes),
                                                                 "" if len(changes) == 1 else "s")] + diff)


@profile_group.command("check")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_settings
@reported
def profile_check(settings, path):
    """Validate FILE on top of the default profile without sending it (no device needed)."""
    profile = _read_profile_file(path)
    emit(settings, {"path": path, "valid": True, "crc": profile.crc()},
         "%s is a valid profile (CRC %08x)" % (path, profile.crc()))


# ---- alerts and reminders -----------------------------------------------------------------------------
async def _alerts(settings, device, role):
    async with connect.session(settings, device, role) as (link, _device_id):
        return await link.alerts()


@click.command("alerts")
@device_argument
@role_option
@pass_settings
@reported
def alerts_cmd(settings, device, role):
    """Active flags and due reminders, in plain words with their sources."""
    flags, reminders = run(_alerts(settings, device, role), "reading the alerts")
    due = [r for r in reminders if alert_text.is_due(r)]
    lines = ["Flags (discuss with your clinician):"]
    now = datetime.date.today()
    today = dates.days_from_civil(now.year, now.month, now.day)
    lines += ["  " + alert_text.flag_line(f, today) for f in flags] or ["  none"]
    lines.append("Due reminders:")
    lines += ["  " + alert_text.reminder_line(r) for r in due] or ["  none"]
    emit(settings, {"flags": [alert_text.flag_dict(f) for f in flags],
                    "reminders": [alert_text.reminder_dict(r) for r in due]}, lines)


@click.command("reminders")
@device_argument
@click.option("--all", "show_all", is_flag=True, help="Include upcoming and done reminders.")
@role_option
@pass_settings
@reported
def reminders_cmd(settings, device, show_all, role):
    """Recheck reminders: what is due or overdue (with --all, also upcoming and done)."""
    _flags, reminders = run(_alerts(settings, device, role), "reading the reminders")
    shown = [r for r in reminders if show_all or alert_text.is_due(r)]
    emit(settings, [alert_text.reminder_dict(r) for r in shown],
         [alert_text.reminder_line(r) for r in shown] or ["no reminder due"])


def register(cli):
    for command in (scan_cmd, provision_cmd, pull_cmd, push_group, time_group, profile_group, alerts_cmd,
                    reminders_cmd):
        cli.add_command(command)
    # README spelling: `e2mon time-sync DEVICE`.
    cli.add_command(time_sync, "time-sync")
