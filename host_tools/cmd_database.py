"""Commands on the host database itself: `devices` (list, label) and `backup`."""
import datetime
import os

import click

from host_tools.failures import EXIT_REJECTED, EXIT_STORAGE, Failure, clip, reported
from host_tools.settings import SummaryGroup, device_title, emit, pass_settings

LABEL_LIMIT = 64   # characters of a device label


@click.group("devices", cls=SummaryGroup, invoke_without_command=True)
@pass_settings
@click.pass_context
@reported
def devices_group(ctx, settings):
    """Devices in the host database: label, records held, firmware, last pull."""
    if ctx.invoked_subcommand is not None:
        return
    rows = []
    with settings.open_db() as db:
        for device_id in db.devices():
            info = db.device(device_id)
            last = info["last_pull"]
            rows.append({"device_id": device_id, "label": info["label"], "name": info["name"],
                         "firmware": info["firmware"], "records": db.count(device_id),
                         "next_seq": db.next_seq(device_id),
                         "last_pull": datetime.datetime.fromtimestamp(last).isoformat(sep=" ") if last else None})
    emit(settings, rows, ["%-34s %8d records  firmware %-8s last pull %s"
                          % (device_title(r["device_id"], r["label"]), r["records"], r["firmware"] or "?",
                             r["last_pull"] or "never")
                          for r in rows] or ["no device in %s yet (run e2mon pull)" % settings.db_path_shown()])


@devices_group.command("label")
@click.argument("address", metavar="ADDRESS")
@click.argument("label", metavar="LABEL", required=False)
@click.option("--clear", is_flag=True, help="Remove the label.")
@pass_settings
@reported
def devices_label(settings, address, label, clear):
    """Name a device for this clinic, e.g. `devices label C0:E2:00:00:00:01 "patient 12"`.

    The label stays in this computer's database: it is never sent to the device nor advertised."""
    from host_tools import connect

    if clear:
        label = None
    elif label is None or not label.strip():
        raise Failure("no label given", 'write it after the address, e.g. "patient 12" (or pass --clear)',
                      EXIT_REJECTED)
    else:
        label = " ".join(label.split())
        if len(label) > LABEL_LIMIT or not label.isprintable():
            raise Failure("label %s is too long or holds control characters" % clip(label),
                          "use at most %d printable characters" % LABEL_LIMIT, EXIT_REJECTED)
    with settings.open_db() as db:
        # A device already held keeps its id (any case); a new one is filed under its address, as pull does.
        known = {d.upper(): d for d in db.devices()}
        device_id = known.get(address.strip().upper(), connect.normalize_address(address))
        db.set_label(device_id, label)
    emit(settings, {"device_id": device_id, "label": label},
         "%s is now labelled %r" % (device_id, label) if label else "%s has no label now" % device_id)


@click.command("backup")
@click.argument("dest", metavar="DEST", type=click.Path())
@pass_settings
@reported
def backup_cmd(settings, dest):
    """Copy the host database to DEST (a file, or a directory to put a dated copy in), consistently
    even while another e2mon is pulling (SQLite's online backup API)."""
    if os.path.isdir(dest):
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
        dest = os.path.join(dest, "e2mon-%s.sqlite" % stamp)
    if os.path.exists(dest):
        raise Failure("%s already exists" % dest, "pick a new name; an older backup is never overwritten",
                      EXIT_STORAGE)
    source = settings.db_path_shown()
    if not os.path.exists(source):
        raise Failure("there is no host database at %s yet" % source, "run e2mon pull first", EXIT_STORAGE)
    with settings.open_db() as db:
        db.backup(dest)
        counts = {device_id: db.count(device_id) for device_id in db.devices()}
    emit(settings, {"source": source, "backup": dest, "records": counts},
         "backed up %s to %s (%d records, %d devices)" % (source, dest, sum(counts.values()), len(counts)))


def register(cli):
    cli.add_command(devices_group)
    cli.add_command(backup_cmd)
