"""A host database with the three simulated courses (sim/scenarios), each as a pulled device with its label
and profile, the course ending `ended_days_ago` before today."""
import time

from host_tools.db import HostDB
from host_tools.schema import devices
from monitor import dates
from sim.scenario import course_records, load, profile_blob, scenario_path

# label, device id, scenario, days between the course's last day and today, days since its last pull
PATIENTS = (
    ("patient fertility", "C0:E2:00:00:01:01", "fertility_16wk", 0, 1),
    ("patient TRT", "C0:E2:00:00:01:02", "trt_oversuppressed", 0, 9),
    ("patient bone", "C0:E2:00:00:01:03", "dexa_long_term", 0, 3),
)


def store_course(db, device_id, name, ended_days_ago=0):
    scenario = load(scenario_path(name))
    t = time.gmtime()
    first = dates.days_from_civil(t.tm_year, t.tm_mon, t.tm_mday) - ended_days_ago - scenario["days"]
    rows = course_records(scenario, first)
    db.ensure_device(device_id, name="e2mon")
    db.set_profile(device_id, profile_blob(scenario.get("profile", {})))
    db.store_records(device_id, rows)
    return len(rows)


def three_patients(db_path):
    """db_path: a SQLite path or a database URL (PostgreSQL)."""
    with HostDB(str(db_path)) as db:
        for label, device_id, name, ended, _pulled_days_ago in PATIENTS:
            store_course(db, device_id, name, ended)
            db.set_label(device_id, label)
        # each one's last pull some days ago (no public setter: a pull stamps it), in the table itself
        with db.transaction() as conn:
            for _label, device_id, _name, _ended, pulled_days_ago in PATIENTS:
                conn.execute(devices.update().where(devices.c.device_id == device_id)
                             .values(last_pull=int(time.time()) - pulled_days_ago * 86400 - 60))
    return db_path
