"""Messages that name the real cause, and one exit code per cause in every command."""
import datetime
import subprocess
import sys

import pytest
from click.testing import CliRunner

from host_tools import cli as cli_module
from host_tools import connect, failures, report
from host_tools.device_link import DeviceError
from host_tools.failures import EXIT_DEVICE_FULL, EXIT_REJECTED, EXIT_STORAGE, Failure
from host_tools.settings import Settings
from monitor import beacon, dates, protocol
from paths import ROOT
from test_cli_offline import DAY, make_db


def e2mon(db_path, *args, env=None):
    cli_module._register()
    return CliRunner().invoke(cli_module.cli, ["--db", str(db_path)] + list(args), env=env,
                              catch_exceptions=False)


def test_a_full_device_store_has_its_own_exit_code_not_the_host_files():
    failure = connect.link_failure(DeviceError(protocol.ERR_STORE_FULL), "storing the entry")
    assert failure.exit_code == EXIT_DEVICE_FULL != EXIT_STORAGE
    assert "device's storage is full" in failure.what and "pull" in failure.todo
    assert (EXIT_DEVICE_FULL, "device_full") in [(code, name) for code, name, _ in failures.EXIT_CODES]


def test_an_out_of_range_port_is_named_with_its_range():
    with pytest.raises(Failure) as caught:
        connect.sim_endpoint(Settings(sim=True, sim_transport="127.0.0.1:99999"))
    assert caught.value.exit_code == EXIT_REJECTED and "outside 1 to 65535" in caught.value.what
    served = subprocess.run([sys.executable, "-m", "sim", "serve", "--port", "70000", "--no-keyboard"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert served.returncode == 2 and "port 70000 is outside 0 to 65535" in served.stderr
    assert "OverflowError" not in served.stderr


def test_a_missing_output_folder_is_named_not_the_temporary_file(tmp_path):
    db_path = tmp_path / "h.sqlite"
    make_db(db_path)
    missing = tmp_path / "no" / "such"
    for args in (("export", "--out", str(missing / "x.csv")), ("report", "--out", str(missing / "r.png")),
                 ("backup", str(missing / "b.sqlite"))):
        result = e2mon(db_path, *args)
        assert result.exit_code == EXIT_STORAGE, (args, result.output)
        assert ".part" not in result.output and "the folder %s does not exist" % missing in result.output


def test_a_missing_input_file_gives_one_exit_code_in_every_command(tmp_path):
    db_path = tmp_path / "h.sqlite"
    make_db(db_path)
    missing = str(tmp_path / "missing")
    for args in (("evaluate", missing), ("profile", "check", missing), ("restore", missing),
                 ("update", missing), ("release", "build", "--board", "esp32", "--version", "9.9", "--sequence",
                                       "9", "--key", missing, "--out", str(tmp_path / "b.bin"))):
        result = e2mon(db_path, *args)
        assert result.exit_code == EXIT_STORAGE, (args, result.output)
        assert missing in result.output


def test_report_as_of_an_earlier_date_leaves_later_records_out_without_blaming_a_clock(tmp_path):
    db_path = tmp_path / "h.sqlite"
    make_db(db_path)     # records from DAY to DAY + 31
    from host_tools.db import HostDB
    with HostDB(str(db_path)) as db:
        data = report.gather(db, "dev-a", today=DAY + 10)
    assert data.impossible == [] and data.later == 3
    text = " ".join(report.summary_lines(data))
    assert "clock" not in text and "3 records dated after %s, the date this report is as of" \
        % dates.format_day(DAY + 10) in text


def test_a_host_clock_a_day_off_is_named_not_a_second_provisioning():
    key = bytes(range(16))
    now = datetime.datetime(2026, 12, 7, 21, 0)
    device_clock = now - datetime.timedelta(days=3, hours=2)
    heard = [beacon.identifier(bytes(16), 5),
             beacon.identifier(key, beacon.clock_window(dates.days_from_civil(2026, 12, 4), 19 * 60))]
    minutes = connect.clock_skew(key, heard, now=now)
    assert minutes == round((device_clock - now).total_seconds() / 60 / beacon.WINDOW_MINUTES) * \
        beacon.WINDOW_MINUTES
    failure = connect.clock_off("C0:E2:00:00:00:01", minutes)
    assert "this computer's clock reads" in failure.what and "3 days 2 h apart" in failure.what
    assert "provisioned again" not in failure.what + failure.todo
    assert connect.clock_skew(key, [beacon.identifier(bytes(16), 5)], now=now) is None
