"""`e2mon time sync|show`: the device clock (Current Time Service)."""
import datetime

import click

from host_tools import connect
from host_tools.device_command import device_argument, role_option, run
from host_tools.failures import EXIT_REJECTED, Failure, reported
from host_tools.settings import SummaryGroup, emit, pass_settings
from monitor import dates, protocol


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


OLD_FIRMWARE_CLOCK_BACK = 0xD0   # ERR_CLOCK_BACK before it got a code of its own (0xD0 is an update's now)


async def _time_sync(settings, device, force):
    from host_tools.device_link import DeviceError
    async with connect.session(settings, device, "clinician") as (link, device_id):
        before = await _device_time(link)
        now = datetime.datetime.now().replace(microsecond=0)
        try:
            await link.set_time(now, force)
            connect.remember_device_clock(device_id, now)
        except DeviceError as exc:
            if exc.code not in (protocol.ERR_CLOCK_BACK, OLD_FIRMWARE_CLOCK_BACK):
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


def register(cli):
    cli.add_command(time_group)
    # README spelling: `e2mon time-sync DEVICE`.
    cli.add_command(time_sync, "time-sync")
