"""The global options of `e2mon` (--sim, --port, --device, --json, --db, --verbose) and output helpers.

`global_options` decorates the click group in cli.py and puts a `Settings` in
`ctx.obj`; commands get it with `@pass_settings`. `hoist_global_options(args)` moves them in front
of the subcommand, so they work before or after it (`e2mon pull --sim` = `e2mon --sim pull`).
`emit(settings, data, text)` prints either JSON (for scripts) or the human text.
"""
import json
import os

import click

# The global options as the command line spells them: flags, and options taking one value.
GLOBAL_FLAGS = ("--sim", "--json", "--verbose", "-v")
GLOBAL_VALUED = ("--port", "--db", "--device")
GLOBAL_HELP = ("Global options, before or after the command: --sim, --port PORT, --device ADDRESS, "
               "--json, --db FILE|URL, --verbose.")


def hoist_global_options(args):
    """The command line with every global option moved to the front (order otherwise kept)."""
    front, rest = [], []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        name = token.split("=", 1)[0]
        if token in GLOBAL_FLAGS:
            front.append(token)
        elif name in GLOBAL_VALUED and "=" in token:
            front.append(token)
        elif token in GLOBAL_VALUED and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 1
        else:
            rest.append(token)
        i += 1
    return front + rest


SUMMARY_LIMIT = 200   # characters of a command's summary in --help (click cuts at the width or at "e.g.")


def summary(command):
    """A command's one-line summary: its short_help, else the first paragraph of its help, whole."""
    if command.short_help:
        return command.short_help
    text = (command.help or "").strip().split("\n\n")[0]
    return " ".join(text.split())[:SUMMARY_LIMIT]


class SummaryGroup(click.Group):
    """A click group whose --help lists each command's whole summary."""

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class Settings:
    def __init__(self, sim=False, port=None, as_json=False, db_path=None, sim_transport=None, device=None,
                 verbose=False):
        self.sim = sim
        self.port = port
        self.as_json = as_json
        self.db_path = db_path
        self.sim_transport = sim_transport
        self.device = device
        self.verbose = verbose

    def open_db(self, create=False):
        """The host database; only `pull` and `e2mon db init` create it (a mistyped --db is named). What is
        changed through it is attributed (audit log) to this user, machine and clinician."""
        from host_tools.audit import Actor
        from host_tools.db import HostDB

        return HostDB(self.db_path_shown(), create=create, actor=Actor.here(self.clinician()))

    def audit(self, action, device_id=None, detail=None):
        """Appends an entry to the host database's audit log, when there is a database (a device command
        run before any pull has none to record in)."""
        from host_tools.db import DatabaseMissing

        if not self.db_exists():
            return
        try:
            with self.open_db() as db:
                db.audit(action, device_id, detail)
        except DatabaseMissing:
            return

    @staticmethod
    def clinician():
        """The clinician's name for the audit log: $E2MON_CLINICIAN, else the settings file's."""
        from host_tools import settings_file
        return os.environ.get("E2MON_CLINICIAN") or settings_file.load().get("clinician")

    def db_exists(self):
        """Whether there is a host database to open: a SQLite file, or a server database holding e2mon's
        tables (one that cannot be reached counts as there: opening it then says why)."""
        from host_tools import db_url
        target = self.db_path_shown()
        if not db_url.is_url(target):
            return os.path.exists(target)
        return db_url.holds_tables(target)

    def db_shown(self):
        """The database as printed (a URL's password hidden)."""
        from host_tools import db_url
        return db_url.shown(self.db_path_shown())

    def device_given(self, positional=None):
        """The device named on the command line (--device, or the older positional form), or None; a label
        the host database holds ("patient 12") stands for its device's id."""
        if positional and self.device and positional.upper() != self.device.upper():
            from host_tools.failures import EXIT_USAGE, Failure
            raise Failure("two devices given (%s and %s)" % (positional, self.device), "name one",
                          EXIT_USAGE)
        name = positional or self.device
        if name and self.db_exists():
            from host_tools.db import DatabaseMissing
            try:
                with self.open_db() as db:
                    return db.find_device(name) or name
            except DatabaseMissing:   # a PostgreSQL database e2mon has not set up yet
                return name
        return name

    def db_path_shown(self):
        from host_tools.db import HostDB

        from host_tools import db_url
        return db_url.as_target(self.db_path or HostDB.default_path())


def global_options(fn):
    fn = click.option("--verbose", "-v", is_flag=True,
                      help="Show the Bluetooth libraries' (bumble, bleak) log messages.")(fn)
    fn = click.option("--db", "db_path", metavar="FILE|URL", envvar="E2MON_DB",
                      help="Host database: a file (SQLite; default ~/.local/share/e2mon/e2mon.sqlite, or the "
                           "settings file's database) or a PostgreSQL URL (postgresql://USER@HOST/NAME).")(fn)
    fn = click.option("--json", "as_json", is_flag=True,
                      help="Machine-readable JSON output; errors too, on stderr.")(fn)
    fn = click.option("--device", metavar="ADDRESS",
                      help="The device: its id in the host database (e2mon scan and e2mon devices show it) or the "
                           "clinic's label for it (\"patient 12\").")(fn)
    fn = click.option("--port", metavar="PORT", help="USB serial port of the device (e.g. /dev/ttyUSB0).")(fn)
    fn = click.option("--sim", is_flag=True,
                      help="Talk to the simulator (`python -m sim serve`) over bumble's TCP link.")(fn)
    return fn


def make_settings(ctx, sim, port, device, as_json, db_path, verbose):
    ctx.obj = Settings(sim=sim, port=port, as_json=as_json, db_path=db_path,
                       sim_transport=os.environ.get("E2MON_SIM_TRANSPORT"), device=device, verbose=verbose)
    return ctx.obj


def pass_settings(fn):
    return click.make_pass_decorator(Settings, ensure=True)(fn)


def emit(settings, data, text):
    """Prints data as JSON with --json, else the human text (a string or list of lines)."""
    if settings.as_json:
        click.echo(json.dumps(data, indent=1, sort_keys=True, default=_jsonable, ensure_ascii=False))
    else:
        if isinstance(text, (list, tuple)):
            text = "\n".join(text)
        if text:
            click.echo(text)


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    raise TypeError("not JSON serialisable: %r" % (value,))


def device_title(device_id, label):
    """How a device is named to people: the clinic's label first when it gave one."""
    return "%s (%s)" % (label, device_id) if label else device_id


def pick_device(db, device_id):
    """The device to work on: the one named (its id or the clinic's label), or the only one in the database."""
    from host_tools.failures import EXIT_NOT_FOUND, Failure

    known = db.devices()
    if device_id:
        found = db.find_device(device_id)
        if found is None:
            raise Failure("no device %s in the host database %s" % (clip_name(device_id), db.path),
                          "see e2mon devices for its devices and labels; a device comes in with its first pull",
                          EXIT_NOT_FOUND)
        return found
    if len(known) == 1:
        return known[0]
    if not known:
        raise Failure("the host database %s holds no device yet" % db.path, "run e2mon pull first",
                      EXIT_NOT_FOUND)
    raise Failure("the host database holds %d devices" % len(known),
                  "name one with --device ID or --device LABEL (e2mon devices lists them)", EXIT_NOT_FOUND)


def clip_name(name):
    from host_tools.failures import clip
    return clip(name)


class _UndocumentedArgument(click.Argument):
    # The older spelling `e2mon pull ADDRESS`: still accepted, no longer shown (--device is the one way).
    def get_usage_pieces(self, ctx):
        return []


def legacy_device_argument(fn):
    return click.argument("device", required=False, cls=_UndocumentedArgument)(fn)


def use_port(settings, local_port=None):
    if local_port:
        settings.port = local_port
    return settings.port
