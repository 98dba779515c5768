"""Programs written for real MicroPython boards, not by us, run on the rig unchanged: aioble's own examples
from the vendor tarball (../shared/vendor, micropython-lib as MicroPython v1.28.0 pins it), a temperature
sensor (peripheral: advertise, serve, notify) and its client (central: gap_scan, connect, discover, read),
each in its own MicroPython process with its own controller, on one link. Every pair of stacks.

The client finds the sensor by the name and service UUID in its advertising (a legacy active scan: legacy
advertising reports), connects, discovers the service and characteristic and reads the temperature once a
second; the sensor changes it by at most 0.5 degrees a second from 24.5.
"""
import asyncio
import os
import re
import tarfile

import pytest

from paths import ROOT
from sim import radio, stack_device

VENDOR_TARBALL = os.path.join(ROOT, "..", "shared", "vendor", "micropython-1.28.0-rp2-src.tar.xz")
AIOBLE = "rp2/micropython/lib/micropython-lib/micropython/bluetooth/aioble/"
EXAMPLES = ("temp_sensor.py", "temp_client.py")
READINGS = 3
_TIMEOUT_S = 60

PAIRS = [pytest.param(sensor, client, marks=pytest.mark.skipif(
    not (stack_device.built(sensor) and stack_device.built(client)), reason="make firmware"))
    for sensor in stack_device.STACKS for client in stack_device.STACKS]


@pytest.fixture(scope="module")
def vendor_aioble(tmp_path_factory):
    """aioble's package and examples, unmodified, from the vendor tarball: (package dir, examples dir)."""
    if not os.path.exists(VENDOR_TARBALL):
        pytest.skip("no vendor tarball at %s (../shared/vendor)" % VENDOR_TARBALL)
    where = tmp_path_factory.mktemp("vendor")
    with tarfile.open(VENDOR_TARBALL, "r:xz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(AIOBLE) and m.isfile()]
        tar.extractall(where, members=members, filter="data")
    base = where / AIOBLE
    return str(base), str(base / "examples")


async def _run_pair(sensor_stack, client_stack, package, examples, tmp_path):
    link = radio._Air()
    env = {"MICROPYPATH": ":".join((package, ".frozen"))}
    sensor = stack_device.StackDevice(sensor_stack, str(tmp_path / "sensor"), link,
                                      script=os.path.join(examples, "temp_sensor.py"), extra_env=env,
                                      name="sensor-" + sensor_stack, cwd=str(tmp_path))
    client = stack_device.StackDevice(client_stack, str(tmp_path / "client"), link,
                                      script=os.path.join(examples, "temp_client.py"), extra_env=env,
                                      name="client-" + client_stack, cwd=str(tmp_path))   # aioble's ble_secrets.json
    try:
        await sensor.start()
        await client.start(wait_advertising=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _TIMEOUT_S
        while len([line for line in client.output if line.startswith("Temperature:")]) < READINGS:
            assert client.process.returncode is None, "the client ended:\n" + "\n".join(client.output)
            assert loop.time() < deadline, "client:\n%s\nsensor:\n%s" % (
                "\n".join(client.output), "\n".join(sensor.output))
            await asyncio.sleep(0.1)
        return list(sensor.output), list(client.output), sensor.controller.advertising_address() \
            or sensor.controller.public_address
    finally:
        await client.stop()
        await sensor.stop()


@pytest.mark.parametrize(("sensor_stack", "client_stack"), PAIRS)
def test_aioble_temperature_sensor_and_client_from_the_vendor_tree(sensor_stack, client_stack, vendor_aioble,
                                                                   tmp_path):
    package, examples = vendor_aioble
    sensor_out, client_out, _ = asyncio.run(asyncio.wait_for(
        _run_pair(sensor_stack, client_stack, package, examples, tmp_path), _TIMEOUT_S + 30))
    assert "Temperature sensor not found" not in client_out
    assert any(line.startswith("Connecting to Device(") for line in client_out), client_out
    assert any(line.startswith("Connection from Device(") for line in sensor_out), sensor_out
    readings = [float(re.match(r"Temperature: (-?[0-9.]+)", line).group(1))
                for line in client_out if line.startswith("Temperature:")]
    assert len(readings) >= READINGS
    assert all(abs(t - 24.5) <= 0.5 * (i + 2) for i, t in enumerate(readings)), readings
