"""Commands on the host database itself: `devices` (list, label), `backup`, `restore`, `db init|check|copy`."""
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
            db.audit(audit.LABEL, device_id, "%s -> %s" % tuple(repr(x) if x else "no label" for x in (before, label)))
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


BACKUP_METHODS = {"sqlite": "SQLite's online backup API; restore with e2mon restore",
                  "postgresql": "pg_dump, custom format; restore with pg_restore"}


@click.command("backup")
@click.argument("dest", metavar="DEST", type=click.Path())
@pass_settings
@reported
def backup_cmd(settings, dest):
    """Copy the host database to DEST (a file, or a directory to put a dated copy in), consistently
    even while another e2mon is pulling: SQLite's online backup API for a file, pg_dump for PostgreSQL."""
    from host_tools import db_url, pg_backup

    backend = db_url.backend(settings.db_path_shown())
    if os.path.isdir(dest):
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
        dest = os.path.join(dest, "e2mon-%s.%s" % (stamp, "dump" if backend == "postgresql" else "sqlite"))
    if os.path.exists(dest):
        raise Failure("%s already exists" % dest, "pick a new name; an older backup is never overwritten",
                      EXIT_STORAGE)
    source = settings.db_shown()
    with settings.open_db() as db:
        db.check()   # a damaged file is never copied as if it were a backup
        try:
            db.backup(dest)
        except pg_backup.BackupFailed as exc:
            raise Failure(str(exc), "or back the database up on its server with pg_dump", EXIT_STORAGE) from None
        db.remember_backup(dest)
        counts = {device_id: db.count(device_id) for device_id in db.devices()}
    lines = ["backed up %s to %s (%d records, %d devices) with %s" % (
        source, dest, sum(counts.values()), len(counts), BACKUP_METHODS[backend])]
    if backend == "postgresql":
        lines.append("restore it into an empty database with: pg_restore --no-owner --dbname=URL %s" % dest)
    emit(settings, {"source": source, "backup": dest, "records": counts, "backend": backend,
                    "method": BACKUP_METHODS[backend]}, lines)


@click.command("restore")
@click.argument("backup", metavar="BACKUP", type=click.Path(dir_okay=False))
@click.option("--yes", "assume_yes", is_flag=True, help="Replace the host database that is there now.")
@pass_settings
@reported
def restore_cmd(settings, backup, assume_yes):
    """Put BACKUP (checked first) in the place of the host database; the file it replaces is kept beside it
    as <db>.replaced-<date>. A pull afterwards fetches what the devices still hold."""
    from host_tools import db as host_db
    from host_tools import db_url

    target = settings.db_path_shown()
    if db_url.backend(target) == "postgresql":
        raise Failure("e2mon restores SQLite files; %s is a PostgreSQL database" % settings.db_shown(),
                      "restore a pg_dump backup with: pg_restore --clean --if-exists --no-owner --dbname=URL %s"
                      % backup, EXIT_REJECTED)
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
    """The host database: create it (init), check it (check), copy it whole into another (copy)."""


@db_group.command("init")
@pass_settings
@reported
def db_init(settings):
    """Create the host database (private to you) where --db or $E2MON_DB says; pull creates it too."""
    path = settings.db_shown()
    with settings.open_db(create=True) as db:
        devices = len(db.devices())
        existed = not db.created
    emit(settings, {"database": path, "created": not existed, "devices": devices},
         "%s already exists (%d devices): nothing changed" % (path, devices) if existed
         else "created the host database %s" % path)


@db_group.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("dest", metavar="DEST")
@pass_settings
@reported
def db_copy(settings, source, dest):
    """Copy a whole host database (devices, records, key bindings, audit log) from SRC to an empty DEST,
    e.g. a SQLite file into the clinic's PostgreSQL; rows are counted and hashed on both sides.

    Example: e2mon db copy ~/.local/share/e2mon/e2mon.sqlite postgresql://clinic-db/e2mon. DEST is created if
    need be and must hold no device yet; nothing of SRC changes."""
    from host_tools import db_copy as copying
    from host_tools import db_url
    from host_tools.audit import Actor
    from host_tools.db import HostDB

    if os.path.abspath(source) == os.path.abspath(dest) if not db_url.is_url(source) else source == dest:
        raise Failure("SRC and DEST are the same database", "name a new database as DEST", EXIT_REJECTED)
    actor = Actor.here(settings.clinician())
    with HostDB(source, create=False, actor=actor) as src, HostDB(dest, create=True, actor=actor) as out:
        src.check()
        try:
            before, after = copying.copy(src, out)
        except copying.DestinationNotEmpty as exc:
            raise Failure(str(exc), "nothing was copied", EXIT_REJECTED) from None
        same = before == after
        if same:
            out.audit(audit.COPY, None, "from %s: %s" % (db_url.shown(source), ", ".join(
                "%s %d" % (table, count) for table, (count, _digest) in after.items())))
    rows = [{"table": table, "source_rows": before[table][0], "dest_rows": after[table][0],
             "source_sha256": before[table][1], "dest_sha256": after[table][1]} for table in before]
    lines = ["%-12s %8d rows -> %8d rows  sha256 %s %s" % (
        r["table"], r["source_rows"], r["dest_rows"], r["source_sha256"][:16],
        "same" if r["source_sha256"] == r["dest_sha256"] else "DIFFERS (%s)" % r["dest_sha256"][:16]) for r in rows]
    emit(settings, {"source": db_url.shown(source), "dest": db_url.shown(dest), "tables": rows, "same": same},
         ["copied %s to %s" % (db_url.shown(source), db_url.shown(dest))] + lines)
    if not same:
        raise Failure("the copy in %s differs from %s" % (db_url.shown(dest), db_url.shown(source)),
                      "keep the source; report this", EXIT_STORAGE)


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
