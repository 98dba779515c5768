"""deploy: the real mpy-cross compile per board architecture and the exact mpremote command; the ROMFS
route's image booted on the MicroPython unix port."""
import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from host_tools import cli as cli_module
from host_tools import deploy, firmware_version


def test_board_architecture_reaches_mpy_cross(tmp_path):
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "fast.py").write_text("import micropython\n@micropython.native\ndef f(x):\n    return x + 1\n")
    arch_codes = {}
    for board, arch in deploy.BOARD_ARCH.items():
        out = tmp_path / board
        sizes = deploy.compile_firmware(arch, str(out), source_dir=str(src))
        assert list(sizes) == [os.path.join("pkg", "fast.py")]
        header = (out / "pkg" / "fast.mpy").read_bytes()[:4]
        assert header[:2] == b"M\x06"
        arch_codes[board] = header[2] >> 2
    # MicroPython's native-arch numbers: ARMV6M = 4 (RP2040), XTENSAWIN = 10 (ESP32).
    assert arch_codes == {"pico_w": 4, "esp32": 10}


def test_compile_error_names_the_file(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "broken.py").write_text("def f(:\n")
    with pytest.raises(deploy.CompileError, match="broken.py"):
        deploy.compile_firmware("armv6m", str(tmp_path / "out"), source_dir=str(src))


def test_stage_keeps_main_as_source_and_command_line(tmp_path):
    stage_dir = deploy.stage("pico_w", str(tmp_path / "stage"))
    dirs, files = deploy.staged_entries(stage_dir)
    assert "monitor" in dirs
    assert os.path.exists(os.path.join(stage_dir, "monitor", "records.mpy"))
    assert not any(name.endswith(".py") for _d, _s, fs in os.walk(os.path.join(stage_dir, "monitor"))
                   for name in fs)
    argv = deploy.mpremote_command("/dev/ttyACM0", stage_dir)
    assert argv[0].endswith("mpremote")
    expected = ["connect", "/dev/ttyACM0", "fs", "cp", "-r"] + dirs + [":", "+"]
    for name in files:
        expected += ["fs", "cp", name, ":" + name, "+"]
    assert argv[1:] == expected + ["soft-reset"]
    if os.path.exists(os.path.join(deploy.FIRMWARE, "main.py")):
        assert files[-1] == "main.py"
    assert not [name for name in files if name.startswith("manifest")]   # build input, not board code


def test_stage_stamps_the_version_from_git(tmp_path):
    version = firmware_version.describe()
    assert version != firmware_version.UNSTAMPED   # this checkout is a git tree
    stage_dir = deploy.stage("pico_w", str(tmp_path / "stage"))
    compiled = open(os.path.join(stage_dir, "monitor", "version.mpy"), "rb").read()
    assert version.encode() in compiled
    with open(os.path.join(deploy.FIRMWARE, "monitor", "version.py")) as f:
        assert 'VERSION = "dev"' in f.read()   # the source itself is never stamped


def test_deploy_runs_mpremote_in_stage_dir(monkeypatch, tmp_path):
    calls = []

    class Done:
        returncode = 0

    def run(argv, cwd=None):
        calls.append((argv, cwd))
        return Done()

    monkeypatch.setattr(deploy, "BUILD", str(tmp_path))
    stage_dir, argv = deploy.deploy("esp32", "/dev/ttyUSB0", run=run)
    assert calls == [(argv, stage_dir)]
    assert argv[1:3] == ["connect", "/dev/ttyUSB0"]


def test_cli_deploy_without_port_is_one_clear_line():
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["deploy", "--board", "esp32"])
    assert result.exit_code == 6
    lines = result.output.strip().splitlines()
    assert lines == ["Error: no USB port given. Pass --port PORT, e.g. e2mon --port /dev/ttyUSB0 deploy"]


def test_cli_deploy_dry_run_json(tmp_path):
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["--json", "--port", "/dev/ttyUSB0", "deploy",
                                                 "--board", "pico_w", "--dry-run"])
    assert result.exit_code == 0, result.output
    import json
    data = json.loads(result.output)
    assert data["arch"] == "armv6m" and data["ran"] is False
    assert data["command"][1:3] == ["connect", "/dev/ttyUSB0"]


def test_cli_deploy_port_after_the_command():
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["--json", "deploy", "--board", "esp32", "--dry-run",
                                                 "--port", "/dev/ttyUSB1"])
    assert result.exit_code == 0, result.output
    import json
    assert json.loads(result.output)["command"][1:3] == ["connect", "/dev/ttyUSB1"]


def test_board_detected_from_sys_platform():
    class Done:
        def __init__(self, out, rc=0):
            self.stdout, self.stderr, self.returncode = out, "", rc

    seen = []

    def board_says(text, rc=0):
        def run(argv, **kwargs):
            seen.append(argv)
            return Done(text, rc)
        return run

    assert deploy.detect_board("/dev/ttyACM0", run=board_says("rp2\n")) == "pico_w"
    assert deploy.detect_board("/dev/ttyUSB0", run=board_says("esp32\n")) == "esp32"
    assert seen[0][1:] == ["connect", "/dev/ttyACM0", "exec", "import sys; print(sys.platform)"]
    with pytest.raises(deploy.CompileError, match="could not tell"):
        deploy.detect_board("/dev/ttyUSB0", run=board_says("linux\n"))
    with pytest.raises(deploy.CompileError):
        deploy.detect_board("/dev/ttyUSB0", run=board_says("", rc=1))


from paths import ROOT  # noqa: E402
UPY = os.path.join(os.path.dirname(sys.executable), "micropython")


@pytest.fixture(scope="module")
def pico_romfs(tmp_path_factory):
    """pico_w staged into a temporary directory and its ROMFS image next to it: (stage_dir, image path)."""
    stage_dir = deploy.stage("pico_w", str(tmp_path_factory.mktemp("romfs") / "stage"))
    return stage_dir, deploy.write_romfs(stage_dir)


def upy(args, cwd=ROOT):
    env = dict(os.environ, MICROPYPATH=".frozen:" + os.path.join(ROOT, "tests", "upy_shadow"))
    return subprocess.run([UPY, "-X", "heapsize=256K"] + args, env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_romfs_command_line(pico_romfs):
    stage_dir, image = pico_romfs
    assert image == stage_dir + ".romfs"
    dirs, files = deploy.staged_entries(stage_dir)
    argv = deploy.mpremote_command("/dev/ttyACM0", stage_dir, image)
    remove = deploy.REMOVE_STALE % (("boards", "device", "monitor", "_const_names.mpy", "update_boot.mpy"),)
    assert (dirs, files) == (["boards", "device", "monitor"], ["_const_names.mpy", "update_boot.mpy", "main.py"])
    assert argv[1:] == ["connect", "/dev/ttyACM0", "romfs", "deploy", image, "+", "exec", remove, "+",
                        "fs", "cp", "main.py", ":main.py", "+", "soft-reset"]


def test_romfs_image_leaves_main_on_the_filesystem(pico_romfs, tmp_path):
    stage_dir, image = pico_romfs
    with open(image, "rb") as f:
        data = f.read()
    assert data.startswith(b"\xd2\xcd\x31") and data == deploy.romfs_image(stage_dir)
    without_main = str(tmp_path / "without_main")
    shutil.copytree(stage_dir, without_main)
    os.remove(os.path.join(without_main, "main.py"))
    assert deploy.romfs_image(without_main) == data


def test_romfs_image_boots_on_micropython(pico_romfs):
    """The image mounted at /rom as a board mounts it: the app's modules import from ROM and the const()
    names the build inlined are read back through the .consts files in the image."""
    from monitor import records
    _stage_dir, image = pico_romfs
    proc = upy([os.path.join(ROOT, "tests", "upy_device", "romfs_boot.py"), image])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    files = [line.split(" ")[1:] for line in lines if line.startswith("file ")]
    assert [name for name, _path in files] == ["monitor.app", "monitor.store", "device.ble_service",
                                              "monitor.records"]
    assert all(path.startswith("/rom/") and path.endswith(".mpy") for _name, path in files)
    facts = dict(line.split(" ", 1) for line in lines if not line.startswith(("file ", "const ")))
    assert facts["rom"] == "_const_names.mpy,boards,device,monitor,update_boot.mpy"   # main.py is not in ROM
    assert "records.consts" in facts["rom_monitor"].split(",")
    assert facts["in_globals"] == "False False"     # inlined away: the values below come from the file
    assert [line for line in lines if line.startswith("const ")] == [
        "const KIND_LAB %d" % records.KIND_LAB, "const KIND_EVENT %d" % records.KIND_EVENT]


def test_romfs_route_removes_what_a_plain_deploy_left(pico_romfs, tmp_path):
    """The exec step of the ROMFS route, run by MicroPython on a board-like tree: the packages and files now
    in ROM are gone, main.py and the data directory stay."""
    stage_dir, image = pico_romfs
    argv = deploy.mpremote_command("/dev/ttyACM0", stage_dir, image)
    board = tmp_path / "board"
    for rel in ("monitor/records.mpy", "monitor/records.consts", "device/app.mpy", "boards/pico_w.mpy",
                "_const_names.mpy", "main.py", "data/log.bin"):
        (board / rel).parent.mkdir(parents=True, exist_ok=True)
        (board / rel).write_bytes(b"x")
    proc = upy(["-c", argv[argv.index("exec") + 1]], cwd=str(board))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(os.listdir(board)) == ["data", "main.py"]
    assert os.listdir(board / "data") == ["log.bin"]
    proc = upy(["-c", argv[argv.index("exec") + 1]], cwd=str(board))   # nothing left to remove: no error
    assert proc.returncode == 0 and sorted(os.listdir(board)) == ["data", "main.py"]


def test_cli_deploy_dry_run_romfs_json(monkeypatch, tmp_path):
    monkeypatch.setattr(deploy, "BUILD", str(tmp_path))
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["--json", "--port", "/dev/ttyACM0", "deploy",
                                                 "--board", "pico_w", "--dry-run", "--romfs"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    image = os.path.join(str(tmp_path), "deploy", "pico_w.romfs")
    assert data["romfs"] == image and data["romfs_bytes"] == os.path.getsize(image) > 0
    assert data["staged"] == os.path.join(str(tmp_path), "deploy", "pico_w") and data["ran"] is False
    assert data["command"][1:6] == ["connect", "/dev/ttyACM0", "romfs", "deploy", image]
    assert data["command"][-7:] == ["+", "fs", "cp", "main.py", ":main.py", "+", "soft-reset"]


def test_cli_deploy_dry_run_romfs_text(monkeypatch, tmp_path):
    monkeypatch.setattr(deploy, "BUILD", str(tmp_path))
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["deploy", "--board", "esp32", "--dry-run", "--romfs"])
    assert result.exit_code == 0, result.output
    image = os.path.join(str(tmp_path), "deploy", "esp32.romfs")
    command, size = result.output.rstrip("\n").rsplit("\n", 1)
    prefix = "would run (in %s): " % os.path.join(str(tmp_path), "deploy", "esp32")
    assert command.startswith(prefix)
    # one shell line (the exec script quoted), runnable as printed
    argv = shlex.split(command[len(prefix):])
    assert argv[1:6] == ["connect", "PORT", "romfs", "deploy", image] and argv[-1] == "soft-reset"
    assert size == "ROMFS image %s: %d bytes" % (image, os.path.getsize(image))
