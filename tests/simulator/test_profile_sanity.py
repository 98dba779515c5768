"""The profile a clinic sends is sane: ordered threshold ladders (checked by the device too), a plausible
birth year, a file that names something, and `profile set` changing only what the file names."""
import datetime
import os
import pty
import subprocess

import pytest
from click.testing import CliRunner
from test_cli_sim import DEVICE, PYTHON, e2mon, one_error_line, sim  # noqa: F401  (sim: the fixture)

from host_tools import cli as cli_module
from host_tools import profile_file
from monitor import profile_codec, records
from monitor import profile as P
from monitor.param_names import PARAM_NAMES

THIS_YEAR = datetime.date.today().year


# A fault with a parameter the file does not set says where that value comes from; the file's own comes first.
DEFAULT = " (from the default profile, not set in p)"


def params_of(profile):
    return dict(zip(PARAM_NAMES, profile.params, strict=True))


def test_defaults_satisfy_every_ladder():
    assert profile_codec.ladder_fault(P.Profile().params) is None
    profile_file.check(P.Profile())


@pytest.mark.parametrize("line, message", [
    ("E2_CRITICAL = 50 pg/mL", "E2_CRITICAL = 50 pg/mL must be below E2_LOW_SYMPT = 15 pg/mL" + DEFAULT),
    ("E2_LOW = 30 pg/mL", "E2_LOW = 30 pg/mL must be below E2_BONE = 26 pg/mL" + DEFAULT),
    ("E2_SEVERE = 55 pg/mL", "E2_SEVERE = 55 pg/mL must be above E2_HIGH = 60 pg/mL" + DEFAULT),
    ("E2_MILD_LOW = 35 pg/mL", "E2_MILD_LOW = 35 pg/mL must be above E2_TARGET_HIGH = 40 pg/mL" + DEFAULT),
    ("E2_TARGET_HIGH = 20 pg/mL", "E2_TARGET_HIGH = 20 pg/mL must be above E2_BONE = 26 pg/mL" + DEFAULT),
    ("TT_LOW = 600 ng/dL", "TT_LOW = 600 ng/dL must be below TT_TARGET_LOW = 500 ng/dL" + DEFAULT),
    ("TT_TARGET_HIGH = 500 ng/dL", "TT_TARGET_HIGH = 500 ng/dL must be above TT_TARGET_LOW = 500 ng/dL" + DEFAULT),
    ("HCT_WARN = 55 %\nLEVEL_HCT_WARN = info", "HCT_WARN = 55 % must be below HCT_HIGH = 54 %" + DEFAULT),
])
def test_an_unordered_ladder_is_refused_in_words(line, message):
    with pytest.raises(profile_file.ProfileFileError) as caught:
        profile_file.parse(line + "\n", "p")
    assert str(caught.value) == "p: " + message


@pytest.mark.parametrize("text", ["HCT_HIGH = 52 %", "HCT_HIGH = 0.52 L/L", "HCT_HIGH = 50 %",
                                  "E2_LOW = 15 pg/mL\nLEVEL_E2_LOW_SYMPT = off",
                                  "E2_LOW = 55.07 pmol/L\nLEVEL_E2_LOW_SYMPT = off"])
def test_a_sane_change_beside_a_rule_switched_off_is_accepted(text):
    profile_file.parse(text + "\n", "p")


@pytest.mark.parametrize("text, message", [
    ("HCT_HIGH = 0.52 L/L\nLEVEL_HCT_WARN = info", "HCT_HIGH = 52 % must be above HCT_WARN = 52 %" + DEFAULT),
    ("E2_LOW = 15 pg/mL", "E2_LOW = 15 pg/mL must be above E2_LOW_SYMPT = 15 pg/mL" + DEFAULT),
    ("E2_LOW = 55.07 pmol/L\nLEVEL_E2_LOW_SYMPT = off\nE2_CRITICAL = 15 pg/mL",
     "E2_CRITICAL = 15 pg/mL must be below E2_LOW = 15 pg/mL"),
])
def test_a_rule_switched_on_is_checked_then(text, message):
    with pytest.raises(profile_file.ProfileFileError) as caught:
        profile_file.parse(text + "\n", "p")
    assert str(caught.value) == "p: " + message


def test_a_retired_parameter_is_refused_with_what_replaced_it():
    with pytest.raises(profile_file.ProfileFileError, match="set E2_TARGET_HIGH instead"):
        profile_file.parse("E2_ABOVE = 35 pg/mL\n", "p")


def test_the_device_refuses_an_unordered_ladder_it_receives(tmp_path):
    from test_device_app import make_app   # the real firmware app on a simulated flash
    app = make_app(tmp_path)
    profile = P.Profile()
    profile.params[profile_codec.param_index("E2_CRITICAL")] = 500   # 50 pg/mL, above E2_LOW (20)
    blob = profile_codec.encode(profile)   # encode() does not check: a host that skipped the check
    with pytest.raises(ValueError, match="E2_CRITICAL must be below E2_LOW_SYMPT"):
        profile_codec.decode(blob)
    assert app.set_profile(blob) == records.ERR_PROFILE
    assert app.profile_blob() == profile_codec.encode(P.Profile())


@pytest.mark.parametrize("year, ok", [(0, True), (THIS_YEAR - 18, True), (THIS_YEAR - 110, True),
                                      (THIS_YEAR - 17, False), (THIS_YEAR - 111, False), (2090, False)])
def test_birth_year_within_the_past_18_to_110_years(year, ok):
    text = "BIRTH_YEAR = %d\n" % year
    if ok:
        assert profile_file.parse(text).params[profile_codec.param_index("BIRTH_YEAR")] == year
    else:
        with pytest.raises(profile_file.ProfileFileError, match="BIRTH_YEAR = %d is not 18-110 years ago" % year):
            profile_file.parse(text)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n   # and another\n"])
def test_a_file_that_names_nothing_is_an_error(tmp_path, text):
    with pytest.raises(profile_file.ProfileFileError, match="sets no parameter"):
        profile_file.parse(text)
    path = tmp_path / "empty.profile"
    path.write_text(text)
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["profile", "check", str(path)])
    assert result.exit_code == 6 and "sets no parameter" in result.output


def test_parse_on_a_base_changes_only_the_named_parameters():
    base = P.Profile()
    profile_codec.set_param(base, "E2_TARGET_LOW", 220)
    profile_codec.set_param(base, "GOAL", records.GOAL_FERTILITY)
    merged = profile_file.parse("E2_TARGET_HIGH = 38 pg/mL\n", "p", base)
    expected = params_of(base)
    expected["E2_TARGET_HIGH"] = 380
    assert params_of(merged) == expected
    assert params_of(base)["E2_TARGET_HIGH"] == 400   # the base itself untouched
    assert profile_file.differences(base, merged) == [("E2_TARGET_HIGH", "40 pg/mL", "38 pg/mL")]


def test_provision_refuses_a_future_birth_year(tmp_path):
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["--port", str(tmp_path / "no-such-port"), "provision",
                                                 DEVICE, "--birth-year", "2090"],
                                env={"E2MON_CONFIG": str(tmp_path / "c"), "E2MON_DB": str(tmp_path / "db")})
    assert result.exit_code == 6 and "BIRTH_YEAR = 2090 is not 18-110 years ago" in one_error_line(result)


@pytest.mark.parametrize("text, message", [("1975-02-30", "--birth-date 1975-02-30"),
                                           ("2090-01-01", "BIRTH_YEAR = 2090 is not 18-110 years ago")])
def test_provision_refuses_a_bad_birth_date(tmp_path, text, message):
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["--port", str(tmp_path / "no-such-port"), "provision",
                                                 DEVICE, "--birth-date", text],
                                env={"E2MON_CONFIG": str(tmp_path / "c"), "E2MON_DB": str(tmp_path / "db")})
    assert result.exit_code == 6 and message in one_error_line(result)


# ---- against the simulated device ----------------------------------------------------------------------
def device_params(env):
    shown = e2mon(env, "profile", "show")
    assert shown.exit_code == 0, shown.output
    return params_of(profile_file.parse(shown.output))


def test_set_changes_only_the_named_parameters_and_replace_resets_the_rest(sim, tmp_path):  # noqa: F811
    first = tmp_path / "first.profile"
    first.write_text("E2_TARGET_LOW = 22 pg/mL\nGOAL = fertility\n")
    assert e2mon(sim, "profile", "set", str(first)).exit_code == 0
    before = device_params(sim)
    only_birth_year = tmp_path / "birth.profile"
    only_birth_year.write_text("BIRTH_YEAR = 1980\n")
    result = e2mon(sim, "profile", "set", str(only_birth_year))
    assert result.exit_code == 0, result.output
    assert "BIRTH_YEAR: 0 -> 1980" in result.output
    after = device_params(sim)
    assert after == dict(before, BIRTH_YEAR=1980)
    assert after["E2_TARGET_LOW"] == 220 and after["GOAL"] == records.GOAL_FERTILITY
    # The same again changes nothing and sends nothing.
    again = e2mon(sim, "--json", "profile", "set", str(only_birth_year))
    assert again.exit_code == 0 and '"sent": false' in again.output
    # --replace: every rule parameter the file does not name goes back to its default; the patient's fields
    # (birth year, goal, ...) stay unless the file names them.
    replaced = e2mon(sim, "profile", "set", "--replace", str(only_birth_year))
    assert replaced.exit_code == 0, replaced.output
    assert "E2_TARGET_LOW: 22 pg/mL -> 20 pg/mL" in replaced.output and "GOAL" not in replaced.output
    assert device_params(sim) == dict(params_of(P.Profile()), BIRTH_YEAR=1980, GOAL=records.GOAL_FERTILITY)
    # A future birth year and an unordered ladder are refused before anything is sent.
    for text, words in (("BIRTH_YEAR = 2090\n", "BIRTH_YEAR = 2090"),
                        ("E2_CRITICAL = 50 pg/mL\n", "E2_CRITICAL = 50 pg/mL must be below")):
        bad = tmp_path / "bad.profile"
        bad.write_text(text)
        refused = e2mon(sim, "profile", "set", str(bad))
        assert refused.exit_code == 6 and words in one_error_line(refused)
    assert device_params(sim) == dict(params_of(P.Profile()), BIRTH_YEAR=1980, GOAL=records.GOAL_FERTILITY)
    # The order is checked on the device's profile with the change, not on the defaults: E2_HIGH = 100
    # is fine below the device's E2_SEVERE of 120 (above the default 80).
    for step in ("E2_SEVERE = 120 pg/mL\n", "E2_HIGH = 100 pg/mL\n"):
        first.write_text(step)
        assert e2mon(sim, "profile", "set", str(first)).exit_code == 0
    assert (device_params(sim)["E2_HIGH"], device_params(sim)["E2_SEVERE"]) == (1000, 1200)


def run_on_a_terminal(env, args, answer):
    """e2mon as a subprocess whose stdin is a terminal (a pty); `answer` typed at the prompt."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([os.path.join(os.path.dirname(PYTHON), "e2mon"), "--sim"] + args, stdin=slave,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, **env))
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, out, err


def test_a_terminal_is_asked_before_sending(sim, tmp_path):  # noqa: F811
    start = tmp_path / "start.profile"
    start.write_text("E2_TARGET_HIGH = 40 pg/mL\nE2_TARGET_LOW = 20 pg/mL\n")
    e2mon(sim, "profile", "set", str(start))
    change = tmp_path / "change.profile"
    change.write_text("E2_TARGET_HIGH = 38 pg/mL\n")
    code, out, err = run_on_a_terminal(sim, ["profile", "set", str(change)], "n")
    assert "E2_TARGET_HIGH: 40 pg/mL -> 38 pg/mL" in err and "Send them?" in err
    assert code == 1 and "cancelled: nothing was sent" in err
    assert device_params(sim)["E2_TARGET_HIGH"] == 400
    code, out, err = run_on_a_terminal(sim, ["profile", "set", str(change)], "y")
    assert code == 0, err
    assert device_params(sim)["E2_TARGET_HIGH"] == 380
    # --yes (or stdin not a terminal, as in CliRunner above) asks nothing.
    back = tmp_path / "back.profile"
    back.write_text("E2_TARGET_HIGH = 40 pg/mL\n")
    code, out, err = run_on_a_terminal(sim, ["profile", "set", "--yes", str(back)], "n")
    assert code == 0 and "Send them?" not in err
    assert device_params(sim)["E2_TARGET_HIGH"] == 400


def test_a_json_profile_gets_the_same_checks(tmp_path):
    cli_module._register()
    cases = (('{"patient": {"birth_year": 1980}}', 0, "is a valid profile"),
             ('{"patient": {"birth_year": 2090}}', 6, "BIRTH_YEAR = 2090 is not 18-110 years ago"),
             ('{"profile": {"E2_CRITICAL": {"threshold": "50 pg/mL"}}}', 6,
              "E2_CRITICAL = 50 pg/mL must be below E2_LOW_SYMPT = 15 pg/mL (from the default profile, not set in"),
             ('{"entries": []}', 6, "sets no parameter"))
    for text, code, words in cases:
        path = tmp_path / "p.json"
        path.write_text(text)
        result = CliRunner().invoke(cli_module.cli, ["profile", "check", str(path)])
        assert result.exit_code == code and words in result.output, (text, result.output)


@pytest.mark.parametrize("value, ok", [(0, True), (615, True), (229, True), (1231, True), (230, False),
                                       (1300, False), (100, False)])
def test_birth_month_day_is_a_real_month_and_day(value, ok):
    text = "BIRTH_MONTH_DAY = %d\n" % value
    if ok:
        profile_file.parse(text, "p")
    else:
        with pytest.raises(profile_file.ProfileFileError, match="BIRTH_MONTH_DAY"):
            profile_file.parse(text, "p")
