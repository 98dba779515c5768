"""`e2mon scan`: your devices nearby, found by the identifier their beacon key makes (host_tools.connect)."""
import click

from host_tools import connect
from host_tools.device_command import run
from host_tools.failures import reported
from host_tools.settings import emit, pass_settings


@click.command("scan")
@click.option("--seconds", type=float, default=connect.SCAN_SECONDS, show_default=True)
@pass_settings
@reported
def scan_cmd(settings, seconds):
    """List your devices nearby (those this computer was provisioned with): label, device, address now,
    signal, firmware. Devices advertise only a changing identifier; the others are ignored.

    A device is verified by opening a session with it; one that carries the identifier but fails is listed
    unverified."""
    found = run(connect.scan(settings, seconds), "scanning")
    lines = ["%-20s %-18s at %-18s %5s dBm  %s" % (
        d["label"], d["device_id"], d["address"], d["rssi"] if d["rssi"] is not None else "?",
        ("firmware %s" % (d["firmware"] or "?")) if d["verified"] else "unverified (no session opened there: "
        "identifier replayed, or no role key here?)") for d in found]
    emit(settings, found, lines or ["none of your devices found (is it awake and in range? provisioned here?)"])


def register(cli):
    cli.add_command(scan_cmd)
