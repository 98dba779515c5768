"""`python -m sim serve`'s device: the unchanged firmware event loop with its GATT service on bumble's TCP
link, reached the way `e2mon --sim` reaches it (host_tools.sim_link.TcpCentral + bleak API + DeviceLink)."""
import asyncio
import os

from sim import env, vclock

env.install()

from host_tools import host_crypto, sim_link  # noqa: E402
from host_tools.device_link import DeviceLink  # noqa: E402
from monitor import protocol, records  # noqa: E402
from sim.device import SimDevice  # noqa: E402
from sim.serve import start_device  # noqa: E402

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
