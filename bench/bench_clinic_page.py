"""What the clinic page's overview costs: every patient's log replayed through the tracker on each request
(cmd_alerts.worklist_rows, as `alerts --all`), for a clinic of 30 patients (the three simulated courses, ten
devices each), as milliseconds per patient and per 1,000 records; and a login's time, mostly the argon2id check (what
makes guessing slow)."""
import os
import tempfile
import time

PATIENTS = 30
REPEATS = 3
COURSES = ("trt_oversuppressed", "fertility_16wk", "dexa_long_term")


def _best_s(fn):
    best = None
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def run():
    from host_tools import clinic_auth, clinic_view
    from host_tools.db import HostDB
    from monitor import dates
    from sim.scenario import course_records, load, profile_blob, scenario_path

    t = time.gmtime()
    today = dates.days_from_civil(t.tm_year, t.tm_mon, t.tm_mday)
    records = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "clinic.sqlite")
        with HostDB(path) as db:
            for i in range(PATIENTS):
                scenario = load(scenario_path(COURSES[i % len(COURSES)]))
                rows = course_records(scenario, today - scenario["days"] - i)
                device_id = "C0:E2:00:00:03:%02X" % i
                db.ensure_device(device_id)
                db.set_profile(device_id, profile_blob(scenario.get("profile", {})))
                db.store_records(device_id, rows)
                records += len(rows)
        overview = _best_s(lambda: clinic_view.overview(path))
        clinic_auth.add_user(path, "bench", "bench password 1")
        login = _best_s(lambda: clinic_auth.login(path, "bench", "bench password 1"))
    return {"clinic_overview_ms_per_patient": round(overview * 1000 / PATIENTS, 2),
            "clinic_overview_ms_per_1k_records": round(overview * 1000 * 1000 / records, 2),
            "clinic_login_ms": round(login * 1000, 1)}

