"""deploy: the real mpy-cross compile per board architecture and the exact mpremote command."""
import os

import pytest
from click.testing import CliRunner

from host_tools import cli as cli_module
from host_tools import deploy


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
