"""The clinic's keys end to end, against the simulated device over bumble's link: a clinician who never held
a key file pulls, provisioning as a member keeps the keys in the clinic only, and a removed clinician's
pull is refused."""
import json

from test_cli_sim import DEVICE, KEY, SimDevice, e2mon, host_env, save_keys

from host_tools.db import HostDB


def machine(tmp_path, name, port, db):
    env = host_env(tmp_path / name, port)
    env["E2MON_DB"] = db
    return env


def test_clinicians_pull_with_the_clinics_keys_until_removed(tmp_path):
    db = str(tmp_path / "clinic.sqlite")
    HostDB(db).close()
    device = SimDevice(str(tmp_path / "flash"), KEY.hex(), 30)
    try:
        ana = machine(tmp_path, "ana", device.port, db)
        ben = machine(tmp_path, "ben", device.port, db)
        save_keys(ana)                                    # ana provisioned it before the clinic existed
        assert e2mon(ana, "clinic", "init", "ana").exit_code == 0
        assert not (tmp_path / "ana" / "config" / "e2mon" / "keys" / "C0-E2-00-00-00-01.clinician.key").exists()
        assert e2mon(ben, "pull").exit_code == 4          # ben's computer: no key at all
        joined = e2mon(ben, "clinic", "join", "ben")
        fingerprint = joined.output.split("fingerprint: ")[1].splitlines()[0]
        assert e2mon(ana, "clinic", "add-clinician", "ben", "--fingerprint", fingerprint).exit_code == 0
        pulled = e2mon(ben, "--json", "pull")
        assert pulled.exit_code == 0, pulled.output
        assert json.loads(pulled.output)["device_id"] == DEVICE and json.loads(pulled.output)["new"] >= 30
        assert e2mon(ana, "--json", "pull").exit_code == 0   # ana too, from the store
        removed = e2mon(ana, "clinic", "remove-clinician", "ben")
        assert removed.exit_code == 0 and DEVICE in removed.output
        refused = e2mon(ben, "pull")
        assert refused.exit_code == 4 and "not a member" in refused.output
        assert e2mon(ana, "pull").exit_code == 0
    finally:
        device.stop()


def test_provisioning_as_a_member_leaves_no_key_file(tmp_path):
    db = str(tmp_path / "clinic.sqlite")
    HostDB(db).close()
    device = SimDevice(str(tmp_path / "flash"), "-", 12, serial=True)
    try:
        ana = machine(tmp_path, "ana", device.port, db)
        ben = machine(tmp_path, "ben", device.port, db)
        assert e2mon(ana, "clinic", "init", "ana").exit_code == 0
        joined = e2mon(ben, "clinic", "join", "ben")
        fingerprint = joined.output.split("fingerprint: ")[1].splitlines()[0]
        assert e2mon(ana, "clinic", "add-clinician", "ben", "--fingerprint", fingerprint).exit_code == 0
        made = e2mon(ben, "--port", device.serial, "--json", "provision")
        assert made.exit_code == 0, made.output
        assert "clinic" in json.loads(made.output)["key_store"]
        assert not (tmp_path / "ben" / "config" / "e2mon" / "keys").exists()
        pulled = e2mon(ana, "--json", "pull")             # ana never saw the device's keys
        assert pulled.exit_code == 0, pulled.output
    finally:
        device.stop()
