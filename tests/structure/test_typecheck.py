"""`make typecheck` rejects what a board's MicroPython lacks: basedpyright with each board's config
(typecheck/esp32.json, typecheck/pico_w.json) on small files, the same way it checks firmware/."""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASEDPYRIGHT = pathlib.Path(sys.executable).parent / "basedpyright"

# Allowed on both boards: the built-in modules every firmware module imports (compat/ gives them to CPython).
PORTABLE = """\
import time

from cryptolib import aes
from micropython import const

DELAY_MS = const(5)
start = time.ticks_ms()
time.sleep_ms(DELAY_MS)
elapsed = time.ticks_diff(time.ticks_ms(), start)
block = aes(bytes(16), 1).encrypt(bytes(16))
"""

# CPython-only calls, each on its own line: (line, rule basedpyright reports).
MISUSES = """\
import time
import dataclasses
import sqlite3

time.monotonic()
time.ticks_ms("now")
"""
MISUSE_RULES = {
    2: "reportMissingImports",        # no dataclasses on either board
    3: "reportMissingImports",        # nor sqlite3, though the CPython running the check has both
    5: "reportAttributeAccessIssue",  # MicroPython's time has ticks_ms(), not monotonic()
    6: "reportCallIssue",             # and ticks_ms() takes no argument
}

# Each board's own module, which the other board's build does not have.
BOARD_ONLY = {"esp32": "import esp32\n", "pico_w": "import rp2\n"}


def check(board, files):
    """basedpyright's diagnostics per file name, using the board's project config."""
    subprocess.run(["make", "-s", "-C", str(ROOT), "typecheck-stubs"], check=True)
    run = subprocess.run(
        [str(BASEDPYRIGHT), "--outputjson", "-p", str(ROOT / "typecheck" / (board + ".json"))]
        + [str(f) for f in files],
        capture_output=True, text=True)
    report = json.loads(run.stdout)
    found = {f.name: [] for f in files}
    for diag in report["generalDiagnostics"]:
        found[pathlib.Path(diag["file"]).name].append((diag["range"]["start"]["line"] + 1, diag.get("rule")))
    assert (run.returncode != 0) == any(found.values()), run.stdout
    return found


@pytest.mark.parametrize("board", ["esp32", "pico_w"])
def test_board_check_rejects_cpython_only_apis_and_the_other_boards_module(board, tmp_path):
    other = "pico_w" if board == "esp32" else "esp32"
    files = {
        "portable.py": PORTABLE,
        "misuses.py": MISUSES,
        "own_board.py": BOARD_ONLY[board],
        "other_board.py": BOARD_ONLY[other],
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = check(board, [tmp_path / name for name in files])
    assert found["portable.py"] == []
    assert found["own_board.py"] == []
    assert sorted(found["misuses.py"]) == sorted(MISUSE_RULES.items())
    assert found["other_board.py"] == [(1, "reportMissingImports")]
