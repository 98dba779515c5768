"""The global options of `e2mon` (--sim, --port, --json, --db) and output helpers.

`global_options` decorates the click group in cli.py and puts a `Settings` in
`ctx.obj`; commands get it with `@pass_settings`. `emit(settings, data, text)`
prints either JSON (for scripts) or the human text.
"""
import json
import os

import click


class Settings:
    def __init__(self, sim=False, port=None, as_json=False, db_path=None, sim_transport=None):
        self.sim = sim
        self.port = port
        self.as_json = as_json
        self.db_path = db_path
        self.sim_transport = sim_transport

    def open_db(self):
        from host_tools.db import HostDB

        return HostDB(self.db_path_shown())

    def db_path_shown(self):
        from host_tools.db import HostDB

        return self.db_path or HostDB.default_path()


def global_options(fn):
    fn = click.option("--db", "db_path", metavar="FILE", envvar="E2MON_DB",
                      help="Host database file (default: ~/.local/share/e2mon/e2mon.sqlite).")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(fn)
    fn = click.option("--port", metavar="PORT", help="USB serial port of the device (e.g. /dev/ttyUSB0).")(fn)
    fn = click.option("--sim", is_flag=True,
                      help="Talk to the simulator (`python -m sim serve`) over bumble's TCP link.")(fn)
    return fn


def make_settings(ctx, sim, port, as_json, db_path):
    ctx.obj = Settings(sim=sim, port=port, as_json=as_json, db_path=db_path,
                       sim_transport=os.environ.get("E2MON_SIM_TRANSPORT"))
    return ctx.obj


def pass_settings(fn):
    return click.make_pass_decorator(Settings, ensure=True)(fn)


def emit(settings, data, text):
    """Prints data as JSON with --json, else the human text (a string or list of lines)."""
    if settings.as_json:
        click.echo(json.dumps(data, indent=1, sort_keys=True, default=_jsonable))
    else:
        if isinstance(text, (list, tuple)):
            text = "\n".join(text)
        if text:
            click.echo(text)


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    raise TypeError("not JSON serialisable: %r" % (value,))


def pick_device(db, device_id):
    """The device to work on: the one named, or the only one in the database."""
    from host_tools.failures import EXIT_NOT_FOUND, Failure

    known = db.devices()
    if device_id:
        if device_id not in known:
            raise Failure("device %s is not in the host database %s" % (device_id, db.path),
                          "run e2mon pull first (known: %s)" % (", ".join(known) or "none"), EXIT_NOT_FOUND)
        return device_id
    if len(known) == 1:
        return known[0]
    if not known:
        raise Failure("the host database %s holds no device yet" % db.path, "run e2mon pull first",
                      EXIT_NOT_FOUND)
    raise Failure("the host database holds several devices (%s)" % ", ".join(known),
                  "name one with --device ID", EXIT_NOT_FOUND)


def port_option(fn):
    """`--port` on a USB command itself (`e2mon deploy --port P`), same as the global `e2mon --port P deploy`."""
    return click.option("--port", "local_port", metavar="PORT", help="USB serial port (same as the global --port).")(fn)


def use_port(settings, local_port):
    if local_port:
        settings.port = local_port
    return settings.port
