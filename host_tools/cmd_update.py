"""`e2mon release keygen|build` (the publisher) and `e2mon update BUNDLE [DEVICE]` (a clinician, over BLE).

An update goes in a clinician session, in chunks the device writes to flash before it answers; a dropped link
is resumed from the last chunk stored (here up to RESUME_TRIES times, or by running the command again). The
device checks the publisher's signature and every hash, stages the bundle beside the running version and
restarts into it once the host has gone; the new version confirms itself with its first accepted session,
which this command opens, and the device says which version runs and why.
"""
import asyncio
import os
import time

import click

from host_tools import audit, connect, release
from host_tools.device_command import device_argument, run
from host_tools.device_link import DeviceError
from host_tools.failures import EXIT_LINK, EXIT_REJECTED, EXIT_STORAGE, Failure, reported
from host_tools.progress import Progress
from host_tools.settings import emit, pass_settings
from monitor import protocol, protocol_host, protocol_text

RESUME_TRIES = 3
RESTART_WAIT_S = 60.0


@click.group("release")
def release_group():
    """Publisher: the signing key and signed update bundles."""


@release_group.command("keygen")
@click.argument("name", metavar="NAME")
@click.option("--height", type=click.Choice(["5", "10", "15"]), default="10", show_default=True,
              help="Merkle tree height: 2^height releases can be signed with this key.")
@pass_settings
@reported
def keygen_cmd(settings, name, height):
    """Create the publisher key pair NAME.prv and NAME.pub.

    Keep NAME.prv secret and never copy it back from a backup: each signature uses up one of its one-time keys."""
    try:
        pub = release.keygen(name, int(height))
    except release.ReleaseError as exc:
        raise Failure(str(exc), "pick another NAME", EXIT_REJECTED) from None
    emit(settings, {"public_key": pub, "releases": 2 ** int(height)},
         "publisher key %s.prv created (%d releases); deploy devices with --publisher-key %s"
         % (name, 2 ** int(height), pub))


@release_group.command("build")
@click.option("--board", type=click.Choice(sorted(release.TARGETS)), required=True)
@click.option("--version", "version", required=True, help="What the device shows, e.g. 1.2.0.")
@click.option("--sequence", type=int, required=True,
              help="Release number: higher than every earlier release (devices refuse a lower one).")
@click.option("--floor", type=int, default=0, show_default=True,
              help="Anti-rollback floor: once this release is confirmed, the device refuses every release with a "
                   "lower sequence, --allow-downgrade or not (withdraws releases with a flaw).")
@click.option("--key", "key_name", required=True, metavar="NAME", help="The publisher key (NAME.prv).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@pass_settings
@reported
def build_cmd(settings, board, version, sequence, floor, key_name, out_path):
    """Build a signed update bundle for a board.

    The firmware is compiled as e2mon deploy compiles it and signed with the publisher key."""
    if not os.path.exists(key_name + ".prv"):
        raise Failure("file not found: %s.prv (the publisher key)" % key_name,   # a missing input file: storage
                      "check the path, or create a key with e2mon release keygen NAME", EXIT_STORAGE)
    try:
        info = release.build(board, version, sequence, key_name, out_path, floor=floor)
    except release.ReleaseError as exc:
        raise Failure(str(exc), "check the options", EXIT_REJECTED) from None
    emit(settings, info, "bundle %s: %s for %s, %d files, %d bytes (header %d); %d signatures left on the key"
         % (out_path, version, info["board"], info["files"], info["bytes"], info["header_bytes"],
            info["signatures_left"]))


@click.command("update")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(dir_okay=False))
@device_argument
@click.option("--allow-downgrade", is_flag=True, help="Install a release older than the running one (logged).")
@pass_settings
@reported
def update_cmd(settings, bundle_path, device, allow_downgrade):
    """Send a signed update bundle to the device over BLE; it restarts into it and confirms it."""
    try:
        data, header_size, manifest = release.read_bundle(bundle_path)
    except release.ReleaseError as exc:
        raise Failure(str(exc), "build it with e2mon release build", EXIT_REJECTED) from None
    result = run(update(settings, device, data, header_size, manifest, allow_downgrade), "updating")
    lines = []
    if result["downgrade"]:
        lines.append("downgrade from %s to %s allowed (--allow-downgrade; the device logged it)"
                     % (result["before"], manifest.version))
    if result["resumed_from"]:
        lines.append("resumed from byte %d stored on the device" % result["resumed_from"])
    lines.append(outcome_line(result, manifest.version))
    _record_firmware(settings, result)
    emit(settings, result, lines)
    if result["running"] != manifest.version:
        raise Failure("the update to %s did not stay: %s" % (manifest.version, result["outcome_text"]),
                      "the device runs its previous version; " + _not_kept_todo(result["outcome"]), EXIT_REJECTED)


def outcome_line(result, version):
    """What the device runs after an update, in words: a version it already ran is not news."""
    if result["before"] == version == result["running"]:
        return "device %s already ran %s: it runs %s still, nothing changed" % (result["device_id"], version,
                                                                                version)
    return "device %s runs %s: %s" % (result["device_id"], result["running"], result["outcome_text"])


def _not_kept_todo(outcome):
    if outcome == protocol_host.UPDATE_NOT_CONFIRMED:
        return ("the bundle was fine: the device restarted (a power cut or reset) before the new version "
                "confirmed itself; keep it powered and run e2mon update again")
    if outcome == protocol_host.UPDATE_SELFTEST_FAILED:
        return ("the bundle arrived whole and signed, but the new version failed its self-test on this device; "
                "keep the previous version and report it to the publisher")
    return "check the bundle and retry"


def _record_firmware(settings, result):
    # `devices` then shows the version the device runs now, not the one before the update.
    if settings.db_exists():
        with settings.open_db() as db:
            if db.device(result["device_id"]) is not None:
                db.ensure_device(result["device_id"], firmware=result["running"])
            db.audit(audit.FIRMWARE, result["device_id"], "from %s to %s: %s" % (
                result.get("before"), result["running"], result.get("outcome_text")))


async def update(settings, device, data, header_size, manifest, allow_downgrade=False, progress_out=None):
    progress = Progress(len(data), out=progress_out, unit="bytes", rate_unit="B")
    sent = {"resumed_from": 0, "downgrade": False, "before": None}
    for attempt in range(RESUME_TRIES):
        try:
            async with connect.session(settings, device, "clinician") as (link, device_id):
                status = await link.update_status()
                if sent["before"] is None:
                    sent["before"] = status.version
                    sent["downgrade"] = manifest.sequence < status.sequence and allow_downgrade

                def on_progress(offset, _total):
                    progress.advance(offset - progress.done)

                started = await link.update_send(data, header_size, allow_downgrade, on_progress)
                if attempt or started:
                    sent["resumed_from"] = started
                break
        except Failure as failure:
            if failure.exit_code != EXIT_LINK or attempt + 1 == RESUME_TRIES:
                raise
        except DeviceError as exc:
            raise _refusal(exc) from None
        except Exception as exc:
            failure = connect.link_failure(exc, "sending the update")
            if failure is None:
                raise
            if failure.exit_code != EXIT_LINK or attempt + 1 == RESUME_TRIES:
                raise failure from exc
        await asyncio.sleep(0.5)    # then reconnect and resume from what the device stored
    progress.finish()
    # The device restarts into the new version once we have gone; its first session confirms it.
    info, device_id = await _after_restart(settings, device, manifest.version)
    return {"device_id": device_id, "running": info.version, "sequence": info.sequence,
            "outcome": info.outcome, "outcome_text": protocol_host.UPDATE_OUTCOME_TEXT.get(info.outcome, "?"),
            "note": info.note, "bytes": len(data), **sent}


def _refusal(exc):
    code = getattr(exc, "code", None)
    todo = {
        protocol.ERR_UPDATE_SIGNATURE: "use a bundle signed by this device's publisher",
        protocol.ERR_UPDATE_HASH: "the bundle was altered or damaged: build or download it again",
        protocol.ERR_UPDATE_OLDER: "pass --allow-downgrade if you mean to go back",
        protocol.ERR_UPDATE_FLOOR: "the publisher withdrew releases below the device's floor; "
                                   "--allow-downgrade cannot pass it (only a redeploy over USB can)",
        protocol.ERR_UPDATE_BOARD: "build the bundle for this device's board (e2mon release build --board)",
        protocol.ERR_UPDATE_SPACE: "pull and acknowledge the log, then retry",
        protocol.ERR_UPDATE_NO_KEY: "redeploy over USB with --publisher-key",
    }.get(code, "check the bundle")
    return Failure("the device refused the update: %s" % protocol_text.error_text(code), todo, EXIT_REJECTED)


async def _after_restart(settings, device, version):
    deadline = time.monotonic() + RESTART_WAIT_S
    await asyncio.sleep(1.0)
    while True:
        try:
            async with connect.session(settings, device, "clinician") as (link, device_id):
                info = await link.update_status()
            if info.outcome != protocol_host.UPDATE_STAGED:   # else the device has not restarted yet
                return info, device_id
        except Failure as failure:
            if failure.exit_code == EXIT_REJECTED or time.monotonic() > deadline:
                raise
        except Exception as exc:  # noqa: BLE001 - the device is restarting: the link comes and goes
            if time.monotonic() > deadline:
                failure = connect.link_failure(exc, "waiting for the device to restart")
                raise (failure or exc) from exc
        if time.monotonic() > deadline:
            raise Failure("the device did not come back with the update in %d s" % RESTART_WAIT_S,
                          "wake it and run e2mon update again (it resumes)", EXIT_LINK)
        await asyncio.sleep(1.0)


def register(cli):
    cli.add_command(release_group)
    cli.add_command(update_cmd)
