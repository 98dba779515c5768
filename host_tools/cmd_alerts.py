"""`e2mon alerts` and `e2mon reminders`: the device's active flags and due reminders, in plain words."""
import datetime

import click

from host_tools import alert_text, connect, profile_file
from host_tools.device_command import device_argument, role_option, run
from host_tools.failures import reported
from host_tools.settings import emit, pass_settings
from monitor import dates


async def _alerts(settings, device, role):
    # the flags and reminders, and the device's profile parameters as the host last read them (the texts'
    # durations follow the clinician's edits)
    async with connect.session(settings, device, role) as (link, device_id):
        flags, reminders = await link.alerts()
    with settings.open_db() as db:
        return flags, reminders, profile_file.stored_profile(db, device_id).params


@click.command("alerts")
@device_argument
@role_option
@pass_settings
@reported
def alerts_cmd(settings, device, role):
    """Active flags and due reminders, in plain words with their sources."""
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
@click.option("--all", "show_all", is_flag=True, help="Include upcoming and done reminders.")
@role_option
@pass_settings
@reported
def reminders_cmd(settings, device, show_all, role):
    """Recheck reminders: what is due or overdue (with --all, also upcoming and done)."""
    _flags, reminders, p = run(_alerts(settings, device, role), "reading the reminders")
    shown = [r for r in reminders if show_all or alert_text.is_due(r)]
    emit(settings, [alert_text.reminder_dict(r, p) for r in shown],
         [alert_text.reminder_line(r, p) for r in shown] or ["no reminder due"])


def register(cli):
    for command in (alerts_cmd, reminders_cmd):
        cli.add_command(command)
