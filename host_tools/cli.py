"""The `e2mon` command: one click group; each command lives in its own module."""
import click

from host_tools.settings import global_options, make_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="e2mon")
@global_options
@click.pass_context
def cli(ctx, sim, port, as_json, db_path):
    """e2mon: the clinician's and patient's tool for the e2mon monitor."""
    make_settings(ctx, sim, port, as_json, db_path)


def _register():
    # Each module defines click commands and adds them with `register(cli)`.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module("host_tools." + name).register(cli)


# Command modules, one job each; add yours here.
COMMAND_MODULES = [
    "cmd_evaluate",
    "cmd_deploy",
    "cmd_export",
    "cmd_device",
    "cmd_update",
]


def main(argv=None):
    _register()
    cli.main(args=argv, prog_name="e2mon")
