"""`python -m sim serve`'s device: the unchanged firmware event loop with its GATT service on bumble's TCP
link, reached the way `e2mon --sim` reaches it (host_tools.sim_link.TcpCentral + bleak API + DeviceLink)."""
import asyncio
import os
import signal

import pytest

from sim import env, vclock

env.install()

from host_tools import host_crypto, sim_link  # noqa: E402
from host_tools.device_link import DeviceLink  # noqa: E402
from monitor import protocol, records  # noqa: E402
from sim.device import SimDevice  # noqa: E402
from sim.serve import start_device  # noqa: E402
from sim import stack_device  # noqa: E402

DAY = 9800
KEY = bytes(range(32, 64))


def prepare_flash(flash):
    """A device that logged 60 entries, then was switched off (state in the snapshot)."""
    dev = SimDevice(flash)
    dev.boot()
    dev.set_clock(DAY, 600)
    for i in range(60):
        status, _ = dev.app.submit_entry(records.KIND_SYMPTOM, i % 13, i % 4, 0, DAY - 60 + i, 600)
        assert status == 0
    dev.app.submit_entry(records.KIND_LAB, records.A_E2, 120, records.METHOD_LCMS, DAY, 600)
    expected = (list(dev.app.store.records(1)), dev.app.flags_now(), dev.app.reminders_now())
    wall = dev.clock.wall_seconds()
    dev.shutdown()
    with open(os.path.join(flash, "device.key"), "wb") as f:
        f.write(KEY)   # what USB provisioning writes
    return expected, wall


def test_clinician_pulls_everything_over_the_tcp_link(tmp_path):
    flash = str(tmp_path / "flash")
    (stored, flags, reminders), wall = prepare_flash(flash)

    async def scenario():
        server = await start_device(flash, port=0, wall_seconds=wall)
        try:
            assert server.device.app.tracker.last_seq == len(stored)   # restored at boot
            async with sim_link.TcpCentral("127.0.0.1", server.port) as central:
                client = central.client()
                await client.connect()
                try:
                    link = DeviceLink(client, host_crypto.role_key(KEY, protocol.ROLE_CLINICIAN), "clinician")
                    await link.open_session()
                    assert await link.count(0) == len(stored)
                    got = []
                    result = await link.pull(1, got.extend)
                    await link.acknowledge(result.last_seq)
                    alerts = await link.alerts()
                finally:
                    await client.disconnect()
            await asyncio.sleep(0.1)
            acked = server.device.app.store.acked
            screen = server.device.screen_lines()
        finally:
            await server.stop()
        return got, alerts, acked, screen

    got, (got_flags, got_reminders), acked, screen = asyncio.run(scenario())
    assert [tuple(r) for r in got] == [tuple(r) for r in stored]
    assert [tuple(f) for f in got_flags] == [tuple(f) for f in flags]
    assert [tuple(r) for r in got_reminders] == [tuple(r) for r in reminders]
    assert acked == len(stored)
    assert screen[0] != "SET TIME"     # a soft reboot kept the RTC
    assert vclock.clock.wall_seconds() >= wall


def test_warping_days_brings_a_reminder_due_and_sounds_the_buzzer(tmp_path):
    """The served device fast-forwarded by the keyboard's `w`: the recheck four weeks after a dose comes
    due, and the signal pin (buzzer/LED) pulses three times."""
    from sim.serve import warp_days
    from sim.device import SIGNAL_PIN

    flash = str(tmp_path / "flash")
    dev = SimDevice(flash)
    dev.boot()
    dev.set_clock(DAY, 600)
    assert dev.app.submit_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY, 600)[0] == 0
    wall = dev.clock.wall_seconds()
    dev.shutdown()
    with open(os.path.join(flash, "device.key"), "wb") as f:
        f.write(KEY)

    async def scenario():
        server = await start_device(flash, port=0, wall_seconds=wall)
        try:
            await asyncio.sleep(0.2)
            assert server.device.app.due_reminders() == []
            fresh = []
            for _week in range(3):
                fresh += warp_days(server, 7)
            await asyncio.sleep(1.2)       # the beep: three 150 ms pulses
            pulses = [e for e in server.device.machine.output_log() if e[1] == SIGNAL_PIN and e[2] == 1]
            return fresh, pulses, server.device.screen_lines()
        finally:
            await server.stop()

    fresh, pulses, lines = asyncio.run(scenario())
    assert fresh == [0]                     # RECHECK (monitor.schedule.M_RECHECK)
    assert len(pulses) == 3
    assert "Reminders (1)" in " ".join(lines)


SERVE_STACKS = ["shadow"] + [pytest.param(s, marks=pytest.mark.skipif(
    not stack_device.built(s), reason="%s not built: make firmware" % stack_device.binary(s))) for s in stack_device.STACKS]


@pytest.mark.parametrize("stack", SERVE_STACKS)
def test_a_central_that_vanishes_never_takes_the_simulator_down(stack, tmp_path):
    """Host processes whose TCP link is reset (no goodbye) right after connecting, and just as the device drops
    them for opening no session, and one whose link's end the device never heard of (its own drop then finds
    no peer): the device advertises again each time and the next host pulls."""
    flash = str(tmp_path / "flash")
    (stored, _flags, _reminders), wall = prepare_flash(flash)
    errors = []

    async def vanish(port, after_s):
        central = await sim_link.TcpCentral("127.0.0.1", port, central_address="C0:E2:00:00:00:5A").open()
        client = central.client()
        await client.connect()
        await asyncio.sleep(after_s)
        central._transport.sink.transport.abort()        # noqa: SLF001 - RST, as a killed process
        await asyncio.sleep(0.5)

    async def goodbye_lost(radio_server, port):
        """A central whose link dies without the device hearing of it: the device's own drop finds no peer."""
        central = await sim_link.TcpCentral("127.0.0.1", port, central_address="C0:E2:00:00:00:5B").open()
        await central.client().connect()
        (host_port,) = [p for p in radio_server.ports if p.controller is not None and p.controller.le_connections]
        radio_server.link.remove_controller(host_port.controller)
        host_port.controller = None
        await asyncio.sleep(protocol.SESSION_WAIT_MS / 1000 + 1.5)
        await central.close()

    async def advertises_again(port, step):
        async with sim_link.TcpCentral("127.0.0.1", port, central_address="C0:E2:00:00:00:5C") as central:
            assert await central.advertiser(seconds=15) is not None, "not advertising after: " + step

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: errors.append(context.get("exception") or context))
        if stack == "shadow":
            server = await start_device(flash, port=0, wall_seconds=wall)
            port, stop, radio_server = server.port, server.stop, server.radio_server
        else:
            radio_server, device = await stack_device.serve(stack, flash, port=0,
                                                            rtc_start=wall - vclock.EPOCH_2000, echo=None)
            port = radio_server.port

            async def stop():
                await device.stop()
                await radio_server.close()
        try:
            for step, after_s in (("reset at once", 0), ("reset before the drop", protocol.SESSION_WAIT_MS / 1000 - 0.05),
                                  ("reset at the drop", protocol.SESSION_WAIT_MS / 1000)):
                await vanish(port, after_s)
                await advertises_again(port, step)
            await goodbye_lost(radio_server, port)
            await advertises_again(port, "goodbye lost")
            async with sim_link.TcpCentral("127.0.0.1", port) as central:
                client = central.client()
                await asyncio.wait_for(client.connect(), 20)
                try:
                    link = DeviceLink(client, host_crypto.role_key(KEY, protocol.ROLE_CLINICIAN), "clinician")
                    await link.open_session()
                    return await link.count(0)
                finally:
                    await client.disconnect()
        finally:
            await stop()

    count = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert count == len(stored)
    assert not [e for e in errors if "Unable to find controller" in str(e)], errors


def _ended(pid, timeout=5.0):
    """The process is gone (or a zombie left for init to reap) within timeout."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("stack", SERVE_STACKS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_signal_ends_serve_and_its_device_process(stack, sig, tmp_path):
    """`python -m sim serve --stack S` stopped by SIGTERM or SIGINT exits 0 and takes its MicroPython process
    with it, and the flash is free again; killed outright (SIGKILL), its device process still ends."""
    from sim.serve import claim_flash
    from sim_serve_process import Served

    flash = str(tmp_path / "flash")
    env = {"E2MON_CONFIG": str(tmp_path / "config"), "E2MON_NO_KEYRING": "1"}
    with Served(stack, flash, env) as served:
        children = served.device_pids()
        assert len(children) == (0 if stack == "shadow" else 1)
        code = served.stop(sig)
    if sig != signal.SIGKILL:
        assert code == 0, open(flash + ".serve.log").read()[-2000:]
    assert all(_ended(pid) for pid in children), children
    os.close(claim_flash(flash))
