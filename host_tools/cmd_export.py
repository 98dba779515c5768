"""`e2mon export` and `e2mon report`: what was pulled, as CSV, JSON, FHIR R4 or a picture."""
import datetime
import sys

import click

from host_tools import export, fhir
from host_tools.failures import EXIT_REJECTED, Failure, clip, reported
from host_tools.outfile import private_output
from host_tools.settings import emit, pass_settings, pick_device

WRITERS = {"csv": export.write_csv, "json": export.write_json, "fhir": fhir.write_bundle,
           "history": export.write_history}


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
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="csv", show_default=True)
@click.option("--out", "out_path", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--since", metavar="YYYY-MM-DD", help="Only records dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only records dated on or before this day.")
@pass_settings
@reported
def export_cmd(settings, fmt, out_path, since, until):
    """Export a device's pulled records: csv, json, a FHIR R4 Bundle (LOINC, UCUM), or a history
    file for `e2mon evaluate` (what-if review with another profile)."""
    first, last = _day_range(since, until)
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
