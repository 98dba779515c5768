"""`e2mon profile show|set|check`: the clinician's rule profile on the device, as an editable file
(host_tools.profile_file)."""
import sys

import click

from host_tools import audit, connect, profile_file
from host_tools.device_command import device_argument, role_option, run
from host_tools.failures import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_STORAGE, Failure, reported
from host_tools.settings import SummaryGroup, emit, pass_settings
from monitor import profile_codec
from monitor import profile as P


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
    emit(settings, profile_file.to_document(profile), profile_file.to_text(profile).rstrip("\n"))


def _read_profile_file(path, base=None, cross_check=True, base_label="the default profile"):
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
            return profile_file.parse(text, path, base, cross_check, base_label)
        if not cross_check:
            return None
        profile = _json_profile(text, path, base, base_label)
        profile_file.check(profile, path)
        return profile
    except profile_file.ProfileFileError as exc:
        raise Failure("bad profile file: %s" % exc, "fix it and rerun; nothing was sent",
                      EXIT_REJECTED) from None


def _json_profile(text, path, base, base_label="the default profile"):
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
        return build_profile(doc, path, base, base_label)
    except json.JSONDecodeError as exc:
        raise Failure("bad profile file: %s is not valid JSON (%s)" % (path, exc),
                      "fix it and rerun; nothing was sent", EXIT_REJECTED) from None
    except HistoryError as exc:
        raise Failure("bad profile file: %s" % exc, "fix it and rerun; nothing was sent", EXIT_REJECTED) from None


# What describes the patient rather than the rules: changed only when a file names them.
PATIENT_PARAMS = (P.P_BIRTH_YEAR, P.P_GOAL, P.P_FRACTURE_HISTORY, P.P_PLANNED_MONTHS)


def _replace_base(old):
    """What --replace starts from: the defaults, with the patient's own fields kept as the device has them."""
    base = P.Profile()
    for i in PATIENT_PARAMS:
        base.params[i] = old.params[i]
    return base


@profile_group.command("set")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@device_argument
@click.option("--replace", is_flag=True, help="Reset every rule parameter FILE does not name to its default (the "
              "patient's birth year, goal, fracture history and planned months change only when named).")
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
    new = _read_profile_file(path, _replace_base(old) if replace else old)
    changes = profile_file.differences(old, new)
    patient_changes = [name for name, _o, _v in changes if profile_file.PARAM_NAMES.index(name) in PATIENT_PARAMS]
    if replace and patient_changes and not assume_yes and not sys.stdin.isatty():
        raise Failure("--replace would change the patient's %s on %s" % (", ".join(patient_changes), device_id),
                      "rerun with --yes if that is meant; nothing was sent", EXIT_REJECTED)
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
    if settings.db_exists():
        with settings.open_db() as db:
            db.ensure_device(device_id)
            db.set_profile(device_id, blob)
            db.audit(audit.PROFILE, device_id, "%d change%s: %s" % (len(changes), "" if len(changes) == 1 else "s",
                                                                 "; ".join(diff)))
    result.update(sent=True, bytes=len(blob))
    emit(settings, result, ["profile of %s: %d change%s sent" % (device_id, len(changes),
                                                                 "" if len(changes) == 1 else "s")] + diff)


@profile_group.command("check")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_settings
@reported
def profile_check(settings, path):
    """Validate FILE without sending it (no device needed): on top of the device's current profile as last
    read into the host database when one device is known (--device, or the only one), else the defaults."""
    base, base_label, device_id = _known_profile(settings)
    profile = _read_profile_file(path, base, base_label=base_label)
    emit(settings, {"path": path, "valid": True, "crc": profile.crc(), "checked_against": base_label,
                    "device_id": device_id},
         "%s is a valid profile on top of %s (CRC %08x)" % (path, base_label, profile.crc()))


def _known_profile(settings):
    """(profile, its description, device id) a file is checked on: the named or only device's profile as
    the host database holds it, else the defaults."""
    from host_tools.settings import pick_device
    given = settings.device_given()
    if not settings.db_exists():
        if given:
            raise Failure("no host database %s to find %s in" % (settings.db_path_shown(), given),
                          "run e2mon pull first, or check without --device", EXIT_NOT_FOUND)
        return None, "the default profile", None
    with settings.open_db() as db:
        current = [d for d in db.devices() if not db.is_archive(d)]
        if not given and len(current) > 1:
            return None, "the default profile (%d devices in the host database: --device names one)" % len(
                current), None
        if not given and not current:
            return None, "the default profile", None
        device_id = pick_device(db, given or current[0])
        if not (db.device(device_id) or {}).get("profile"):
            return None, "the default profile (no profile of %s pulled yet)" % device_id, device_id
        return profile_file.stored_profile(db, device_id), "the current profile of %s" % device_id, device_id


def register(cli):
    cli.add_command(profile_group)
