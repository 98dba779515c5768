"""What the clinic page shows, read through host_tools.db (the one reading of the patients' state is
cmd_alerts.worklist_rows, behind `alerts --all` as well).

- `overview(db) -> [patient]`: every patient, the one needing attention first (urgent flags, then overdue
  reminders, then flags to discuss, then due reminders, then the longest time since the last pull)
- `patient(db, device_id) -> dict`: the report's data, flags with sources, due reminders, every entry with
  its provenance
- `export(db, device_id, fmt) -> (text, media type, file suffix)`
"""
import io
import time

from host_tools import report
from host_tools.cmd_alerts import worklist_rows
from host_tools.db import HostDB
from host_tools.export import rows as entry_rows

SECONDS_PER_DAY = 86400


def _open(db):
    host = HostDB(db, create=False)
    host.check(full=False)
    return host


def unsynced_days(last_pull_seconds, now=None):
    """Whole days since the last pull: what the device holds that this database has not seen (None: never)."""
    if not last_pull_seconds:
        return None
    now = time.time() if now is None else now
    return max(0, int(now - last_pull_seconds) // SECONDS_PER_DAY)


def _summary(row, data, now=None):
    active = [f for f in data.flag_items if not f.get("acknowledged")]
    urgent = [f for f in active if f["level"] == "urgent"]
    discuss = [f for f in active if f["level"] == "discuss"]
    overdue = [r for r in data.reminder_items if r["state"] == "overdue"]
    due = [r for r in data.reminder_items if r["state"] == "due"]
    days = unsynced_days(row["last_pull_seconds"], now)
    return {"device_id": row["device_id"], "label": row["label"] or row["device_id"],
            "urgent": urgent, "discuss": discuss, "overdue": overdue, "due": due,
            "flags": data.flag_items, "last_pull": row["last_pull"], "unsynced_days": days}


def attention_key(patient):
    days = patient["unsynced_days"]
    return (-len(patient["urgent"]), -len(patient["overdue"]), -len(patient["discuss"]), -len(patient["due"]),
            -(days if days is not None else 10 ** 6), patient["label"].upper())


def overview(db, today=None, now=None):
    with _open(db) as host:
        patients = [_summary(row, data, now) for row, data in worklist_rows(host, today)]
    return sorted(patients, key=attention_key)


def patient(db, device_id, today=None):
    with _open(db) as host:
        info = host.device(device_id)
        if info is None or host.is_archive(device_id):
            return None
        data = report.gather(host, device_id, today)
        entries = list(entry_rows(host, device_id))
    last = info["last_pull"]
    return {"device_id": device_id, "label": info["label"] or device_id, "data": data, "entries": entries,
            "last_pull": time.strftime("%Y-%m-%d %H:%M", time.localtime(last)) if last else None,
            "flags": data.flag_items, "reminders": data.reminder_items}


def report_html(db, device_id, today=None):
    with _open(db) as host:
        return report.html_report(report.gather(host, device_id, today))


def report_png(db, device_id, today=None):
    with _open(db) as host:
        return report.png_bytes(report.gather(host, device_id, today), with_summary=False)


EXPORT_TYPES = {"csv": ("text/csv", "csv"), "json": ("application/json", "json"),
                "fhir": ("application/fhir+json", "fhir.json"), "history": ("application/json", "history.json")}


def export(db, device_id, fmt):
    from host_tools.cmd_export import WRITERS

    out = io.StringIO()
    with _open(db) as host:
        WRITERS[fmt](host, device_id, out)
    media, suffix = EXPORT_TYPES[fmt]
    return out.getvalue(), media, suffix
