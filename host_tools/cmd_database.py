"""Commands on the host database itself: `devices` (list, label), `backup`, `restore`, `db init|check`."""
import datetime
import os

import click

from host_tools import audit
from host_tools.db import LabelTaken
from host_tools.failures import EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_STORAGE, Failure, clip, reported
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
                          for r in rows] or ["no device in %s yet (run e2mon pull)" % settings.db_shown()])


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
        device_id = db.find_device(address)
        if device_id is None:
            raise Failure("no device %s in the host database %s" % (clip(address), db.path),
                          "a device comes in with its first pull (e2mon pull --device %s); e2mon devices lists "
                          "those held" % connect.normalize_address(address), EXIT_NOT_FOUND)
        try:
            before = db.label(device_id)
            db.set_label(device_id, label)
            db.audit(audit.LABEL, device_id, "%r -> %r" % (before, label))
        except LabelTaken as exc:
            raise Failure(str(exc), "pick another label; one label names one patient's device",
                          EXIT_REJECTED) from None
    emit(settings, {"device_id": device_id, "label": label},
         "%s is now labelled %r" % (device_id, label) if label else "%s has no label now" % device_id)


@devices_group.command("remove")
@click.argument("name", metavar="ID|LABEL")
@click.option("--yes", "assume_yes", is_flag=True, help="Remove without asking.")
@pass_settings
@reported
def devices_remove(settings, name, assume_yes):
    """Remove a device and its pulled records from the host database (a backup is kept first); its keys
    stay. Asks on a terminal; elsewhere --yes is needed."""
    import sys

    with settings.open_db() as db:
        device_id = db.find_device(name)
        if device_id is None:
            raise Failure("no device %s in the host database %s" % (clip(name), db.path),
                          "see e2mon devices for its devices and labels", EXIT_NOT_FOUND)
        title = device_title(device_id, db.label(device_id))
        count = db.count(device_id)
        if not assume_yes:
            if not sys.stdin.isatty():
                raise Failure("removing %s would delete its %d records from this host" % (title, count),
                              "rerun with --yes to remove it (a backup is kept first)", EXIT_REJECTED)
            if not click.confirm("Remove %s and its %d records from %s (a backup is kept first)?"
                                 % (title, count, db.path), default=False, err=True):
                raise Failure("cancelled: nothing was removed", "", EXIT_REJECTED)
        kept = db.remove_device(device_id)
        db.audit(audit.REMOVE, device_id, "%d records removed; backup %s" % (count, kept))
    emit(settings, {"device_id": device_id, "records": count, "backup": kept},
         "removed %s (%d records); a copy of the database before is %s" % (title, count, kept))


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
    with settings.open_db() as db:
        db.check()   # a damaged file is never copied as if it were a backup
        db.backup(dest)
        db.remember_backup(dest)
        counts = {device_id: db.count(device_id) for device_id in db.devices()}
    emit(settings, {"source": source, "backup": dest, "records": counts},
         "backed up %s to %s (%d records, %d devices)" % (source, dest, sum(counts.values()), len(counts)))


@click.command("restore")
@click.argument("backup", metavar="BACKUP", type=click.Path(dir_okay=False))
@click.option("--yes", "assume_yes", is_flag=True, help="Replace the host database that is there now.")
@pass_settings
@reported
def restore_cmd(settings, backup, assume_yes):
    """Put BACKUP (checked first) in the place of the host database; the file it replaces is kept beside it
    as <db>.replaced-<date>. A pull afterwards fetches what the devices still hold."""
    from host_tools import db as host_db

    target = settings.db_path_shown()
    if not os.path.isfile(backup):
        raise Failure("backup file not found: %s" % backup, "check the path", EXIT_STORAGE)
    if os.path.exists(target) and not assume_yes:
        raise Failure("the host database %s exists and would be replaced by %s" % (target, backup),
                      "rerun with --yes to replace it (it is kept as %s.replaced-<date>)" % target, EXIT_REJECTED)
    os.makedirs(os.path.dirname(os.path.abspath(target)), mode=0o700, exist_ok=True)
    with host_db.exclusive(target, "restoring a backup"):
        kept = host_db.restore(backup, target)
    with settings.open_db() as db:
        counts = {device_id: db.count(device_id) for device_id in db.devices()}
    emit(settings, {"database": target, "backup": backup, "replaced_kept_as": kept, "records": counts},
         ["restored %s from %s (%d records, %d devices)" % (target, backup, sum(counts.values()), len(counts))]
         + (["the file it replaced is kept as %s" % kept] if kept else []))


@click.group("db", cls=SummaryGroup)
def db_group():
    """The host database file: create it (init) or check every page of it (check)."""


@db_group.command("init")
@pass_settings
@reported
def db_init(settings):
    """Create the host database (private to you) where --db or $E2MON_DB says; pull creates it too."""
    path = settings.db_path_shown()
    existed = settings.db_exists() and os.path.getsize(path) > 0
    with settings.open_db(create=True) as db:
        devices = len(db.devices())
    emit(settings, {"database": path, "created": not existed, "devices": devices},
         "%s already exists (%d devices): nothing changed" % (path, devices) if existed
         else "created the host database %s" % path)


@db_group.command("check")
@pass_settings
@reported
def db_check(settings):
    """Check every page of the host database (SQLite's integrity check); a damaged one fails with exit 7."""
    with settings.open_db() as db:
        db.check()
        counts = {device_id: db.count(device_id) for device_id in db.devices()}
    emit(settings, {"database": db.path, "ok": True, "records": counts},
         "%s is sound: %d records, %d devices" % (db.path, sum(counts.values()), len(counts)))


def register(cli):
    cli.add_command(devices_group)
    cli.add_command(backup_cmd)
    cli.add_command(restore_cmd)
    cli.add_command(db_group)
