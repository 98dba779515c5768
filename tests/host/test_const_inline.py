"""The device build's const inlining (host_tools/const_inline.py), run on the real MicroPython unix port."""
import os
import subprocess
import sys

from host_tools import deploy
from host_tools.const_inline import inline_tree

UPY = os.path.join(os.path.dirname(sys.executable), "micropython")

PKG = {
    "pkg/__init__.py": "",
    "pkg/codes.py": (
        "from micropython import const\n"
        "ERR_A = const(0xC1)\n"
        "ERR_B = const(ERR_A + 1)\n"
        "TUNABLE = const(5)        # assigned by pkg.tune: must stay a real attribute\n"
        "SHADOWED = const(7)\n"
        "NAME = 'not a const'\n"
    ),
    "pkg/tune.py": (
        "from pkg import codes\n"
        "\n"
        "\n"
        "def set_tunable(value):\n"
        "    codes.TUNABLE = value\n"
    ),
    "pkg/proto.py": (
        "from micropython import const\n"
        "from pkg.codes import (  # re-exported\n"
        "    ERR_A, ERR_B, SHADOWED,\n"
        ")\n"
        "from pkg import codes\n"
        "LIMIT = const(ERR_B * 2)\n"
        "\n"
        "\n"
        "def call(ERR_X=1, **kw):\n"
        "    return kw\n"
        "\n"
        "\n"
        "def use():\n"
        "    return (ERR_A, LIMIT, codes.ERR_B, codes.TUNABLE, call(ERR_A=3), codes.NAME)\n"
        "\n"
        "\n"
        "def shadow(SHADOWED):\n"
        "    return SHADOWED\n"
        "\n"
        "\n"
        "def where():\n"
        "    raise ValueError('line 22')\n"
        "\n"
        "\n"
        "def __getattr__(name):\n"
        "    if name == 'LATE':\n"
        "        return 'from the module own __getattr__'\n"
        "    raise AttributeError(name)\n"
    ),
}
DRIVER = (
        "import sys\n"
        "from pkg import codes, proto, tune\n"
        "tune.set_tunable(6)\n"
        "print(proto.use())\n"
        "print(proto.shadow(9))\n"
        "g = list(proto.__dict__) + list(codes.__dict__)\n"
        "print('ERR_A' in g, 'LIMIT' in g, 'TUNABLE' in g)\n"
        "print(proto.ERR_A, proto.LIMIT, codes.ERR_B, proto.LATE)\n"
        "try:\n"
        "    proto.MISSING\n"
        "except AttributeError:\n"
        "    print('missing')\n"
        "try:\n"
        "    proto.where()\n"
        "except ValueError as e:\n"
        "    sys.print_exception(e)\n"
)


def _write(root):
    for rel, text in PKG.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def test_inlined_build_behaves_like_the_source_and_keeps_names_reachable(tmp_path):
    src = tmp_path / "src"
    _write(str(src))
    out = tmp_path / "out"
    deploy.compile_firmware("armv6m", str(out), source_dir=str(src))
    assert (out / "pkg" / "proto.consts").read_text().splitlines() == ["ERR_A 193", "ERR_B 194", "LIMIT 388"]
    assert "TUNABLE" not in (out / "pkg" / "codes.consts").read_text()
    (tmp_path / "run.py").write_text(DRIVER)
    run = subprocess.run([UPY, str(tmp_path / "run.py")], env=dict(os.environ, MICROPYPATH=str(out)),
                         capture_output=True, text=True, timeout=60)
    lines = (run.stdout + run.stderr).splitlines()
    assert lines[0] == "(193, 388, 194, 6, {'ERR_A': 3}, 'not a const')"   # TUNABLE: the assigned value
    assert lines[1] == "9"                           # a parameter named like an imported const is not inlined
    assert lines[2] == "False False True"                                 # gone from the modules' globals
    assert lines[3] == "193 388 194 from the module own __getattr__"      # yet found by name
    assert lines[4] == "missing"
    assert 'line 22' in lines[-1] and any('"pkg.proto", line 22' in line for line in lines)


def test_source_lines_are_kept(tmp_path):
    src = tmp_path / "src"
    _write(str(src))
    out = tmp_path / "out"
    written = inline_tree(str(src), str(out))
    assert sorted(written) == sorted(list(PKG) + ["pkg/codes.consts", "pkg/proto.consts", "_const_names.py"])
    for rel in PKG:
        original = PKG[rel].splitlines()
        inlined = (out / rel).read_text().splitlines()
        assert len(inlined) >= len(original)
        for a, b in zip(original, inlined, strict=False):   # every function starts on its source line
            if a.startswith("def ") and a != "def __getattr__(name):":
                assert a == b
