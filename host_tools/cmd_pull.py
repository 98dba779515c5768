"""`e2mon pull`: the device's log into the host database, incremental and resumable; what was stored is
acknowledged so the device can free it."""
import click

from host_tools import audit, connect, untrusted
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
    with settings.open_db(create=True) as db:
        db.check()   # records are never added to a damaged file (the device would then free them)
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
    emit(settings, result, [summary(result, device_title(result["device_id"], label))] + notes(result))


def summary(result, title):
    """The pull in one line; the device's own sync marks (one per acknowledgement) are not news."""
    if not result["new_entries"]:
        return "%s: nothing new (%d records on this host), %.1f s" % (title, result["total_on_host"], result["seconds"])
    return "%s: stored %d new record%s (%d on this host), acknowledged up to record %d, %.1f s" % (
        title, result["new"], "" if result["new"] == 1 else "s", result["total_on_host"], result["acknowledged"],
        result["seconds"])


def _kept_text(kept):
    """What an interrupted pull kept, in words (whole, verified records are stored as they arrive)."""
    if "device_id" not in kept:
        return "nothing was stored yet"
    return "the %d new records received before were kept (%d from %s on this host)" % (
        kept["new"], kept["total"], kept["device_id"])


async def pull_into(settings, db, device, progress_out=None, kept=None):
    """Pulls every record the host lacks; stores in batches (each a transaction); returns a summary.
    `kept` (a dict) follows what is stored as it goes: device_id, new, total."""
    from host_tools import host_crypto

    async with connect.session(settings, device, "clinician") as (link, device_id):
        # The session just proved the device holds this key: its history is bound to it, and one stored
        # under another key (provisioned again, on any computer, or another device) is filed apart.
        key_id = host_crypto.key_fingerprint(connect.load_role_key(device_id, "clinician"))
        return await pull_over(link, device_id, key_id, db, progress_out, kept)


async def pull_over(link, device_id, key_id, db, progress_out=None, kept=None):
    """The pull on an open session (a DeviceLink whose handshake proved the key `key_id` names): what
    pull_into does once connected, and what bench/bench_clinic.py runs 20 times at once."""
    kept = {} if kept is None else kept
    held_before = db.count(device_id)
    filed_apart = db.bind_key(device_id, key_id)
    firmware = await _firmware(getattr(link, "client", None))
    db.ensure_device(device_id, firmware=firmware)
    start = db.next_seq(device_id)
    total = await link.count(start)
    # The newest record this host holds is asked for again when the device still has it: a device whose
    # log is another one under the same key (a cloned key file) sends other content there, and
    # store_records refuses the batch (RecordConflict) before anything of that log is mixed in.
    overlap = start > 0 and await link.count(start - 1) > total
    if total == 0 and start > 0 and not overlap:
        # The device no longer has the newest record this host stored: its numbering went back.
        raise Failure("device %s has no record %d although this host stored it (was the device reset or "
                      "replaced?)" % (device_id, start - 1),
                      "pull it into a separate database (e2mon --db NEW.sqlite pull)", EXIT_STORAGE)
    progress = Progress(total + overlap, out=progress_out)
    pending = []
    stored = [0]

    def flush():
        if pending:
            stored[0] += db.store_records(device_id, pending)
            pending.clear()
            kept.update(device_id=device_id, new=stored[0], total=db.count(device_id))

    substantive = [0]   # new records other than the device's own sync marks
    unknown = [0]       # new records whose code this host does not know (stored as received)
    gaps = []           # (first, last) record numbers the device no longer had
    expected = [start or None]   # a first pull has nothing before to miss

    def on_batch(batch):
        for record in batch:
            if expected[0] is not None and record[0] > expected[0]:
                gaps.append((expected[0], record[0] - 1))
            expected[0] = max(expected[0] or 0, record[0] + 1)
        pending.extend(batch)
        substantive[0] += sum(1 for r in batch if r[0] >= start and not _is_sync_mark(r))
        unknown[0] += unknown_codes(batch, start)
        progress.advance(len(batch))
        if len(pending) >= STORE_BATCH:
            flush()

    try:
        await link.pull(start - 1 if overlap else start, on_batch)
    finally:
        # Whole, verified records received before an interruption are kept: a rerun resumes after them.
        flush()
        elapsed = progress.finish()
    try:
        db.set_profile(device_id, await link.get_profile())   # once the log is known to be this device's
    except Exception as exc:  # noqa: BLE001 - the report falls back to default bands
        failure = connect.link_failure(exc, "reading the profile")
        if failure is not None and failure.exit_code == EXIT_LINK:
            raise failure from exc
    last = db.next_seq(device_id) - 1
    acknowledged = None
    db.audit(audit.PULL, device_id, "%d new records (%d on this host)%s" % (
        stored[0], db.count(device_id), "; gaps %s" % gaps if gaps else ""))
    # Each acknowledgement logs a sync mark on the device: acknowledging only marks would never settle.
    if last >= 0 and substantive[0]:
        await link.acknowledge(last)
        acknowledged = last
        db.audit(audit.ACKNOWLEDGE, device_id, "up to record %d" % last)
    return {"device_id": device_id, "new": stored[0], "total_on_host": db.count(device_id),
            "acknowledged": acknowledged, "seconds": round(elapsed, 3), "firmware": firmware,
            "new_entries": substantive[0],
            "filed_apart": filed_apart and {"as": filed_apart, "records": held_before}, "gaps": gaps,
            "unknown_codes": unknown[0]}


def notes(result):
    """What a pull found that a clinician must know, in words: a history filed apart, missing records."""
    lines = []
    if result.get("filed_apart"):
        lines.append("%s presents another key than the %d records this host held for it (provisioned again, here "
                     "or on another computer, or another device under the same id): those are kept apart as "
                     "device %s; this pull starts a new log" % (result["device_id"], result["filed_apart"]["records"],
                                                                result["filed_apart"]["as"]))
    for first, last in result.get("gaps") or ():
        span = "record %d" % first if first == last else "records %d to %d (%d records)" % (first, last,
                                                                                           last - first + 1)
        lines.append("%s %s not on the device any more and %s not on this host (freed after another computer "
                     "pulled %s, or lost): this host's copy of %s has a gap there"
                     % (span, "was" if first == last else "were", "is" if first == last else "are",
                        "it" if first == last else "them", result["device_id"]))
    count = result.get("unknown_codes") or 0
    if count:
        lines.append("%d new record%s with codes this version of e2mon does not know (written by newer "
                     "firmware?): stored as received, exported with their raw values; update e2mon"
                     % (count, "" if count == 1 else "s"))
    return lines


def unknown_codes(batch, start):
    """How many records of a pulled batch, from record `start` on, carry a code this host does not know."""
    from host_tools.export import known
    return sum(1 for r in batch if r[0] >= start and not known(r[3], r[4]))


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
