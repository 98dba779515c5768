"""`e2mon pull`: the device's log into the host database, incremental and resumable; what was stored is
acknowledged so the device can free it."""
import click

from host_tools import connect, untrusted
from host_tools.device_command import device_argument, run
from host_tools.failures import EXIT_INTERRUPTED, EXIT_LINK, EXIT_STORAGE, Failure, reported
from host_tools.progress import Progress
from host_tools.settings import device_title, emit, pass_settings
from monitor import protocol, protocol_host, records

STORE_BATCH = 2000      # records per host transaction during a pull


@click.command("pull")
@device_argument
@pass_settings
@reported
def pull_cmd(settings, device):
    """Incremental, resumable pull of the device's log into the host database; acknowledges what was stored."""
    from host_tools.db import RecordConflict

    kept = {"new": 0}
    with settings.open_db() as db:
        try:
            result = run(pull_into(settings, db, device, kept=kept), "pulling")
        except RecordConflict as exc:
            raise Failure("device %s sent record %d with other content than this host stored for it (was the "
                          "device reset or replaced?); that batch was not stored" % (exc.device_id, exc.seq),
                          "pull it into a separate database (e2mon --db NEW.sqlite pull) and compare",
                          EXIT_STORAGE) from None
        except KeyboardInterrupt:
            raise Failure("interrupted", "%s; rerun to continue" % _kept_text(kept), EXIT_INTERRUPTED) from None
        except Failure as failure:
            if "device_id" not in kept:
                raise
            raise Failure(failure.what, "%s; %s" % (_kept_text(kept), failure.todo[:1].lower() + failure.todo[1:]),
                          failure.exit_code) from None
        label = db.label(result["device_id"])
    result["label"] = label
    emit(settings, result, "%s: stored %d new records (%d on this host), acknowledged up to %s, %.1f s"
         % (device_title(result["device_id"], label), result["new"], result["total_on_host"],
            result["acknowledged"] if result["acknowledged"] is not None else "-", result["seconds"]))


def _kept_text(kept):
    """What an interrupted pull kept, in words (whole, verified records are stored as they arrive)."""
    if "device_id" not in kept:
        return "nothing was stored yet"
    return "the %d new records received before were kept (%d from %s on this host)" % (
        kept["new"], kept["total"], kept["device_id"])


async def pull_into(settings, db, device, progress_out=None, kept=None):
    """Pulls every record the host lacks; stores in batches (each a transaction); returns a summary.
    `kept` (a dict) follows what is stored as it goes: device_id, new, total."""
    kept = {} if kept is None else kept
    async with connect.session(settings, device, "clinician") as (link, device_id):
        firmware = await _firmware(link.client)
        db.ensure_device(device_id, firmware=firmware)
        try:
            db.set_profile(device_id, await link.get_profile())
        except Exception as exc:  # noqa: BLE001 - the report falls back to default bands
            failure = connect.link_failure(exc, "reading the profile")
            if failure is not None and failure.exit_code == EXIT_LINK:
                raise failure from exc
        start = db.next_seq(device_id)
        total = await link.count(start)
        if total == 0 and start > 0 and await link.count(start - 1) == 0:
            # The device no longer has the newest record this host stored: its numbering went back.
            raise Failure("device %s has no record %d although this host stored it (was the device reset or "
                          "replaced?)" % (device_id, start - 1),
                          "pull it into a separate database (e2mon --db NEW.sqlite pull)", EXIT_STORAGE)
        progress = Progress(total, out=progress_out)
        pending = []
        stored = [0]

        def flush():
            if pending:
                stored[0] += db.store_records(device_id, pending)
                pending.clear()
                kept.update(device_id=device_id, new=stored[0], total=db.count(device_id))

        substantive = [0]   # new records other than the device's own sync marks

        def on_batch(batch):
            pending.extend(batch)
            substantive[0] += sum(1 for r in batch if not _is_sync_mark(r))
            progress.advance(len(batch))
            if len(pending) >= STORE_BATCH:
                flush()

        try:
            await link.pull(start, on_batch)
        finally:
            # Whole, verified records received before an interruption are kept: a rerun resumes after them.
            flush()
            elapsed = progress.finish()
        last = db.next_seq(device_id) - 1
        acknowledged = None
        # Each acknowledgement logs a sync mark on the device: acknowledging only marks would never settle.
        if last >= 0 and substantive[0]:
            await link.acknowledge(last)
            acknowledged = last
    return {"device_id": device_id, "new": stored[0], "total_on_host": db.count(device_id),
            "acknowledged": acknowledged, "seconds": round(elapsed, 3), "firmware": firmware}


def _is_sync_mark(record):
    return record[3] == records.KIND_EVENT and record[4] == records.EVENT_SYNC_MARK


async def _firmware(client):
    read = getattr(client, "read_gatt_char", None)
    if read is None:
        return None
    try:
        return untrusted.device_text(await read(protocol_host.sig_uuid(protocol.DIS_FIRMWARE_REVISION)))
    except Exception:  # noqa: BLE001 - optional information
        return None


def register(cli):
    cli.add_command(pull_cmd)
