"""One clear line per failure: what happened, what to do, and a stable exit code.

Commands raise `Failure(what, todo, code)`; `reported` turns the exceptions a
command can meet (BLE, serial, SQLite, files) into one. The `e2mon` group prints
"Error: <what>. <todo>" to stderr (with --json: `{"error": NAME, "exit_code": N, "message": ...}`)
and exits with the code. `EXIT_CODES` is the table `e2mon --help` and the README show.
`clip(text)` shortens echoed user input so an error stays one readable line.
"""
import functools
import json
import sqlite3

import click

# Exit codes: shell-friendly and distinct per cause (click itself uses 1 and 2).
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3      # device not found / out of range
EXIT_AUTH = 4           # wrong or missing key
EXIT_LINK = 5           # link dropped, timeout
EXIT_REJECTED = 6       # bad input, refused by validation or by the device
EXIT_STORAGE = 7        # host database or file problem; a missing input file too, in every command
EXIT_BUSY = 8           # another e2mon is using the same host database
EXIT_DEVICE_FULL = 9    # the device's own storage is full (not this computer's: that is EXIT_STORAGE)
EXIT_INTERRUPTED = 130  # Ctrl-C (after what was stored was kept)

# (code, name in --json errors, meaning): printed by `e2mon --help`; the README has the same table.
EXIT_CODES = (
    (0, "ok", "done"),
    (EXIT_FAILURE, "failure", "unexpected error (please report it)"),
    (EXIT_USAGE, "usage", "wrong command line (unknown option, missing argument)"),
    (EXIT_NOT_FOUND, "not_found", "device or simulator not found, out of range, or not in the host database"),
    (EXIT_AUTH, "auth", "key missing, damaged or not matching the device's"),
    (EXIT_LINK, "link", "the link dropped or the device stopped answering"),
    (EXIT_REJECTED, "rejected", "bad input: refused by validation here or on the device"),
    (EXIT_STORAGE, "storage", "host database or file problem (missing, not a database, damaged, permissions, disk)"),
    (EXIT_BUSY, "busy", "another e2mon is using the same host database"),
    (EXIT_DEVICE_FULL, "device_full", "the device's storage is full: pull to free it"),
    (EXIT_INTERRUPTED, "interrupted", "Ctrl-C; what was stored is kept"),
)
_NAMES = {code: name for code, name, _meaning in EXIT_CODES}

ECHO_LIMIT = 60       # characters of user input repeated in an error
MESSAGE_LIMIT = 400   # characters of what happened, at most


def clip(text, limit=ECHO_LIMIT):
    """User input as echoed in an error: repr-quoted, at most about `limit` characters."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return "%r... (%d characters)" % (text[:limit], len(text))


def exit_code_help():
    return "\n".join("  %3d  %s" % (code, meaning) for code, _name, meaning in EXIT_CODES)


class OutputClosed(Exception):
    """Standard output was closed by the reader (`e2mon ... | head`): exit quietly."""


def error_json(message, exit_code):
    return json.dumps({"error": _NAMES.get(exit_code, "failure"), "exit_code": exit_code, "message": message})


# Set by the `e2mon` group when --json is given: errors are then JSON too.
JSON_ERRORS = [False]


class Failure(click.ClickException):
    def __init__(self, what, todo, exit_code=EXIT_FAILURE):
        what = what.rstrip(". ")
        if len(what) > MESSAGE_LIMIT:   # a safety net: echoed input is clipped where it is quoted
            what = what[:MESSAGE_LIMIT] + "... (%d characters)" % len(what)
        todo = (todo[:1].upper() + todo[1:]) if todo else todo
        message = "%s. %s" % (what, todo) if todo else what
        super().__init__(message)
        self.exit_code = exit_code
        self.what = what
        self.todo = todo

    def show(self, file=None):
        if JSON_ERRORS[0]:
            click.echo(error_json(self.format_message(), self.exit_code), err=True)
        else:
            super().show(file)


def _driver_error(exc):
    """The database driver's own error inside SQLAlchemy's wrapper (sqlite3's, psycopg's)."""
    import sqlalchemy.exc
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def _translate(exc):
    """Maps an exception from a library to a Failure, or None if it is unknown."""
    if isinstance(exc, Failure):
        return exc
    from host_tools import db, keys, outfile
    if isinstance(exc, outfile.NotRegularFile):
        return Failure(str(exc), "name a file to write", EXIT_REJECTED)
    if isinstance(exc, outfile.FolderMissing):
        return Failure(str(exc), "create the folder first (mkdir -p %s) or name another" % exc.folder,
                       EXIT_STORAGE)
    if isinstance(exc, db.DatabaseDamaged):
        return Failure(str(exc), restore_hint(exc.path, exc.newest_backup), EXIT_STORAGE)
    if isinstance(exc, db.DatabaseMissing):
        return Failure(str(exc), "check the --db path; e2mon pull (or e2mon db init) creates one", EXIT_STORAGE)
    if isinstance(exc, db.NotADatabase):
        return Failure(str(exc), "", EXIT_STORAGE)
    if isinstance(exc, db.DatabaseBusy):
        return Failure(str(exc), "wait for it to finish, then rerun", EXIT_BUSY)
    if isinstance(exc, db.DatabaseTooNew):
        return Failure(str(exc), "update e2mon on this computer", EXIT_STORAGE)
    if isinstance(exc, keys.NotPrivate):
        return Failure(str(exc), "", EXIT_STORAGE)
    from host_tools import db_url, pg_backup, settings_file
    if isinstance(exc, pg_backup.BackupFailed):
        return Failure(str(exc), "nothing was changed; make the backup possible, then rerun", EXIT_STORAGE)
    if isinstance(exc, settings_file.SettingsError):
        return Failure(str(exc), "fix or remove the file", EXIT_REJECTED)
    if isinstance(exc, db_url.UnsupportedDatabase):   # a malformed URL, or another database system
        return Failure(str(exc), "give a file path (SQLite) or postgresql://USER@HOST/NAME",
                       EXIT_USAGE)
    exc = _driver_error(exc)
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if isinstance(exc, sqlite3.DatabaseError) and db.database_damaged(exc):
        return Failure("the host database is damaged (%s)" % exc, restore_hint(None, None), EXIT_STORAGE)
    if isinstance(exc, sqlite3.Error):
        return Failure("host database error: %s" % exc,
                       "check the --db path is writable and not used by another e2mon", EXIT_STORAGE)
    if module.startswith("psycopg"):
        return Failure("PostgreSQL error: %s" % (str(exc).strip().splitlines() or [name])[0],
                       "check the --db URL, that the server runs and that this user may use the database",
                       EXIT_STORAGE)
    if module.startswith("bleak") or name in ("BleakError", "BleakDeviceNotFoundError"):
        if "NotFound" in name:
            return Failure("device not found", "bring it closer, wake it up and retry", EXIT_NOT_FOUND)
        return Failure("Bluetooth error: %s" % (exc or name),
                       "check Bluetooth is on and the device is in range, then retry", EXIT_LINK)
    if module.startswith("serial"):
        return Failure("USB serial error: %s" % exc,
                       "check the cable and the --port name (e.g. /dev/ttyUSB0)", EXIT_LINK)
    if isinstance(exc, TimeoutError):
        return Failure("the device stopped answering (timeout)", "bring it closer and rerun", EXIT_LINK)
    if isinstance(exc, (ConnectionError, EOFError)):
        return Failure("the link dropped: %s" % (exc or name), "bring the device closer and rerun", EXIT_LINK)
    if isinstance(exc, UnicodeDecodeError):
        return Failure("a file is not UTF-8 text (byte %d: %s)" % (exc.start, exc.reason),
                       "save it as UTF-8 text", EXIT_REJECTED)
    if isinstance(exc, RecursionError):
        return Failure("the input is nested too deeply to read", "check the file", EXIT_REJECTED)
    if isinstance(exc, PermissionError):
        return Failure("permission denied: %s" % (exc.filename or exc), "check the file's permissions",
                       EXIT_STORAGE)
    if isinstance(exc, FileNotFoundError):
        return Failure("file not found: %s" % (exc.filename or exc), "check the path", EXIT_STORAGE)
    if isinstance(exc, OSError):
        return Failure("system error: %s" % exc, "check the path or device and retry", EXIT_STORAGE)
    return None


def reported(fn):
    """Decorator for click commands: any known failure becomes one clear line."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, OutputClosed):
            raise
        except BrokenPipeError as exc:
            if stdout_closed():
                raise OutputClosed() from exc
            failure = _translate(exc)
            raise failure from exc
        except KeyboardInterrupt:
            raise Failure("interrupted", "what was stored is kept; rerun to continue",
                          EXIT_INTERRUPTED) from None
        except Exception as exc:
            failure = _translate(exc)
            if failure is None:
                failure = Failure("unexpected %s: %s" % (type(exc).__name__, exc),
                                  "please report this with the command you ran", EXIT_FAILURE)
            raise failure from exc

    return wrapper


def restore_hint(path, backup):
    """How to get a damaged database back: the newest backup that exists put in its place, then a pull."""
    import shlex
    if path is None:
        return "run e2mon db check: it names the newest backup and the command that restores it"
    db_option = "--db %s " % shlex.quote(path) if path else ""
    if backup:
        return ("restore the newest backup (%s) with: e2mon %srestore %s --yes (the damaged file is kept "
                "beside it); a pull then fetches what the device still holds"
                % (backup, db_option, shlex.quote(backup)))
    return ("no backup of it exists; keep the file for recovery and pull into a new database (e2mon --db NEW.sqlite "
            "pull), which fetches what the devices still hold")


def stdout_closed():
    """True when the reader of standard output has gone (a pipe whose other end closed)."""
    import select
    import sys
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _fd, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False
