"""The shipped Pico W image on the air (sim/pico_w_air.py): its own BTstack and cyw43 driver, unmodified,
talking to the CYW43439 model over the emulated gSPI bus, the HCI going to bumble's controller. The e2mon
CLI provisions it over USB and then reaches it over BLE as it would a board."""
import asyncio
import os
import subprocess
import sys
import threading

import pytest

from sim import pico_w_air, rp2040

ROOT = rp2040.ROOT
E2MON = os.path.join(os.path.dirname(sys.executable), "e2mon")


class AirThread:
    """PicoWOnAir served by an event loop of its own while the test runs the CLI in subprocesses."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.air = pico_w_air.PicoWOnAir(port=0)
        asyncio.run_coroutine_threadsafe(self.air.__aenter__(), self.loop).result(300)

    def close(self):
        asyncio.run_coroutine_threadsafe(self.air.__aexit__(None, None, None), self.loop).result(120)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def on_air(tmp_path_factory):
    air = AirThread()
    home = str(tmp_path_factory.mktemp("clinician"))
    try:
        yield air.air, home
    finally:
        air.close()


def e2mon(air, home, *args, timeout=600):
    # The emulated chip computes slower than a board: the host waits longer for each answer.
    env = dict(os.environ, HOME=home, E2MON_SIM_TRANSPORT="127.0.0.1:%d" % air.port,
               E2MON_REPLY_TIMEOUT_S="120")
    return subprocess.run([E2MON, "--db", os.path.join(home, "e2mon.sqlite")] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_the_shipped_image_starts_its_radio_and_serves_the_cli_over_ble(on_air):
    air, home = on_air
    chip = air.chip
    chip.wait_for_home()
    # The image's own start-up: the WLAN firmware, then the BT firmware over the shared bus, then BTstack.
    assert chip.read_until(b"ready", timeout=120)
    chip.close_usb()
    done = e2mon(air, home, "--port", chip.usb_url(), "provision", "--device", "pico")
    assert done.returncode == 0, done.stderr
    done = e2mon(air, home, "--sim", "--device", "pico", "time-sync")
    assert done.returncode == 0, done.stderr
    assert "now" in done.stdout
    done = e2mon(air, home, "--sim", "--device", "pico", "pull")
    assert done.returncode == 0, done.stderr
    assert "stored" in done.stdout
    done = e2mon(air, home, "--sim", "--device", "pico", "alerts")
    assert done.returncode == 0, done.stderr
    assert "Flags" in done.stdout
    done = e2mon(air, home, "--sim", "--device", "pico", "profile", "show")
    assert done.returncode == 0, done.stderr
    assert "LEVEL_E2_CRITICAL" in done.stdout
    done = e2mon(air, home, "--sim", "--device", "pico", "push", "lab", "E2", "61", "pg/mL")
    assert done.returncode == 0, done.stderr
    assert "stored on the device" in done.stdout
    done = e2mon(air, home, "--sim", "--device", "pico", "pull")
    assert done.returncode == 0, done.stderr
    assert "stored" in done.stdout and "new record" in done.stdout   # the entry, and the events since
    done = e2mon(air, home, "--sim", "--device", "pico", "alerts")
    assert done.returncode == 0, done.stderr
    assert "E2" in done.stdout.split("Due reminders")[0]      # 61 pg/mL is flagged
    # Nothing went wrong on the chip meanwhile: no traceback on its console.
    assert "Traceback" not in chip.read_available(wait=2.0)
    # The image set its controller's address with the Broadcom vendor command, from the MAC the WLAN side
    # read from the model (cur_etheraddr), plus one, as the Pico W does.
    assert bytes(air.controller.public_address) == bytes(reversed(bytes.fromhex("28cdc100e202")))
