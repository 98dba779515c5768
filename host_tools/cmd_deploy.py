"""`e2mon deploy`: compile firmware/ for the board with mpy-cross and copy it with mpremote."""
import os
import shlex
import subprocess

import click

from host_tools import deploy
from host_tools.failures import EXIT_LINK, EXIT_REJECTED, Failure, reported
from host_tools.settings import emit, pass_settings, use_port


@click.command("deploy")
@click.option("--board", type=click.Choice(sorted(deploy.BOARD_ARCH)),
              help="Board type (default: ask the board over --port).")
@click.option("--dry-run", is_flag=True, help="Compile and print the mpremote command without running it.")
@click.option("--romfs", is_flag=True,
              help="Write the modules as a ROMFS image into the board's ROMFS partition (MicroPython >= 1.25 "
                   "built with ROMFS): they run from flash instead of the heap. Only main.py goes on the "
                   "filesystem.")
@click.option("--publisher-key", type=click.Path(dir_okay=False), metavar="NAME.pub",
              help="The publisher's public key (e2mon release keygen): the device then accepts updates over "
                   "BLE signed with it (e2mon update).")
@pass_settings
@reported
def deploy_cmd(settings, board, dry_run, romfs, publisher_key=None):
    """Compile the firmware for the board and copy it over USB (--port)."""
    port = use_port(settings)
    if publisher_key and not os.path.isfile(publisher_key):
        raise FileNotFoundError(2, "no such file", publisher_key)   # the one code for a missing input file
    if not port and not (dry_run and board):
        raise Failure("no USB port given", "pass --port PORT, e.g. e2mon --port /dev/ttyUSB0 deploy",
                      EXIT_REJECTED)
    try:
        if board is None:
            board = deploy.detect_board(port)
        stage_dir, argv = deploy.deploy(board, port or "PORT", run=None if dry_run else subprocess.run,
                                        romfs=romfs, publisher_key=publisher_key)
    except deploy.CompileError as exc:
        raise Failure(str(exc), "check the board is connected and running MicroPython", EXIT_LINK) from None
    except subprocess.TimeoutExpired:
        raise Failure("the board on %s did not answer" % port,
                      "press its reset button (hold a button for safe mode) and retry", EXIT_LINK) from None
    data = {"board": board, "arch": deploy.BOARD_ARCH[board], "staged": stage_dir,
            "command": argv, "ran": not dry_run}
    lines = [("would run (in %s): %s" % (stage_dir, shlex.join(argv))) if dry_run
             else "deployed to %s (%s, %s)" % (port, board, deploy.BOARD_ARCH[board])]
    if romfs:
        data["romfs"] = deploy.image_path(stage_dir)
        data["romfs_bytes"] = os.path.getsize(data["romfs"])
        lines.append("ROMFS image %s: %d bytes" % (data["romfs"], data["romfs_bytes"]))
    emit(settings, data, lines)


def register(cli):
    cli.add_command(deploy_cmd)
