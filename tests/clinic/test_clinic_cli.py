"""`e2mon clinic user` and `e2mon clinic serve` as a clinician runs them: the real command in its own process,
its access log on stderr."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
from clinic_fixtures import PATIENTS, three_patients
from click.testing import CliRunner

from host_tools.cli import _register, cli

PASSWORD = "correct horse battery"
E2MON = os.path.join(os.path.dirname(sys.executable), "e2mon")


def e2mon(db, *args, input=None):
    _register()
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_accounts_are_made_listed_and_removed(tmp_path):
    db = three_patients(tmp_path / "c.sqlite")
    assert e2mon(db, "clinic", "user", "add", "dr.ana", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    assert e2mon(db, "clinic", "user", "list").output.split() == ["dr.ana"]
    again = e2mon(db, "clinic", "user", "add", "dr.ana", "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 6 and "already" in again.output
    short = e2mon(db, "clinic", "user", "add", "dr.ben", "--password-stdin", input="short\n")
    assert short.exit_code == 6 and "at least" in short.output
    assert e2mon(db, "clinic", "user", "remove", "dr.ana").exit_code == 0
    assert "no account" in e2mon(db, "clinic", "user", "list").output
    # both changes are attributed in the audit log, which e2mon cannot edit
    shown = e2mon(db, "audit").output
    assert "page account added" in shown and "page account removed" in shown and "dr.ana" in shown


def test_serve_needs_an_account_and_a_database(tmp_path):
    missing = e2mon(tmp_path / "none.sqlite", "clinic", "serve")
    assert missing.exit_code == 7 and not (tmp_path / "none.sqlite").exists()
    db = three_patients(tmp_path / "c.sqlite")
    result = e2mon(db, "clinic", "serve")
    assert result.exit_code == 2 and "clinic user add" in result.output
    assert "default: 127.0.0.1" in e2mon(db, "clinic", "serve", "--help").output


def test_the_served_page_logs_no_patient_data(tmp_path):
    db = three_patients(tmp_path / "c.sqlite")
    assert e2mon(db, "clinic", "user", "add", "dr.ana", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    port = free_port()
    proc = subprocess.Popen([E2MON, "--db", str(db), "clinic", "serve", "--http-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = "http://127.0.0.1:%d" % port
    try:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    form = client.get("/login")
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                    time.sleep(0.2)
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            assert client.post("/login", data={"csrf": csrf, "username": "dr.ana",
                                               "password": PASSWORD}).status_code == 303
            overview = client.get("/")
            assert all(label in overview.text for label, *_rest in PATIENTS)
            for pid in re.findall(r'href="/p/([0-9a-f]{24})"', overview.text):
                page = client.get("/p/%s" % pid)
                token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                assert client.post("/p/%s/export" % pid, data={"csrf": token, "format": "json"}).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    lines = [line for line in err.splitlines() if re.search(r" (GET|POST) /", line)]
    assert len(lines) >= 9, err
    for label, device_id, *_rest in PATIENTS:
        assert label not in err and device_id not in err and device_id.replace(":", "") not in err
    assert PASSWORD not in err
