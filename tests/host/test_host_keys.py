"""Device keys on the host: a 0600 file in a 0700 directory when no keyring is available."""
import os
import stat

import pytest

from host_tools import keys


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("E2MON_CONFIG", str(tmp_path))
    monkeypatch.setenv("E2MON_NO_KEYRING", "1")
    return tmp_path


def test_key_file_round_trip_and_permissions(config):
    key = bytes(range(32))
    where = keys.save_key("AA:BB:CC:DD:EE:FF", "clinician", key)
    assert where.startswith(str(config))
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(where)).st_mode) == 0o700
    assert keys.load_key("AA:BB:CC:DD:EE:FF", "clinician") == key
    assert keys.known_devices() == ["AA:BB:CC:DD:EE:FF"]   # the device id, not its file name


def test_missing_key_and_roles_are_separate(config):
    keys.save_key("dev1", "clinician", b"\x01" * 32)
    with pytest.raises(keys.KeyMissing):
        keys.load_key("dev1", "patient")
    with pytest.raises(keys.KeyMissing):
        keys.load_key("dev2", "clinician")


def test_key_readable_by_others_is_refused(config):
    path = keys.save_key("dev1", "clinician", b"\x02" * 32)
    os.chmod(path, 0o644)
    with pytest.raises(keys.NotPrivate, match="chmod 600"):
        keys.load_key("dev1", "clinician")


def test_bad_names_are_refused(config):
    with pytest.raises(ValueError):
        keys.save_key("../etc/passwd", "clinician", b"\x01")
    with pytest.raises(ValueError):
        keys.save_key("dev1", "clinician", b"")
