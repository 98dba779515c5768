"""`e2mon clinic`: the clinic's keys (init, join, add-clinician, remove-clinician, clinicians), the clinic
page's accounts (user add / remove / list) and the page itself (serve)."""
import logging
import sys

import click

from host_tools import audit
from host_tools.failures import EXIT_AUTH, EXIT_REJECTED, EXIT_USAGE, Failure, reported
from host_tools.settings import SummaryGroup, emit, pass_settings


def _keys_call(fn, *args):
    from host_tools import clinic_keys
    try:
        return fn(*args)
    except clinic_keys.ClinicError as exc:
        raise Failure(str(exc), "see e2mon clinic --help", EXIT_AUTH) from None


def _db(settings, create=False):
    """The database's path or URL, after the host database opened it (a missing or damaged one is said
    here, with its exit code, before any clinic table is touched)."""
    settings.open_db(create=create).close()
    return settings.db_path_shown()


@click.group("clinic", cls=SummaryGroup)
def clinic_cmd():
    """A clinic: device keys shared by its clinicians, and its web page."""


@clinic_cmd.command("init")
@click.argument("name")
@pass_settings
@reported
def init_cmd(settings, name):
    """Make the clinic in the database (--db), with this computer as clinician NAME; this computer's
    device key files move into the clinic's store, sealed under the clinic key."""
    from host_tools import clinic_keys
    db = _db(settings, create=True)
    moved = _keys_call(clinic_keys.init, db, name)
    settings.audit(audit.CLINIC, None, "first clinician %s; %d device keys moved in" % (name, len(moved)))
    emit(settings, {"clinician": name, "devices_moved": moved},
         ["clinic made in %s; this computer is clinician %s" % (db, name),
          "device keys moved into the clinic's store: %s" % (", ".join(moved) or "none")])


@clinic_cmd.command("join")
@click.argument("name")
@pass_settings
@reported
def join_cmd(settings, name):
    """Ask to join the clinic in the database (--db) as clinician NAME; a member then runs add-clinician."""
    from host_tools import clinic_keys
    fingerprint = _keys_call(clinic_keys.join, _db(settings), name)
    emit(settings, {"clinician": name, "fingerprint": fingerprint},
         ["asked to join as %s; this computer's fingerprint: %s" % (name, fingerprint),
          "tell it to a member (in person or by phone): they run e2mon clinic add-clinician %s" % name])


@clinic_cmd.command("add-clinician")
@click.argument("name")
@click.option("--fingerprint", "expected", metavar="TEXT",
              help="The fingerprint NAME's computer showed at join (asked for when not given).")
@pass_settings
@reported
def add_cmd(settings, name, expected):
    """Give clinician NAME (who ran join) the clinic key, after comparing their fingerprint."""
    from host_tools import clinic_keys
    db = _db(settings)
    shown = _keys_call(clinic_keys.pending_fingerprint, db, name)
    if expected is None:
        expected = click.prompt("fingerprint %s's computer showed (here: %s)" % (name, shown))
    if "".join(expected.split()).lower() != "".join(shown.split()):
        raise Failure("the fingerprint given does not match %s's key in the database (%s)" % (name, shown),
                      "someone may have replaced their key: ask them to join again", EXIT_REJECTED)
    _keys_call(clinic_keys.add_clinician, db, name)
    settings.audit(audit.CLINICIAN_ADD, None, "%s (fingerprint %s)" % (name, shown))
    emit(settings, {"clinician": name, "added": True}, "%s can now pull the clinic's devices" % name)


@clinic_cmd.command("remove-clinician")
@click.argument("name")
@pass_settings
@reported
def remove_cmd(settings, name):
    """Remove clinician NAME: a new clinic key, device keys sealed again, wrapped for the others only."""
    from host_tools import clinic_keys
    devices = _keys_call(clinic_keys.remove_clinician, _db(settings), name)
    settings.audit(audit.CLINICIAN_REMOVE, None, "%s; the clinic key renewed" % name)
    emit(settings, {"clinician": name, "removed": True, "devices": devices},
         ["%s removed; the clinic key is new and their computer opens no device key in the database" % name,
          "to retire any copy they may have made while a member, provision these devices again: %s"
          % (", ".join(devices) or "none")])


@clinic_cmd.command("clinicians")
@pass_settings
@reported
def clinicians_cmd(settings):
    """The clinic's clinicians (waiting ones too) and their fingerprints."""
    from host_tools import clinic_keys
    rows = _keys_call(clinic_keys.clinicians, _db(settings))
    emit(settings, rows, ["%s  %s  %s" % (r["name"], r["fingerprint"], "member" if r["member"] else "waiting")
                          for r in rows] or ["no clinician"])


@clinic_cmd.group("user", cls=SummaryGroup)
def user_cmd():
    """Accounts of the clinic page."""


def _account_call(fn, *args):
    from host_tools import clinic_auth
    try:
        return fn(*args)
    except clinic_auth.AccountError as exc:
        raise Failure(str(exc), "see e2mon clinic user --help", EXIT_REJECTED) from None


@user_cmd.command("add")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input's first line.")
@pass_settings
@reported
def user_add_cmd(settings, username, password_stdin):
    """Make an account (the password is asked for, hidden, twice; stored as an argon2id hash)."""
    from host_tools import clinic_auth
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password for %s" % username, hide_input=True, confirmation_prompt=True)
    _account_call(clinic_auth.add_user, _db(settings), username, password)
    settings.audit(audit.ACCOUNT_ADD, None, username)
    emit(settings, {"username": username}, "account %s made" % username)


@user_cmd.command("remove")
@click.argument("username")
@pass_settings
@reported
def user_remove_cmd(settings, username):
    """Remove an account and end its sessions."""
    from host_tools import clinic_auth
    _account_call(clinic_auth.remove_user, _db(settings), username)
    settings.audit(audit.ACCOUNT_REMOVE, None, username)
    emit(settings, {"username": username, "removed": True}, "account %s removed" % username)


@user_cmd.command("list")
@pass_settings
@reported
def user_list_cmd(settings):
    """The page's accounts."""
    from host_tools import clinic_auth
    names = clinic_auth.users(_db(settings))
    emit(settings, names, names or ["no account (e2mon clinic user add NAME)"])


@clinic_cmd.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Another than this computer's own only behind a TLS proxy: the "
                   "cookies are then marked Secure (sent over HTTPS only).")
@click.option("--http-port", "listen_port", default=8022, show_default=True, type=int)
@click.option("--session-minutes", default=30, show_default=True, type=click.IntRange(1, 720),
              help="A session ends after this long without a request.")
@pass_settings
@reported
def serve_cmd(settings, host, listen_port, session_minutes):
    """Serve the clinic page: every patient by need of attention, each one's report and entries."""
    import uvicorn

    from host_tools import clinic_auth
    from host_tools.clinic_web import make_app
    db = _db(settings)
    if not clinic_auth.users(db):
        raise Failure("the clinic page has no account yet", "make one: e2mon clinic user add NAME", EXIT_USAGE)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access = logging.getLogger("e2mon.clinic.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    click.echo("clinic page on http://%s:%d/ (Ctrl-C ends it)" % (host, listen_port), err=True)
    local = host in LOOPBACK
    app = make_app(db, idle_seconds=session_minutes * 60, secure_cookies=not local)
    uvicorn.run(app, host=host, port=listen_port, access_log=False, log_level="warning")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(cli):
    cli.add_command(clinic_cmd)
