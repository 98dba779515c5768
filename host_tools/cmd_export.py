"""`e2mon export` and `e2mon report`: what was pulled, as CSV, JSON, FHIR R4 or a picture."""
import os
import sys

import click

from host_tools import export, fhir
from host_tools.failures import EXIT_REJECTED, Failure, reported
from host_tools.settings import emit, pass_settings, pick_device

WRITERS = {"csv": export.write_csv, "json": export.write_json, "fhir": fhir.write_bundle,
           "history": export.write_history}


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="csv", show_default=True)
@click.option("--device", "device_id", metavar="ID", help="Device in the host database (default: the only one).")
@click.option("--out", "out_path", metavar="FILE", help="Write to FILE instead of standard output.")
@pass_settings
@reported
def export_cmd(settings, fmt, device_id, out_path):
    """Export a device's pulled records: csv, json, a FHIR R4 Bundle (LOINC, UCUM), or a history
    file for `e2mon evaluate` (what-if review with another profile)."""
    with settings.open_db() as db:
        device_id = pick_device(db, device_id)
        if out_path and out_path != "-":
            tmp = out_path + ".part"
            with open(tmp, "w", encoding="utf-8", newline="") as out:
                count = WRITERS[fmt](db, device_id, out)
            os.replace(tmp, out_path)  # no half-written export under the real name
            emit(settings, {"device_id": device_id, "format": fmt, "out": out_path, "entries": count},
                 "wrote %d %s entries for %s to %s" % (count, fmt, device_id, out_path))
        else:
            WRITERS[fmt](db, device_id, sys.stdout)


@click.command("report")
@click.option("--out", "out_path", metavar="FILE.png|FILE.html", required=True)
@click.option("--device", "device_id", metavar="ID", help="Device in the host database (default: the only one).")
@click.option("--today", metavar="YYYY-MM-DD", help="Evaluate flags and reminders as of this date.")
@pass_settings
@reported
def report_cmd(settings, out_path, device_id, today):
    """Trend picture: estradiol and testosterone with target bands, hematocrit, dose changes, flags."""
    from host_tools import report

    if not out_path.lower().endswith((".png", ".html", ".htm")):
        raise Failure("report file %s must end in .png or .html" % out_path, "pick a name like report.png",
                      EXIT_REJECTED)
    day = None
    if today:
        import datetime
        try:
            day = (datetime.date.fromisoformat(today) - export.EPOCH).days
        except ValueError:
            raise Failure("--today %r is not a date" % today, "write it as YYYY-MM-DD", EXIT_REJECTED) from None
    with settings.open_db() as db:
        device_id = pick_device(db, device_id)
        data = report.render(db, device_id, out_path, day)
    emit(settings, {"device_id": device_id, "out": out_path, "records": data.count, "flags": data.flags,
                    "reminders": data.reminders, "dose_changes": len(data.dose_changes)},
         "wrote %s (%d records, %d flags, %d due reminders)"
         % (out_path, data.count, len(data.flags), len(data.reminders)))


@click.command("devices")
@pass_settings
@reported
def devices_cmd(settings):
    """Devices in the host database: records held, firmware, last pull."""
    import datetime

    rows = []
    with settings.open_db() as db:
        for device_id in db.devices():
            info = db.device(device_id)
            last = info["last_pull"]
            rows.append({"device_id": device_id, "name": info["name"], "firmware": info["firmware"],
                         "records": db.count(device_id), "next_seq": db.next_seq(device_id),
                         "last_pull": datetime.datetime.fromtimestamp(last).isoformat(sep=" ") if last else None})
    emit(settings, rows, ["%-22s %8d records  firmware %-8s last pull %s"
                          % (r["device_id"], r["records"], r["firmware"] or "?", r["last_pull"] or "never")
                          for r in rows] or ["no device in %s yet (run e2mon pull)" % settings.db_path_shown()])


def register(cli):
    cli.add_command(export_cmd)
    cli.add_command(report_cmd)
    cli.add_command(devices_cmd)
