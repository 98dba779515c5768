"""The clinic page in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's
chromedriver (upy/browser-tools.sh installs both), against `e2mon clinic serve`'s app on a free port.
A screenshot of each page goes to build/test-artifacts/clinic-*.png."""
import os
import shutil
import socket
import threading
import time

import pytest
import uvicorn
from clinic_fixtures import three_patients
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from host_tools import clinic_auth, clinic_schema
from host_tools.clinic_web import make_app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "build", "test-artifacts")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PASSWORD = "correct horse battery"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are missing: run upy/browser-tools.sh (make pytest does)")
    db = str(three_patients(tmp_path_factory.mktemp("clinic") / "clinic.sqlite"))
    clinic_auth.add_user(db, "dr.ana", PASSWORD)
    port = free_port()
    config = uvicorn.Config(make_app(db), host="127.0.0.1", port=port, access_log=False, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the clinic server did not start"
        time.sleep(0.05)
    yield db, "http://127.0.0.1:%d" % port
    running.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=%s" % (tmp_path / "chromium-profile"))
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def shot(driver, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, "clinic-%s.png" % name)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(height + 120, 600), 4000))
    assert driver.save_screenshot(path)
    return path


def log_in(driver, base):
    driver.get(base + "/")
    assert driver.current_url == base + "/login"
    driver.find_element(By.NAME, "username").send_keys("dr.ana")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    WebDriverWait(driver, 20).until(lambda d: d.current_url != base + "/login", "still on the login page")


def test_login_overview_patient_and_report(server, browser):
    db, base = server
    browser.get(base + "/")
    assert browser.current_url == base + "/login"      # no page without a login
    shot(browser, "login")
    log_in(browser, base)
    assert browser.current_url == base + "/"
    labels = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.label a")]
    assert labels == ["patient TRT", "patient bone", "patient fertility"]
    first = browser.find_element(By.CSS_SELECTOR, "table.overview tbody tr")
    assert "urgent" in first.get_attribute("class")
    assert first.find_element(By.CSS_SELECTOR, ".flag.urgent").is_displayed()
    shot(browser, "overview")

    browser.find_element(By.LINK_TEXT, "patient TRT").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "patient TRT"
    path = browser.current_url[len(base):]
    assert path.startswith("/p/") and "patient" not in path and ":" not in path and "C0" not in path.upper()
    image = browser.find_element(By.CSS_SELECTOR, "img.trends")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 500
    flags = browser.find_element(By.CSS_SELECTOR, "ul.flags").text
    assert "[urgent]" in flags and "source" in flags
    assert len(browser.find_elements(By.CSS_SELECTOR, "form.export button")) == 4
    shot(browser, "patient")

    browser.find_element(By.LINK_TEXT, "The full report").click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("e2mon report: patient TRT")
    shot(browser, "report")


def test_a_form_without_its_token_is_refused(server, browser):
    db, base = server
    log_in(browser, base)
    browser.find_element(By.LINK_TEXT, "patient bone").click()
    browser.execute_script("document.querySelectorAll('input[name=csrf]').forEach(e => e.value = 'forged')")
    browser.find_element(By.CSS_SELECTOR, "form.export button").click()
    assert "CSRF token is missing or wrong" in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "csrf-refused")


def test_an_expired_session_returns_to_the_login(server, browser):
    db, base = server
    log_in(browser, base)
    assert browser.current_url == base + "/"
    with clinic_schema.engine(db).begin() as conn:
        conn.execute(clinic_schema.web_sessions.update().values(expires=int(time.time()) - 1))
    browser.get(base + "/")
    assert browser.current_url == base + "/login?expired=1"
    assert "session has ended" in browser.find_element(By.ID, "expired").text
    shot(browser, "expired")
