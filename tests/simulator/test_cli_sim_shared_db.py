"""`e2mon` with its history in PostgreSQL, against the simulated device (the firmware app, store and GATT
service over bumble's TCP link): pull, push, profile change land in the clinic's database with their audit
entries, and a second device command on the same device meanwhile is refused by its advisory lock."""
import json

from host_tools.db import HostDB, exclusive
from test_cli_sim import DEVICE, KEY, SimDevice, e2mon, host_env, save_keys


def test_pull_push_and_profile_into_postgresql_are_attributed(tmp_path, pg_url):
    device = SimDevice(str(tmp_path / "flash"), KEY.hex(), 40)
    try:
        env = host_env(tmp_path, device.port)
        env.update(E2MON_DB=pg_url, E2MON_CLINICIAN="Dr Sim", E2MON_SETTINGS=str(tmp_path / "none.toml"))
        save_keys(env)
        assert e2mon(env, "time", "sync").exit_code == 0
        pulled = e2mon(env, "--json", "pull")
        assert pulled.exit_code == 0, pulled.output
        first = json.loads(pulled.output)
        assert first["new"] >= 40
        pushed = e2mon(env, "--json", "push", "symptom", "JOINT", "2")
        assert pushed.exit_code == 0, pushed.output
        shown = e2mon(env, "profile", "show")
        edited = tmp_path / "clinic.profile"
        edited.write_text(shown.output.replace("E2_TARGET_LOW = 20 pg/mL", "E2_TARGET_LOW = 22 pg/mL"))
        assert e2mon(env, "profile", "set", str(edited), "--yes").exit_code == 0
        with exclusive(pg_url, "talking to %s" % DEVICE, DEVICE):   # another clinician's e2mon on it
            busy = e2mon(env, "pull")
        assert busy.exit_code == 8 and "talking to %s" % DEVICE in busy.output
        again = json.loads(e2mon(env, "--json", "pull").output)
        assert again["new"] >= 1   # the pushed entry (and the device's sync mark)
        with HostDB(pg_url) as db:
            seqs = [r[0] for r in db.records(DEVICE)]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) == first["new"] + again["new"]
        entries = json.loads(e2mon(env, "--json", "audit", "--device", DEVICE).output)
        actions = [e["action"] for e in entries]
        assert actions[:2] == ["pull", "acknowledge"] and "push" in actions and "profile change" in actions
        assert actions.count("pull") == 2
        assert all(e["clinician"] == "Dr Sim" and e["device_id"] == DEVICE for e in entries)
        assert "E2_TARGET_LOW" in [e for e in entries if e["action"] == "profile change"][0]["detail"]
    finally:
        device.stop()
