"""One clear line per failure: what happened, what to do, and a stable exit code.

Commands raise `Failure(what, todo, code)`; `reported` turns the exceptions a
command can meet (BLE, serial, SQLite, files) into one. click prints
"Error: <what>. <todo>" to stderr and exits with the code.
"""
import functools
import sqlite3

import click

# Exit codes: shell-friendly and distinct per cause (click itself uses 1 and 2).
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3      # device not found / out of range
EXIT_AUTH = 4           # wrong or missing key
EXIT_LINK = 5           # link dropped, timeout
EXIT_REJECTED = 6       # bad input, refused by validation or by the device
EXIT_STORAGE = 7        # host database or file problem
EXIT_INTERRUPTED = 130  # Ctrl-C (after what was stored was kept)


class Failure(click.ClickException):
    def __init__(self, what, todo, exit_code=EXIT_FAILURE):
        what = what.rstrip(". ")
        todo = (todo[:1].upper() + todo[1:]) if todo else todo
        message = "%s. %s" % (what, todo) if todo else what
        super().__init__(message)
        self.exit_code = exit_code
        self.what = what
        self.todo = todo


def _translate(exc):
    """Maps an exception from a library to a Failure, or None if it is unknown."""
    if isinstance(exc, Failure):
        return exc
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if isinstance(exc, sqlite3.Error):
        return Failure("host database error: %s" % exc,
                       "check the --db path is writable and not used by another e2mon", EXIT_STORAGE)
    if module.startswith("bleak") or name in ("BleakError", "BleakDeviceNotFoundError"):
        if "NotFound" in name:
            return Failure("device not found", "bring it closer, wake it up and retry", EXIT_NOT_FOUND)
        return Failure("Bluetooth error: %s" % (exc or name),
                       "check Bluetooth is on and the device is in range, then retry", EXIT_LINK)
    if module.startswith("serial"):
        return Failure("USB serial error: %s" % exc,
                       "check the cable and the --port name (e.g. /dev/ttyUSB0)", EXIT_LINK)
    if isinstance(exc, TimeoutError):
        return Failure("the device stopped answering (timeout)",
                       "bring it closer and rerun; nothing partial was kept", EXIT_LINK)
    if isinstance(exc, (ConnectionError, EOFError)):
        return Failure("the link dropped: %s" % (exc or name),
                       "bring the device closer and rerun; nothing partial was kept", EXIT_LINK)
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
        except click.ClickException:
            raise
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
