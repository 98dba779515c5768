"""`e2mon provision` over USB (--port): the device's key made here, the role and beacon keys kept on this
computer, the clock set and the first profile sent."""
import datetime
import os

import click

from host_tools import clinic_keys, connect, profile_file
from host_tools.device_command import device_argument, run
from host_tools.failures import EXIT_AUTH, EXIT_REJECTED, Failure, reported
from host_tools.settings import emit, pass_settings, use_port
from monitor import catalog, profile_codec, protocol, protocol_text
from monitor import profile as P


@click.command("provision")
@device_argument
@click.option("--birth-year", type=int, help="Patient's birth year, stored in the profile (optional).")
@click.option("--birth-date", metavar="YYYY-MM-DD",
              help="Patient's birth date (optional; the age over 50 then counts from the day, not the year).")
@click.option("--goal", type=click.Choice(list(catalog.GOALS)), help="Therapy goal, stored in the profile.")
@click.option("--erase-log", is_flag=True,
              help="The device holds another key: erase its log and profile with the new key (pull first).")
@pass_settings
@reported
def provision_cmd(settings, device, birth_year, birth_date, goal, erase_log):
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
        from host_tools import sim_link
        device = sim_link.DEVICE_ADDRESS
    profile = P.Profile()
    if birth_year is not None:
        _set_profile_value(profile, "BIRTH_YEAR", birth_year)
    if birth_date is not None:
        try:
            profile_file.set_birth_date(profile, birth_date)
            profile_file.check(profile, "--birth-date")
        except ValueError as exc:   # ProfileFileError too
            raise Failure("--birth-date %s: %s" % (birth_date, exc), "write it as YYYY-MM-DD", EXIT_REJECTED) from None
    if goal is not None:
        _set_profile_value(profile, "GOAL", catalog.GOALS.index(goal))
    result = run(_provision(settings, connect.normalize_address(device), profile, erase_log), "provisioning")
    # A provisioned device starts a new log: what this host pulled before is kept under another id.
    result["archived_as"] = None
    if settings.db_exists():
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


async def _provision(settings, device_id, profile, erase_log=False):
    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink

    key = host_crypto.new_device_key()
    async with connect.client(settings, device_id) as (serial_client, device_id):
        status = await serial_client.provision(key, erase_log)
        if status == protocol.ERR_KEY_HELD:
            held = serial_client.records_held
            raise Failure("the device holds another key and %d record%s; a new key erases them and the profile "
                          "on the device" % (held, "" if held == 1 else "s"),
                          "pull them first (e2mon pull), then rerun with --erase-log", EXIT_REJECTED)
        if status != protocol.STATUS_OK:
            raise Failure("the device refused the new key: %s" % protocol_text.error_text(status),
                          "check it runs the e2mon firmware and is connected over USB", EXIT_AUTH)
        # The device holds the key now: keep the role and beacon keys (never the device key) before anything else.
        where = clinic_keys.save_device_keys(device_id, host_crypto.host_keys(key))
        link = DeviceLink(serial_client, host_crypto.role_key(key, connect_role("clinician")), "clinician")
        await link.open_session()
        now = datetime.datetime.now().replace(microsecond=0)
        await link.set_time(now)
        connect.remember_device_clock(device_id, now)
        blob = profile_codec.encode(profile)
        await link.set_profile(blob)
        await link.close()
    if where not in ("keyring", clinic_keys.CLINIC_STORE):
        where = os.path.dirname(where)
    return {"device_id": device_id, "key_store": where, "clock": now.isoformat(sep=" "),
            "profile_bytes": len(blob)}


def connect_role(role):
    from host_tools.device_link import role_code
    return role_code(role)


def register(cli):
    cli.add_command(provision_cmd)
