"""The one place a build stamps the firmware version (`firmware/monitor/version.py`, "dev" in git).

    describe(root=ROOT) -> "v0.2-3-g1a2b3c4", a bare commit hash without tags, "-dirty" if changed; "dev" without git
    stamp(tree, version) writes tree/monitor/version.py (tree: a copy of firmware/, never the source itself)
    stage(dest, version=None) -> version: copies firmware/'s .py files to dest and stamps them
    python -m host_tools.firmware_version DEST    (upy/rp2.mk: the tree the Pico W image freezes)
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
VERSION_FILE = os.path.join("monitor", "version.py")
UNSTAMPED = "dev"


def describe(root=ROOT):
    try:
        done = subprocess.run(["git", "-C", root, "describe", "--tags", "--always", "--dirty"],
                              capture_output=True, text=True, check=False)
    except OSError:
        return UNSTAMPED
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else UNSTAMPED


def version_source(version, source):
    """source (monitor/version.py's text) with its VERSION line set to version; the rest (SEQUENCE) kept."""
    if not version or '"' in version or "\\" in version or not version.isprintable():
        raise ValueError("not a version string: %r" % (version,))
    lines = source.splitlines(True)
    for i, line in enumerate(lines):
        if line.startswith("VERSION = "):
            lines[i] = 'VERSION = "%s"\n' % version
            return "".join(lines)
    raise ValueError("no VERSION line in monitor/version.py")


def _write_if_changed(path, text):
    """Unchanged files keep their time, so an incremental firmware build rebuilds only what changed."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


def stamp(tree, version):
    if os.path.realpath(tree) == os.path.realpath(FIRMWARE):
        raise ValueError("stamp a copy of firmware/, not the source tree")
    with open(os.path.join(FIRMWARE, VERSION_FILE)) as f:
        source = f.read()
    _write_if_changed(os.path.join(tree, VERSION_FILE), version_source(version, source))


def stage(dest, version=None, source=FIRMWARE):
    """firmware/'s .py files copied to dest (files gone from source removed), version stamped."""
    version = version or describe()
    wanted = set()
    for dirpath, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, name), source)
                wanted.add(rel)
                target = os.path.join(dest, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(os.path.join(dirpath, name)) as f:
                    _write_if_changed(target, f.read())
    for dirpath, _dirs, files in os.walk(dest):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), dest)
            if rel not in wanted:
                os.remove(os.path.join(dirpath, name))
    stamp(dest, version)
    return version


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m host_tools.firmware_version DEST")
    print(stage(sys.argv[1]))
