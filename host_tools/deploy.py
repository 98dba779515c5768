"""Compiling firmware/ with mpy-cross and copying it to a board with mpremote.

The one copy of the compile step: `bench/compile_mpy.py` (`make mpy`) and
`e2mon deploy` both call `compile_firmware(arch)`.

- `BOARD_ARCH`: board name -> mpy-cross architecture.
- `compile_firmware(arch, out_dir=None) -> {relative .py path: .mpy size}`;
  raises `CompileError` naming the file the board could not load.
- `stage(board, out_dir=None) -> directory`: what goes on the board: every module
  as .mpy, `main.py` (and `boot.py`) as source because the board runs those by name.
- `mpremote_command(port, stage_dir) -> argv` the exact mpremote invocation.
- `deploy(board, port, run=subprocess.run)` stages and copies.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from host_tools.const_inline import inline_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BUILD = os.path.join(ROOT, "build")

BOARD_ARCH = {"esp32": "xtensawin", "pico_w": "armv6m"}
# sys.platform on the board -> our board name, for `deploy` without --board.
PLATFORM_BOARD = {"esp32": "esp32", "rp2": "pico_w"}
# Run from source on the board: MicroPython only executes these by their .py name.
KEEP_AS_SOURCE = ("main.py", "boot.py")


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
    compile_firmware(arch, out_dir)
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


def mpremote_command(port, stage_dir):
    """The mpremote argv (run with cwd=stage_dir): packages recursively, files, then a soft reset."""
    dirs, files = staged_entries(stage_dir)
    argv = [_tool("mpremote"), "connect", port]
    if dirs:
        argv += ["fs", "cp", "-r"] + dirs + [":", "+"]
    for name in files:
        argv += ["fs", "cp", name, ":" + name, "+"]
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


def deploy(board, port, run=subprocess.run):
    """Compiles for the board and copies it; returns (stage_dir, argv)."""
    stage_dir = stage(board)
    argv = mpremote_command(port, stage_dir)
    done = run(argv, cwd=stage_dir)
    if done.returncode != 0:
        raise CompileError("mpremote could not copy to %s (exit %d)" % (port, done.returncode))
    return stage_dir, argv
