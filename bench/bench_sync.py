"""Sync figures, measured on the firmware's BleService over the sim's bumble link through bleak's API.

- sync_notifications_10k: ATT notifications + the completion indication to pull 10,000 records (MTU 247).
- sync_att_bytes_10k: ATT PDU bytes of those (3-byte ATT header + value each).
- sync_payload_efficiency: record bytes / ATT payload (value) bytes of the pull; goal >= 0.90.
  Per notification: 14 records (224 B) + frame counter (4 B) + 96-bit tag (12 B) = 240 of 244 B.
- sync_round_trips_incremental_10: request/response exchanges to fetch 10 new records on a fresh
  connection: session open (2) + pull ">= last + 1" (1) + acknowledge (1).
- sync_modelled_s_10k: MTU 247 with Data Length Extension (one 251-byte LL PDU per notification),
  7.5 ms connection interval, 3 notifications per connection event (each ~2.1 ms of air time at the
  LE 1M PHY plus the peer's empty ack and two 150 us inter-frame spaces: 3 fit in 7.5 ms), plus two
  connection intervals per request/response round trip of the pull.
- sync_link_limited_s_10k: the same ATT bytes at the LE 1M PHY's raw 1 Mbit/s.
- chaos_runs / chaos_duplicates / chaos_gaps: pulls cut by forced disconnects at random points and
  resumed from ">= last + 1" (tests/sync_fixtures.chaos_campaign), host copy checked against the log.
"""
import asyncio
import math
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import sync_fixtures as fx  # noqa: E402
from monitor import protocol, records  # noqa: E402

MTU = 247
CONNECTION_INTERVAL_S = 0.0075
NOTIFICATIONS_PER_EVENT = 3
LE_1M_BITS_PER_S = 1_000_000
CHAOS_RUNS = 200


async def _pull_10k():
    app = fx.SyncApp(tempfile.mkdtemp(prefix="e2mon-bench-"))
    fx.fill(app, 10_000)
    async with fx.device_and_link(app) as (link, service):
        async with fx.session(link, mtu=MTU) as dl:
            got = []
            notifications, value_bytes = service.notifications, service.att_bytes
            result = await dl.pull(0, got.extend)
            assert result.count == 10_000 and got == fx.device_log(app)
            notifications = service.notifications - notifications
            value_bytes = service.att_bytes - value_bytes
            await dl.acknowledge(result.last_seq)
        fx.fill(app, 10)
        async with fx.session(link, mtu=MTU) as dl:
            more = await dl.pull(result.last_seq + 1, got.extend)
            assert more.count == 10
            await dl.acknowledge(more.last_seq)
            round_trips = dl.round_trips
    return notifications, value_bytes, round_trips


def run():
    notifications, value_bytes, round_trips = asyncio.run(_pull_10k())
    att_bytes = value_bytes + protocol.ATT_HEADER * notifications
    record_bytes = 10_000 * records.RECORD_SIZE
    events = math.ceil(notifications / NOTIFICATIONS_PER_EVENT)
    modelled = (events + 2) * CONNECTION_INTERVAL_S     # + one round trip to start the pull
    chaos = asyncio.run(fx.chaos_campaign(CHAOS_RUNS, seed=7))
    if chaos["mismatched"]:
        raise AssertionError("chaos: host copy differs from the device log in %d records" % chaos["mismatched"])
    return {
        "sync_notifications_10k": notifications,
        "sync_att_bytes_10k": att_bytes,
        "sync_payload_efficiency": round(record_bytes / value_bytes, 4),
        "sync_round_trips_incremental_10": round_trips,
        "sync_modelled_s_10k": round(modelled, 3),
        "sync_link_limited_s_10k": round(att_bytes * 8 / LE_1M_BITS_PER_S, 3),
        "chaos_runs": chaos["runs"],
        "chaos_duplicates": chaos["duplicates"],
        "chaos_gaps": chaos["gaps"],
    }
