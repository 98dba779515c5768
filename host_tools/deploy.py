"""Compiling firmware/ with mpy-cross and copying it to a board with mpremote.

The one copy of the compile step: `bench/compile_mpy.py` (`make mpy`) and
`e2mon deploy` both call `compile_firmware(arch)`.

- `BOARD_ARCH`: board name -> mpy-cross architecture.
- `compile_firmware(arch, out_dir=None) -> {relative .py path: .mpy size}`;
  raises `CompileError` naming the file the board could not load.
- `stage(board, out_dir=None) -> directory`: what goes on the board: every module
  as .mpy, `main.py` (and `boot.py`) as source because the board runs those by name.
- `romfs_image(stage_dir) -> bytes`: the staged tree except main.py/boot.py, as a ROMFS image
  (MicroPython >= 1.25 with `vfs.VfsRom`): the board runs that bytecode in place from flash instead of
  loading it into the heap. `write_romfs(stage_dir) -> path` writes it to `image_path(stage_dir)`
  (`<stage_dir>.romfs`, e.g. build/deploy/pico_w.romfs).
- `mpremote_command(port, stage_dir, romfs_path=None) -> argv` the exact mpremote invocation.
- `deploy(board, port, run=subprocess.run, romfs=False)` stages and copies (run=None: dry run).

Which copy runs: the filesystem ('' on sys.path, first: main.py keeps it before '/rom') holds the packages
only after a plain deploy; the ROMFS route writes the image, then removes the packages a plain deploy left
on the filesystem (REMOVE_STALE), so neither route's older copy shadows the newer one. /data stays.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from mpremote.romfs import VfsRomWriter

from host_tools import firmware_version
from host_tools.const_inline import inline_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BUILD = os.path.join(ROOT, "build")

BOARD_ARCH = {"esp32": "xtensawin", "pico_w": "armv6m"}
# sys.platform on the board -> our board name, for `deploy` without --board.
PLATFORM_BOARD = {"esp32": "esp32", "rp2": "pico_w"}
# Run from source on the board: MicroPython only executes these by their .py name.
KEEP_AS_SOURCE = ("main.py", "boot.py")
# Build inputs, not modules: never copied to a board (the freeze manifests of `make firmware`).
NOT_ON_BOARD = ("manifest.mpy", "manifest_pico_w.mpy", "manifest_nano_rp2040.mpy")


class CompileError(Exception):
    pass


def _tool(name):
    """A console script next to this interpreter (the venv), else on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(local):
        return local
    found = shutil.which(name)
    if found is None:
        raise CompileError("%s is not installed (pip install %s)" % (name, name))
    return found


def firmware_sources(source_dir=FIRMWARE):
    for dirpath, dirs, files in os.walk(source_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def _source_name(rel):
    """The name tracebacks on the board show for a module: its dotted name ("monitor.store"), a name the
    board interns anyway (sys.modules), so each module carries one interned string less."""
    name = rel[:-3].replace(os.sep, ".")
    return name[:-9] if name.endswith(".__init__") else name


def compile_firmware(arch, out_dir=None, source_dir=FIRMWARE):
    """Compiles firmware/ for arch into out_dir (build/mpy/<arch>); returns {rel path: .mpy bytes}.

    The sources go through host_tools.const_inline first (cross-module const() names inlined), so what
    a board loads is what the device memory bench measured."""
    out_dir = out_dir or os.path.join(BUILD, "mpy", arch)
    mpy_cross = _tool("mpy-cross")
    sizes = {}
    staged = tempfile.mkdtemp(prefix="e2mon-inline-")
    try:
        for rel in inline_tree(source_dir, staged):
            src = os.path.join(staged, rel)
            if not rel.endswith(".py"):   # the names const_inline took out, read by name on demand
                os.makedirs(os.path.dirname(os.path.join(out_dir, rel)), exist_ok=True)
                shutil.copyfile(src, os.path.join(out_dir, rel))
                continue
            out = os.path.join(out_dir, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            done = subprocess.run([mpy_cross, "-march=" + arch, "-s", _source_name(rel), "-o", out, src],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise CompileError("mpy-cross (%s) cannot compile %s: %s"
                                   % (arch, rel, (done.stderr or done.stdout).strip()))
            sizes[rel] = os.path.getsize(out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return sizes


def stage(board, out_dir=None):
    """Builds the tree to copy onto the board; returns its directory."""
    arch = BOARD_ARCH[board]
    out_dir = out_dir or os.path.join(BUILD, "deploy", board)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    with tempfile.TemporaryDirectory(prefix="e2mon-firmware-") as source:
        firmware_version.stage(source)     # monitor/version.py says which build the board runs
        compile_firmware(arch, out_dir, source_dir=source)
    for name in NOT_ON_BOARD:
        if os.path.exists(os.path.join(out_dir, name)):
            os.remove(os.path.join(out_dir, name))
    for name in KEEP_AS_SOURCE:
        compiled = os.path.join(out_dir, name[:-3] + ".mpy")
        if os.path.exists(compiled):
            os.remove(compiled)
            shutil.copyfile(os.path.join(FIRMWARE, name), os.path.join(out_dir, name))
    return out_dir


def staged_entries(stage_dir):
    """Top-level packages and files of a staged tree, in a stable order."""
    entries = sorted(os.listdir(stage_dir))
    dirs = [e for e in entries if os.path.isdir(os.path.join(stage_dir, e))]
    files = [e for e in entries if not os.path.isdir(os.path.join(stage_dir, e))]
    # main.py last, so a board never boots a main.py whose modules are missing.
    files.sort(key=lambda name: name == "main.py")
    return dirs, files


def romfs_image(stage_dir):
    """The ROMFS image (mpremote's own writer) of a staged tree: every package and file, .mpy and .consts
    sidecars alike, in sorted order, except the KEEP_AS_SOURCE files the board runs by name from its
    filesystem. The sidecars are found from each module's __file__, so they work from /rom as well."""
    writer = VfsRomWriter()

    def add(directory, top):
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                writer.opendir(name)
                add(path, False)
                writer.closedir()
            elif not (top and name in KEEP_AS_SOURCE):
                with open(path, "rb") as f:
                    writer.mkfile(name, f.read())

    add(stage_dir, True)
    return writer.finalise()


def image_path(stage_dir):
    """<stage_dir>.romfs, absolute (mpremote runs in the stage dir): a name `romfs deploy` takes as an image."""
    return os.path.abspath(stage_dir) + ".romfs"


def write_romfs(stage_dir):
    """Writes romfs_image(stage_dir) to image_path(stage_dir); returns that path."""
    path = image_path(stage_dir)
    with open(path, "wb") as f:
        f.write(romfs_image(stage_dir))
    return path


# Run on the board by `mpremote exec` (MicroPython): removes each named file or directory tree if there.
REMOVE_STALE = (
    "import os\n"
    "def rm(p):\n"
    " try:\n"
    "  for n in os.listdir(p):\n"
    "   rm(p+'/'+n)\n"
    "  os.rmdir(p)\n"
    " except OSError:\n"
    "  try:\n"
    "   os.remove(p)\n"
    "  except OSError:\n"
    "   pass\n"
    "for p in %r:\n"
    " rm(p)\n")


# The publisher's public key goes beside the device key in /data (kept by every deploy): a device checks every
# update bundle against it (monitor/update.py); without it, updates over BLE are refused.
PUBLISHER_KEY_PATH = "/data/publisher.pub"
MAKE_DATA_DIR = "import os\ntry:\n os.mkdir('/data')\nexcept OSError:\n pass\n"


def publisher_key_commands(key_path):
    """mpremote steps that put the publisher's public key (e2mon release keygen's NAME.pub) on the board."""
    return ["exec", MAKE_DATA_DIR, "+", "fs", "cp", os.path.abspath(key_path), ":" + PUBLISHER_KEY_PATH, "+"]


def mpremote_command(port, stage_dir, romfs_path=None, publisher_key=None):
    """The mpremote argv (run with cwd=stage_dir): packages recursively, files, then a soft reset.

    With romfs_path: that image into the board's ROMFS partition (mpremote stops there if the board has
    none), the packages a plain deploy left on the filesystem removed, then only the KEEP_AS_SOURCE files."""
    dirs, files = staged_entries(stage_dir)
    argv = [_tool("mpremote"), "connect", port]
    if romfs_path:
        in_image = tuple(dirs + [name for name in files if name not in KEEP_AS_SOURCE])
        argv += ["romfs", "deploy", romfs_path, "+", "exec", REMOVE_STALE % (in_image,), "+"]
        dirs, files = [], [name for name in files if name in KEEP_AS_SOURCE]
    if dirs:
        argv += ["fs", "cp", "-r"] + dirs + [":", "+"]
    for name in files:
        argv += ["fs", "cp", name, ":" + name, "+"]
    if publisher_key:
        argv += publisher_key_commands(publisher_key)
    argv += ["soft-reset"]
    return argv


def detect_board(port, run=subprocess.run):
    """Asks the board for sys.platform; returns our board name."""
    done = run([_tool("mpremote"), "connect", port, "exec", "import sys; print(sys.platform)"],
               capture_output=True, text=True, timeout=30)
    platform = (done.stdout or "").strip().splitlines()[-1:] or [""]
    if done.returncode != 0 or platform[0] not in PLATFORM_BOARD:
        raise CompileError("could not tell the board type on %s (%s)"
                           % (port, (done.stderr or done.stdout or "no answer").strip()))
    return PLATFORM_BOARD[platform[0]]


def deploy(board, port, run=subprocess.run, romfs=False, publisher_key=None):
    """Compiles for the board and copies it (romfs: as a ROMFS image); returns (stage_dir, argv).

    run=None only builds: the staged tree, the image, the command (a dry run)."""
    stage_dir = stage(board)
    argv = mpremote_command(port, stage_dir, write_romfs(stage_dir) if romfs else None, publisher_key)
    if run is None:
        return stage_dir, argv
    done = run(argv, cwd=stage_dir)
    if done.returncode != 0:
        raise CompileError("mpremote could not copy to %s (exit %d)%s" % (
            port, done.returncode, "; does its MicroPython (1.25 or later) have a ROMFS partition?" if romfs else ""))
    return stage_dir, argv
