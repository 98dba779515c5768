"""Keys in a clinic: any member pulls any device, the database alone opens none, a removed clinician's
machine opens none."""
import os
import sqlite3

import pytest
from cryptography.exceptions import InvalidTag
from click.testing import CliRunner

from host_tools import clinic_keys, host_crypto, keys
from host_tools.cli import _register, cli
from host_tools.db import HostDB

DEVICES = ("C0:E2:00:00:02:01", "C0:E2:00:00:02:02")


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """A database and three machines (config dirs); machine "ana" holds two devices' key files."""
    monkeypatch.setenv("E2MON_NO_KEYRING", "1")
    db = str(tmp_path / "clinic.sqlite")
    HostDB(db).close()
    machines = {name: str(tmp_path / name) for name in ("ana", "ben", "cleo")}
    at(monkeypatch, machines["ana"])
    held = {}
    for device_id in DEVICES:
        held[device_id] = host_crypto.host_keys(host_crypto.new_device_key())
        for name, key in held[device_id].items():
            keys.save_key(device_id, name, key)
    return db, machines, held, monkeypatch


def at(monkeypatch, machine):
    monkeypatch.setenv("E2MON_CONFIG", machine)


def e2mon(db, *args, input=None):
    _register()
    return CliRunner().invoke(cli, ["--db", db, *args], input=input)


def test_init_moves_the_key_files_into_the_clinic_and_they_still_open(clinic):
    db, machines, held, _mp = clinic
    result = e2mon(db, "clinic", "init", "ana")
    assert result.exit_code == 0, result.output
    assert keys.known_devices() == []     # no key file left on this computer
    for device_id, found in held.items():
        for name, key in found.items():
            assert clinic_keys.load_key(device_id, name) == key


def test_a_database_dump_alone_opens_no_device(clinic):
    db, machines, held, monkeypatch = clinic
    assert e2mon(db, "clinic", "init", "ana").exit_code == 0
    conn = sqlite3.connect(db)
    dump = "\n".join(conn.iterdump()).encode()
    conn.close()
    with open(db, "rb") as f:
        raw = f.read()
    for found in held.values():
        for key in found.values():
            for form in (key, key.hex().encode(), key.hex().upper().encode()):
                assert form not in raw and form not in dump
    # another computer with the database but no member's identity: no key
    at(monkeypatch, machines["cleo"])
    with pytest.raises(keys.KeyMissing):
        clinic_keys.load_key(DEVICES[0], "clinician")
    # nor with an identity of its own that no member added
    assert e2mon(db, "clinic", "join", "cleo").exit_code == 0
    with pytest.raises(keys.KeyMissing, match="waits to be added"):
        clinic_keys.load_key(DEVICES[0], "clinician")


def _join_and_add(db, monkeypatch, machines, name, by="ana"):
    at(monkeypatch, machines[name])
    joined = e2mon(db, "clinic", "join", name)
    assert joined.exit_code == 0, joined.output
    fingerprint = joined.output.split("fingerprint: ")[1].splitlines()[0]
    at(monkeypatch, machines[by])
    added = e2mon(db, "clinic", "add-clinician", name, "--fingerprint", fingerprint)
    assert added.exit_code == 0, added.output


def test_a_clinician_added_pulls_without_copying_key_files(clinic):
    db, machines, held, monkeypatch = clinic
    assert e2mon(db, "clinic", "init", "ana").exit_code == 0
    _join_and_add(db, monkeypatch, machines, "ben")
    at(monkeypatch, machines["ben"])
    assert not os.path.exists(os.path.join(machines["ben"], "e2mon", "keys"))
    assert clinic_keys.load_key(DEVICES[1], keys.BEACON) == held[DEVICES[1]][keys.BEACON]


def test_a_wrong_fingerprint_is_refused(clinic):
    db, machines, _held, monkeypatch = clinic
    assert e2mon(db, "clinic", "init", "ana").exit_code == 0
    at(monkeypatch, machines["ben"])
    assert e2mon(db, "clinic", "join", "ben").exit_code == 0
    at(monkeypatch, machines["ana"])
    result = e2mon(db, "clinic", "add-clinician", "ben", "--fingerprint", "0000 0000 0000 0000 0000")
    assert result.exit_code == 6 and "does not match" in result.output
    at(monkeypatch, machines["ben"])
    with pytest.raises(keys.KeyMissing):
        clinic_keys.load_key(DEVICES[0], "clinician")


def test_a_removed_clinician_opens_no_device(clinic):
    db, machines, held, monkeypatch = clinic
    assert e2mon(db, "clinic", "init", "ana").exit_code == 0
    _join_and_add(db, monkeypatch, machines, "ben")
    _join_and_add(db, monkeypatch, machines, "cleo")
    # what ben's machine could keep while a member: the clinic key itself
    at(monkeypatch, machines["ben"])
    from host_tools import clinic_schema
    with clinic_schema.engine(db).connect() as conn:
        old_generation, old_clinic_key = clinic_keys._clinic_key(conn)
    at(monkeypatch, machines["ana"])
    result = e2mon(db, "clinic", "remove-clinician", "ben")
    assert result.exit_code == 0, result.output
    assert all(d in result.output for d in DEVICES)    # the devices to provision again
    at(monkeypatch, machines["ben"])
    for device_id in DEVICES:
        for name in clinic_keys.KEY_NAMES:
            with pytest.raises(keys.KeyMissing):
                clinic_keys.load_key(device_id, name)
    # the old clinic key opens no sealed key left in the database
    with clinic_schema.engine(db).connect() as conn:
        rows = conn.execute(clinic_schema.device_key_wraps.select()).all()
    assert rows and all(r.generation == old_generation + 1 for r in rows)
    for r in rows:
        for generation in (r.generation, old_generation):
            with pytest.raises(InvalidTag):
                clinic_keys.open_device_key(old_clinic_key, r.device_id, r.name, generation, r.sealed)
    # the others still open every device
    for member in ("ana", "cleo"):
        at(monkeypatch, machines[member])
        for device_id, found in held.items():
            assert clinic_keys.load_key(device_id, "clinician") == found["clinician"]


def test_provisioning_as_a_member_keeps_the_keys_in_the_clinic_only(clinic):
    db, machines, _held, monkeypatch = clinic
    assert e2mon(db, "clinic", "init", "ana").exit_code == 0
    new = host_crypto.host_keys(host_crypto.new_device_key())
    assert clinic_keys.save_device_keys("C0:E2:00:00:02:09", new) == clinic_keys.CLINIC_STORE
    assert keys.known_devices() == []
    _join_and_add(db, monkeypatch, machines, "ben")
    at(monkeypatch, machines["ben"])
    assert clinic_keys.load_key("C0:E2:00:00:02:09", "patient") == new["patient"]


def test_a_clinician_cannot_remove_themselves(clinic):
    db, _machines, _held, _mp = clinic
    assert e2mon(db, "clinic", "init", "ana").exit_code == 0
    result = e2mon(db, "clinic", "remove-clinician", "ana")
    assert result.exit_code == 4 and "cannot remove themselves" in result.output
