"""Every file this computer writes with patient data in it (exports, reports, backups, keys) goes through here.

- `private_output(path, binary=False)`: a context manager yielding a file to write. A new or regular target
  is written to a fresh temporary file in its own directory (mkstemp: O_CREAT|O_EXCL|O_NOFOLLOW, 0600, a
  random name, so a planted `<out>.part` or symlink is never written through), synced and renamed over it
  only when the writer finished. A character device or a pipe (/dev/null, /dev/stdout, a FIFO) is written
  through and never replaced; any other non-regular target (a directory, a socket) is refused. A symlink to a
  regular file keeps the link: the file it points at is replaced.
- `private_output_path(path)`: the same for a writer that needs a path (SQLite's backup); a non-regular target
  is refused.
Both raise NotRegularFile for a target they refuse.
"""
import contextlib
import os
import stat
import tempfile

PRIVATE_MODE = 0o600


class NotRegularFile(ValueError):
    """The target exists and is neither a regular file nor something to write through (failures: rejected)."""


class FolderMissing(FileNotFoundError):
    """The folder a file was to be written in does not exist (failures: storage, the user's path named)."""

    def __init__(self, path, folder):
        super().__init__("cannot write %s: the folder %s does not exist" % (path, folder))
        self.path, self.folder = path, folder


def _target(path):
    """("stream" | "file", the path to replace): stat follows links, so /dev/stdout resolves."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file", os.path.realpath(path)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream", path
    if not stat.S_ISREG(mode):
        raise NotRegularFile("%s is not a regular file; refusing to replace it" % path)
    return "file", os.path.realpath(path)


@contextlib.contextmanager
def _temporary(real, shown=None):
    """(fd, path) of a new 0600 file beside real, renamed over real on success and removed on failure."""
    directory, base = os.path.split(real)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory or ".", prefix="." + base + ".", suffix=".part")
    except FileNotFoundError:   # named as the user wrote it, not as the hidden temporary file
        raise FolderMissing(shown or real, os.path.dirname(shown or real) or directory) from None
    try:
        os.fchmod(fd, PRIVATE_MODE)
        yield fd, tmp
        os.replace(tmp, real)    # a reader never sees half a file under the real name
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def private_output(path, binary=False):
    kind, real = _target(path)
    mode, options = ("wb", {}) if binary else ("w", {"encoding": "utf-8", "newline": ""})
    if kind == "stream":
        with open(os.open(path, os.O_WRONLY | os.O_NOCTTY), mode, **options) as out:
            yield out
        return
    with _temporary(real, path) as (fd, _tmp):
        with open(fd, mode, **options) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())


@contextlib.contextmanager
def private_output_path(path):
    kind, real = _target(path)
    if kind == "stream":
        raise NotRegularFile("%s is not a regular file; refusing to write a database copy to it" % path)
    with _temporary(real, path) as (fd, tmp):
        os.close(fd)
        yield tmp
