"""`e2mon deploy`: compile firmware/ for the board with mpy-cross and copy it with mpremote."""
import subprocess

import click

from host_tools import deploy
from host_tools.failures import EXIT_LINK, EXIT_REJECTED, Failure, reported
from host_tools.settings import emit, pass_settings, port_option, use_port


@click.command("deploy")
@click.option("--board", type=click.Choice(sorted(deploy.BOARD_ARCH)),
              help="Board type (default: ask the board over --port).")
@click.option("--dry-run", is_flag=True, help="Compile and print the mpremote command without running it.")
@port_option
@pass_settings
@reported
def deploy_cmd(settings, board, dry_run, local_port):
    """Compile the firmware for the board and copy it over USB (--port)."""
    port = use_port(settings, local_port)
    if not port and not (dry_run and board):
        raise Failure("no USB port given", "pass --port PORT, e.g. e2mon --port /dev/ttyUSB0 deploy",
                      EXIT_REJECTED)
    try:
        if board is None:
            board = deploy.detect_board(port)
        if dry_run:
            stage_dir = deploy.stage(board)
            argv = deploy.mpremote_command(port or "PORT", stage_dir)
        else:
            stage_dir, argv = deploy.deploy(board, port)
    except deploy.CompileError as exc:
        raise Failure(str(exc), "check the board is connected and running MicroPython", EXIT_LINK) from None
    except subprocess.TimeoutExpired:
        raise Failure("the board on %s did not answer" % port,
                      "press its reset button (hold a button for safe mode) and retry", EXIT_LINK) from None
    command = " ".join(argv)
    emit(settings, {"board": board, "arch": deploy.BOARD_ARCH[board], "staged": stage_dir,
                    "command": argv, "ran": not dry_run},
         ("would run (in %s): %s" % (stage_dir, command)) if dry_run
         else "deployed to %s (%s, %s)" % (port, board, deploy.BOARD_ARCH[board]))


def register(cli):
    cli.add_command(deploy_cmd)
