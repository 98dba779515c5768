"""A clinic's shared PostgreSQL under load: 20 pulls at once, each of a device holding 2,000 records, into
one database (a throw-away cluster, bench/pg_cluster.py).

Each pull is its own process (as each clinician's e2mon is) and runs host_tools.cmd_pull.pull_over, the pull
`e2mon pull` makes once its session is open, on the firmware's BleService and store over bumble's in-process
radio (tests/sync_fixtures.py) with a real DeviceLink session: count, pull, store in STORE_BATCH
transactions, profile, audit, acknowledge. Only the scan and the connection set-up of `e2mon pull` are not
in it (the simulated radio gives every device the same address). All 20 start together (a barrier);

- clinic_pull_duplicates: records stored more than once (rows beyond the distinct (device, record number)
  pairs, plus new-record counts beyond the rows held); must be 0.
- clinic_pull_gaps: records a device held before its pull that the database lacks afterwards; must be 0.
- clinic_pull_records_per_s: records stored / seconds from the common start to the last pull's end.
"""
import multiprocessing
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

PULLS = 20
RECORDS = 2000
DEVICE_PREFIX = "C0:E2:00:00:10:"


def _pull_process(url, index, barrier, results):
    import sync_fixtures as fx

    from host_tools import host_crypto
    from host_tools.cmd_pull import pull_over
    from host_tools.db import HostDB

    device_id = "%s%02X" % (DEVICE_PREFIX, index)
    app = fx.SyncApp(tempfile.mkdtemp(prefix="e2mon-bench-clinic-"))
    fx.fill(app, RECORDS)
    held_by_device = [r[0] for r in fx.device_log(app)]   # before the pull (acknowledging adds a sync mark)
    key_id = host_crypto.key_fingerprint(host_crypto.role_key(fx.DEVICE_KEY, 1))

    async def pull():
        async with fx.device_and_link(app) as (link, _service):
            async with fx.session(link) as dl:
                with HostDB(url, create=False) as db:
                    barrier.wait()
                    started = time.monotonic()
                    result = await pull_over(dl, device_id, key_id, db)
                    return result, started, time.monotonic()

    try:
        result, started, ended = fx.run(pull(), timeout=600)
        results.put((index, result["new"], held_by_device, started, ended, None))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        barrier.abort()
        results.put((index, 0, [], 0, 0, repr(exc)))


def measure(url):
    from sqlalchemy import func, select

    from host_tools.db import HostDB
    from host_tools.schema import records

    HostDB(url).close()   # the schema, before 20 clinicians arrive
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PULLS)
    results = context.Queue()
    workers = [context.Process(target=_pull_process, args=(url, i, barrier, results)) for i in range(PULLS)]
    for w in workers:
        w.start()
    done = [results.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(60)
    failed = [d for d in done if d[5]]
    if failed:
        raise RuntimeError("pulls failed: %s" % failed[:3])
    with HostDB(url) as db:
        held = {d: {r[0] for r in db.records(d)} for d in db.devices()}
        with db.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(records)).scalar()
            distinct = conn.execute(select(func.count()).select_from(
                select(records.c.device_id, records.c.seq).distinct().subquery())).scalar()
    reported_new = sum(d[1] for d in done)
    device_records = sum(len(d[2]) for d in done)
    gaps = sum(len(set(d[2]) - held.get("%s%02X" % (DEVICE_PREFIX, d[0]), set())) for d in done)
    seconds = max(d[4] for d in done) - min(d[3] for d in done)
    return {"clinic_pull_duplicates": (rows - distinct) + max(0, reported_new - rows),
            "clinic_pull_gaps": gaps,
            "clinic_pull_records_per_s": round(device_records / seconds),
            "clinic_pull_concurrent": PULLS,
            "clinic_pull_records_each": RECORDS}


def run():
    from bench.pg_cluster import throwaway_cluster

    with throwaway_cluster() as cluster:
        return measure(cluster.url(cluster.new_database("e2mon_bench")))


if __name__ == "__main__":
    print(run())
