"""What checking the host database costs: SQLite's quick check, which every e2mon command runs when it
opens the file, and the full integrity check that backup, pull, export, report and `e2mon db check` run,
on a 100,000-record database (bench_host's therapy log), as milliseconds per 10,000 records."""
import os
import tempfile
import time

from bench.bench_host import N_RECORDS, therapy_log

REPEATS = 5


def _best_ms(fn):
    best = None
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - start) * 1000
        best = elapsed if best is None else min(best, elapsed)
    return best


def run():
    from host_tools.db import HostDB

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.sqlite")
        with HostDB(path) as db:
            db.ensure_device("bench")
            db.store_records("bench", therapy_log())
        with HostDB(path, create=False) as db:
            quick = _best_ms(lambda: db.check(full=False))
            full = _best_ms(db.check)
        opening = _best_ms(lambda: HostDB(path, create=False).close())
    per_10k = 10_000 / N_RECORDS
    return {"db_quick_check_ms_per_10k_records": round(quick * per_10k, 2),
            "db_integrity_check_ms_per_10k_records": round(full * per_10k, 2),
            "db_open_with_quick_check_ms_100k_records": round(opening, 1)}
