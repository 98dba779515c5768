"""`e2mon alerts` and `e2mon reminders`: the device's active flags and due reminders, in plain words; with
--all, every patient's from the records already pulled (the clinic's worklist, no device in range)."""
import datetime

import click

from host_tools import alert_text, connect, profile_file
from host_tools.device_command import device_argument, role_option, run
from host_tools.failures import EXIT_USAGE, Failure, reported
from host_tools.settings import device_title, emit, pass_settings
from monitor import dates


async def _alerts(settings, device, role):
    # the flags and reminders, and the device's profile parameters as the host last read them (the texts'
    # durations follow the clinician's edits)
    async with connect.session(settings, device, role) as (link, device_id):
        flags, reminders = await link.alerts()
    with settings.open_db() as db:
        return flags, reminders, profile_file.stored_profile(db, device_id).params


def worklist(settings, with_flags=True, with_reminders=True):
    """Every patient's flags and due reminders as the pulled records give them, with the last pull's date."""
    rows, lines = [], []
    with settings.open_db() as db:
        db.check(full=False)
        for row, data in worklist_rows(db):
            lines.append("%s, last pulled %s:" % (device_title(row["device_id"], row["label"]),
                                                   row["last_pull"] or "never"))
            if with_flags:
                row["flags"] = data.flags
                lines += ["  " + line for line in data.flags] or ["  no flag"]
            if with_reminders:
                row["reminders"] = data.reminders
                lines += ["  " + line for line in data.reminders] or ["  no reminder due"]
            rows.append({k: row[k] for k in ("device_id", "label", "last_pull", "flags", "reminders") if k in row})
    return rows, lines or ["no device in %s yet (run e2mon pull)" % settings.db_shown()]


def worklist_rows(db, today=None):
    """(row, report.ReportData) for every patient of an open host database (archived logs left out): the
    one reading behind `alerts --all`, `reminders --all` and the clinic page. A row holds device_id, label,
    last_pull ("YYYY-MM-DD HH:MM" or None) and last_pull_seconds."""
    from host_tools import report

    for device_id in db.devices():
        if db.is_archive(device_id):
            continue
        info = db.device(device_id)
        data = report.gather(db, device_id, today)
        last = info["last_pull"]
        shown = datetime.datetime.fromtimestamp(last).strftime("%Y-%m-%d %H:%M") if last else None
        yield {"device_id": device_id, "label": info["label"], "last_pull": shown,
               "last_pull_seconds": last}, data


def _every_patient(settings, device, every, with_flags):
    """With --all, prints the worklist from pulled data and returns True; --all with a device is refused."""
    if not every:
        return False
    if settings.device_given(device):
        raise Failure("--all lists every patient; --device names one", "pass one of them", EXIT_USAGE)
    rows, lines = worklist(settings, with_flags=with_flags)
    emit(settings, rows, lines)
    return True


@click.command("alerts")
@device_argument
@click.option("--all", "every", is_flag=True,
              help="Every patient's flags and due reminders from the records already pulled, with the date of "
                   "each one's last pull (no device needed).")
@role_option
@pass_settings
@reported
def alerts_cmd(settings, device, every, role):
    """Active flags and due reminders, in plain words with their sources."""
    if _every_patient(settings, device, every, with_flags=True):
        return
    flags, reminders, p = run(_alerts(settings, device, role), "reading the alerts")
    due = [r for r in reminders if alert_text.is_due(r)]
    lines = ["Flags (discuss with your clinician):"]
    now = datetime.date.today()
    today = dates.days_from_civil(now.year, now.month, now.day)
    lines += ["  " + alert_text.flag_line(f, today, p) for f in flags] or ["  none"]
    lines.append("Due reminders:")
    lines += ["  " + alert_text.reminder_line(r, p) for r in due] or ["  none"]
    emit(settings, {"flags": [alert_text.flag_dict(f, p) for f in flags],
                    "reminders": [alert_text.reminder_dict(r, p) for r in due]}, lines)


@click.command("reminders")
@device_argument
@click.option("--upcoming", "show_all", is_flag=True, help="Include upcoming and done reminders.")
@click.option("--all", "every", is_flag=True,
              help="Every patient's due reminders from the records already pulled, with the date of each one's "
                   "last pull (no device needed).")
@role_option
@pass_settings
@reported
def reminders_cmd(settings, device, show_all, every, role):
    """Recheck reminders: what is due or overdue (with --upcoming, also upcoming and done)."""
    if _every_patient(settings, device, every, with_flags=False):
        return
    _flags, reminders, p = run(_alerts(settings, device, role), "reading the reminders")
    shown = [r for r in reminders if show_all or alert_text.is_due(r)]
    emit(settings, [alert_text.reminder_dict(r, p) for r in shown],
         [alert_text.reminder_line(r, p) for r in shown] or ["no reminder due"])


def register(cli):
    for command in (alerts_cmd, reminders_cmd):
        cli.add_command(command)
