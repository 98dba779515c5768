"""The `e2mon` command: one click group; each command lives in its own module.

The group moves global options found after the subcommand to the front, prints every failure as one
line (JSON with --json), exits quietly when the reader of its output goes away (`| head`), and keeps
the Bluetooth libraries' logging off the terminal unless --verbose.
"""
import logging
import os
import sys

import click

from host_tools import failures
from host_tools.settings import GLOBAL_HELP, SummaryGroup, global_options, hoist_global_options, make_settings

EXIT_OUTPUT_CLOSED = 141   # 128 + SIGPIPE, what a tool killed by the closed pipe would return


class E2monGroup(SummaryGroup):
    def parse_args(self, ctx, args):
        args = hoist_global_options(list(args))
        if "--json" in args:
            failures.JSON_ERRORS[0] = True
        return super().parse_args(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        failures.JSON_ERRORS[0] = False
        if args is None:
            args = sys.argv[1:]
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except (failures.OutputClosed, BrokenPipeError):
            _quiet_exit()
        except click.ClickException as exc:
            if failures.JSON_ERRORS[0] and not isinstance(exc, failures.Failure):
                click.echo(failures.error_json(exc.format_message(), exc.exit_code), err=True)
            else:
                exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(failures.EXIT_INTERRUPTED)
        finally:
            _flush_or_quiet()
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _quiet_exit():
    # The reader closed the pipe: nothing more can be said; silence the interpreter's final flush too.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(EXIT_OUTPUT_CLOSED)


def _flush_or_quiet():
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_exit()
    except (OSError, ValueError):
        pass


def configure_logging(verbose):
    """Library log records (bumble's "!!!" lines, bleak's) reach stderr only with --verbose."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "e2mon", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()
    handler.e2mon = True
    root.addHandler(handler)
    for name in ("bumble", "bleak"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.CRITICAL + 1)
    if verbose:
        root.setLevel(logging.INFO)


@click.group(cls=E2monGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="%s\n\n\b\nExit codes (the same for the same failure in every command):\n%s"
             % (GLOBAL_HELP, failures.exit_code_help()))
@click.version_option(package_name="e2mon")
@global_options
@click.pass_context
def cli(ctx, sim, port, device, as_json, db_path, verbose):
    """e2mon: the clinician's and patient's tool for the e2mon monitor."""
    failures.JSON_ERRORS[0] = as_json
    configure_logging(verbose)
    make_settings(ctx, sim, port, device, as_json, db_path, verbose)


def _register():
    # Each module defines click commands and adds them with `register(cli)`.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module("host_tools." + name).register(cli)
    for command in cli.commands.values():
        _add_global_help(command)


def _add_global_help(command):
    if command.epilog is None:
        command.epilog = GLOBAL_HELP
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_global_help(sub)


# Command modules, one job each; add yours here.
COMMAND_MODULES = [
    "cmd_evaluate",
    "cmd_deploy",
    "cmd_export",
    "cmd_scan",
    "cmd_provision",
    "cmd_pull",
    "cmd_push",
    "cmd_entry",
    "cmd_time",
    "cmd_profile",
    "cmd_alerts",
    "cmd_database",
    "cmd_update",
    "cmd_audit",
    "cmd_clinic",
]


def main(argv=None):
    _register()
    cli.main(args=argv, prog_name="e2mon")
