"""The clinic page over HTTP (Starlette's test client, the real app and database): login required, CSRF
on every form, sessions expire, patients sorted by need of attention, patient data never in a URL or the
access log. Every test runs on SQLite and on PostgreSQL (tests/postgres_fixture.py)."""
import logging
import re
import time

import pytest
from clinic_fixtures import PATIENTS, three_patients
from starlette.testclient import TestClient

from host_tools import clinic_auth, clinic_schema
from host_tools.clinic_web import LOGIN_COOKIE, SESSION_COOKIE, make_app

PASSWORD = "correct horse battery"


@pytest.fixture
def db(db_target):
    target = str(three_patients(db_target))
    clinic_auth.add_user(target, "dr.ana", PASSWORD)
    return target


def client(db, **options):
    return TestClient(make_app(db, **options), base_url="http://127.0.0.1", follow_redirects=False)


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def logged_in(db, **options):
    c = client(db, **options)
    form = c.get("/login")
    answer = c.post("/login", data={"csrf": csrf_of(form), "username": "dr.ana", "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return c


def test_no_page_without_a_login(db):
    c = client(db)
    for path in ("/", "/p/0123456789abcdef01234567", "/p/x/report", "/p/x/trends.png"):
        answer = c.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert c.post("/p/x/export", data={"format": "csv"}).headers["location"] == "/login"


def test_a_wrong_password_logs_nobody_in(db):
    c = client(db)
    answer = c.post("/login", data={"csrf": csrf_of(c.get("/login")), "username": "dr.ana", "password": "nope"})
    assert answer.status_code == 401 and SESSION_COOKIE not in answer.cookies


def test_the_login_form_needs_its_csrf_token(db):
    c = client(db)
    c.get("/login")
    answer = c.post("/login", data={"csrf": "forged", "username": "dr.ana", "password": PASSWORD})
    assert answer.status_code == 403 and SESSION_COOKIE not in answer.cookies


def test_cookies_are_httponly_and_strict(db):
    c = client(db)
    form = c.get("/login")
    assert "httponly" in form.headers["set-cookie"].lower() and "samesite=strict" in form.headers["set-cookie"].lower()
    answer = c.post("/login", data={"csrf": csrf_of(form), "username": "dr.ana", "password": PASSWORD})
    cookie = [h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)][0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert LOGIN_COOKIE


def test_cookies_are_secure_when_served_beyond_this_computer(db):
    c = client(db, secure_cookies=True)
    assert "secure" in c.get("/login").headers["set-cookie"].lower()
    assert "secure" not in client(db).get("/login").headers["set-cookie"].lower()


def test_the_overview_puts_who_needs_attention_first(db):
    page = logged_in(db).get("/")
    assert page.status_code == 200
    labels = re.findall(r'<td class="label"><a href="/p/[0-9a-f]{24}">([^<]+)</a>', page.text)
    # TRT: an urgent flag; bone: overdue reminders and flags to discuss; fertility: one overdue reminder
    assert labels == ["patient TRT", "patient bone", "patient fertility"]
    assert 'class="flag urgent"' in page.text and "(C9)" in page.text
    assert re.search(r'class="count unsynced">9<', page.text)
    assert "script" not in page.text.lower()     # no JavaScript at all


def test_a_patient_page_shows_flags_with_sources_reminders_entries_and_exports(db):
    c = logged_in(db)
    overview = c.get("/")
    pid = re.search(r'href="/p/([0-9a-f]{24})">patient TRT<', overview.text).group(1)
    page = c.get("/p/%s" % pid)
    assert page.status_code == 200
    assert "source " in page.text and "[urgent]" in page.text and "C9" in page.text
    assert "[overdue]" in page.text and "Entered by" in page.text and ">clinic<" in page.text
    assert c.get("/p/%s/trends.png" % pid).content[:8] == b"\x89PNG\r\n\x1a\n"
    report = c.get("/p/%s/report" % pid)
    assert "e2mon report: patient TRT" in report.text and "data:image/png;base64," in report.text
    csv = c.post("/p/%s/export" % pid, data={"csrf": csrf_of(page), "format": "csv"})
    assert csv.status_code == 200 and csv.text.startswith("device_id,label,seq,")
    assert "patient" not in csv.headers["content-disposition"]


def test_every_form_post_needs_the_sessions_csrf_token(db):
    c = logged_in(db)
    pid = re.search(r'href="/p/([0-9a-f]{24})"', c.get("/").text).group(1)
    for data in ({"format": "csv"}, {"format": "csv", "csrf": "forged"}):
        answer = c.post("/p/%s/export" % pid, data=data)
        assert answer.status_code == 403 and "device_id" not in answer.text
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/").status_code == 200          # still logged in


def test_an_expired_session_goes_back_to_the_login(db):
    c = logged_in(db)
    token = c.cookies[SESSION_COOKIE]
    with clinic_schema.engine(db).begin() as conn:
        conn.execute(clinic_schema.web_sessions.update().values(expires=int(time.time()) - 1))
    answer = c.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?expired=1"
    assert clinic_auth.session(db, token) is None
    assert "session has ended" in client(db).get("/login?expired=1").text


def test_a_session_ends_after_the_idle_time(db):
    assert clinic_auth.session(db, clinic_auth.login(db, "dr.ana", PASSWORD)[0]) is not None
    token, _csrf = clinic_auth.login(db, "dr.ana", PASSWORD, now=int(time.time()) - clinic_auth.IDLE_SECONDS - 5)
    assert clinic_auth.session(db, token) is None


def test_wrong_passwords_in_a_row_lock_the_account_for_a_while(db):
    now = int(time.time())
    for _ in range(clinic_auth.LOCK_AFTER):
        assert clinic_auth.login(db, "dr.ana", "guess", now=now) is None
    assert clinic_auth.login(db, "dr.ana", PASSWORD, now=now + 60) is None          # locked, even the right one
    assert clinic_auth.login(db, "dr.ana", PASSWORD, now=now + clinic_auth.LOCK_SECONDS + 1) is not None
    for _ in range(clinic_auth.LOCK_AFTER - 1):                                      # a success starts counting anew
        assert clinic_auth.login(db, "dr.ana", "guess", now=now + clinic_auth.LOCK_SECONDS + 2) is None
    assert clinic_auth.login(db, "dr.ana", PASSWORD, now=now + clinic_auth.LOCK_SECONDS + 3) is not None


def test_logging_out_ends_the_session(db):
    c = logged_in(db)
    page = c.get("/")
    assert c.post("/logout", data={"csrf": csrf_of(page)}).headers["location"] == "/login"
    assert c.get("/").status_code == 303


def test_no_patient_data_in_urls_or_the_access_log(db, caplog):
    caplog.set_level(logging.INFO, logger="e2mon.clinic.access")
    c = logged_in(db)
    overview = c.get("/")
    urls = re.findall(r'(?:href|src|action)="([^"]+)"', overview.text)
    for pid in re.findall(r'href="/p/([0-9a-f]{24})"', overview.text):
        page = c.get("/p/%s" % pid)
        urls += re.findall(r'(?:href|src|action)="([^"]+)"', page.text)
        c.get("/p/%s/report" % pid)
        c.get("/p/%s/trends.png" % pid)
        c.post("/p/%s/export" % pid, data={"csrf": csrf_of(page), "format": "fhir"})
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "e2mon.clinic.access")
    assert log.count("\n") >= 12
    for label, device_id, _course, _ended, _pulled in PATIENTS:
        for text in (label, device_id, device_id.replace(":", "%3A"), "patient"):
            assert text not in log and all(text not in url for url in urls)
    assert PASSWORD not in log and "dr.ana" not in log


def test_security_headers(db):
    answer = client(db).get("/login")
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"


def test_passwords_are_stored_as_argon2id_hashes(db):
    with clinic_schema.engine(db).connect() as conn:
        stored = conn.execute(clinic_schema.web_users.select()).first().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(clinic_auth.AccountError):
        clinic_auth.add_user(db, "short", "2short")
