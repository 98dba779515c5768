"""`e2mon export` and `e2mon report`: what was pulled, as CSV, JSON, FHIR R4 or a picture."""
import datetime
import sys

import click

from host_tools import export, fhir
from host_tools.failures import EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_USAGE, Failure, clip, reported
from host_tools.outfile import private_output
from host_tools.settings import device_title, emit, pass_settings, pick_device

WRITERS = {"csv": export.write_csv, "json": export.write_json, "fhir": fhir.write_bundle,
           "history": export.write_history}
EXTENSIONS = {"csv": ".csv", "json": ".json", "fhir": ".fhir.json", "history": ".history.json"}


def _day_option(text, name):
    if text is None:
        return None
    try:
        return (datetime.date.fromisoformat(text) - export.EPOCH).days
    except ValueError:
        raise Failure("%s %s is not a date" % (name, clip(text)), "write it as YYYY-MM-DD", EXIT_REJECTED) from None


def _day_range(since, until):
    first, last = _day_option(since, "--since"), _day_option(until, "--until")
    if first is not None and last is not None and first > last:
        raise Failure("--since %s is after --until %s" % (since, until), "swap them", EXIT_REJECTED)
    return first, last


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)),
              help="csv (the default; json with the global --json), json, fhir or history.")
@click.option("--out", "out_path", metavar="FILE|FOLDER",
              help="Write to FILE instead of standard output (with --all: a FOLDER, one file per patient).")
@click.option("--all", "every", is_flag=True,
              help="Every patient in the host database, one file each (one FHIR Bundle each), named by label.")
@click.option("--since", metavar="YYYY-MM-DD", help="Only records dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only records dated on or before this day.")
@pass_settings
@reported
def export_cmd(settings, fmt, out_path, every, since, until):
    """Export a device's pulled records: csv, json, a FHIR R4 Bundle (LOINC, UCUM), or a history
    file for `e2mon evaluate` (what-if review with another profile)."""
    fmt = fmt or ("json" if settings.as_json else "csv")
    first, last = _day_range(since, until)
    if every:
        _export_all(settings, fmt, out_path, first, last)
        return
    with settings.open_db() as db:
        db.check()
        device_id = pick_device(db, settings.device_given())
        db = export.Window(db, first, last)
        if out_path and out_path != "-":
            with private_output(out_path) as out:
                count = WRITERS[fmt](db, device_id, out)
            emit(settings, {"device_id": device_id, "format": fmt, "out": out_path, "entries": count},
                 "wrote %d %s entries for %s to %s" % (count, fmt, device_id, out_path))
        else:
            WRITERS[fmt](db, device_id, sys.stdout)


def file_stem(device_id, label):
    """A file name for a patient's export: the clinic's label (else the device id), safe on every system."""
    name = label or device_id
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem or "device"


def _export_all(settings, fmt, folder, first, last):
    """One file per patient (archived earlier logs included, each its own file) in FOLDER."""
    import os

    if settings.device_given():
        raise Failure("--all exports every patient; --device names one", "pass one of them", EXIT_USAGE)
    if not folder or folder == "-":
        raise Failure("--all writes one file per patient", "name a folder with --out FOLDER", EXIT_USAGE)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise Failure("%s is not a folder" % folder, "name a folder with --out FOLDER", EXIT_REJECTED)
    written = []
    with settings.open_db() as db:
        db.check()
        devices = db.devices()
        if not devices:
            raise Failure("the host database %s holds no device yet" % db.path, "run e2mon pull first",
                          EXIT_NOT_FOUND)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        window = export.Window(db, first, last)
        used = set()
        for device_id in devices:
            stem = file_stem(device_id, db.label(device_id))
            while stem in used:
                stem += "_"
            used.add(stem)
            path = os.path.join(folder, stem + EXTENSIONS[fmt])
            with private_output(path) as out:
                count = WRITERS[fmt](window, device_id, out)
            written.append({"device_id": device_id, "label": db.label(device_id), "out": path, "entries": count})
    emit(settings, {"format": fmt, "folder": folder, "files": written},
         ["wrote %d %s entries for %s to %s" % (w["entries"], fmt, device_title(w["device_id"], w["label"]),
                                                w["out"]) for w in written])


@click.command("report")
@click.option("--out", "out_path", metavar="FILE.png|FILE.html", required=True)
@click.option("--today", metavar="YYYY-MM-DD", help="Evaluate flags and reminders as of this date.")
@click.option("--since", metavar="YYYY-MM-DD", help="Show only records dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Show only records dated on or before this day.")
@pass_settings
@reported
def report_cmd(settings, out_path, today, since, until):
    """Trend picture: estradiol and testosterone with target bands, hematocrit, dose changes, flags.
    --since/--until limit the dates shown; the flags still read the whole log."""
    from host_tools import report

    first, last = _day_range(since, until)

    if not out_path.lower().endswith((".png", ".html", ".htm")):
        raise Failure("report file %s must end in .png or .html" % out_path, "pick a name like report.png",
                      EXIT_REJECTED)
    day = None
    if today:
        try:
            day = (datetime.date.fromisoformat(today) - export.EPOCH).days
        except ValueError:
            raise Failure("--today %r is not a date" % today, "write it as YYYY-MM-DD", EXIT_REJECTED) from None
    with settings.open_db() as db:
        db.check()
        device_id = pick_device(db, settings.device_given())
        data = report.render(db, device_id, out_path, day, first, last)
    emit(settings, {"device_id": device_id, "out": out_path, "records": data.count, "flags": data.flags,
                    "reminders": data.reminders, "dose_changes": len(data.dose_changes)},
         "wrote %s (%d records, %d flags, %d due reminders)"
         % (out_path, data.count, len(data.flags), len(data.reminders)))


def register(cli):
    cli.add_command(export_cmd)
    cli.add_command(report_cmd)
