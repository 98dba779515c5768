"""`e2mon audit`: who pulled, pushed, acknowledged, changed a profile, updated firmware, labelled or removed
a device, from which machine and when (the host database's append-only audit log; nothing here edits it)."""
import datetime

import click

from host_tools.failures import EXIT_USAGE, Failure, clip, reported
from host_tools.settings import emit, pass_settings


def parse_since(text):
    """YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time) -> Unix seconds."""
    try:
        return int(datetime.datetime.fromisoformat(text.strip()).timestamp())
    except ValueError:
        raise Failure("--since %s is not a date" % clip(text), "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM",
                      EXIT_USAGE) from None


def entry_line(entry):
    when = datetime.datetime.fromtimestamp(entry["at"]).isoformat(sep=" ", timespec="seconds")
    who = "%s (%s)" % (entry["clinician"], entry["os_user"]) if entry["clinician"] else entry["os_user"]
    return "%s  %-15s %-20s %s on %s%s" % (when, entry["action"], entry["device_id"] or "-", who, entry["machine"],
                                          ": " + entry["detail"] if entry["detail"] else "")


@click.command("audit")
@click.option("--since", metavar="DATE", help="Only entries from this date on (YYYY-MM-DD[THH:MM], local time).")
@pass_settings
@reported
def audit_cmd(settings, since):
    """The audit log, oldest first: who changed what (pull, acknowledge, push, profile change, firmware update,
    devices label/remove, db copy), from which machine and when; --device and --since filter it."""
    since_s = parse_since(since) if since else None
    with settings.open_db() as db:
        device_id = (db.find_device(settings.device) or settings.device) if settings.device else None
        entries = db.audit_entries(device_id, since_s)
    for entry in entries:
        entry["at_iso"] = datetime.datetime.fromtimestamp(entry["at"], datetime.timezone.utc).isoformat()
    emit(settings, entries, [entry_line(e) for e in entries] or ["no audit entries in %s%s" % (
        settings.db_shown(), " for the filters given" if device_id or since else "")])


def register(cli):
    cli.add_command(audit_cmd)
