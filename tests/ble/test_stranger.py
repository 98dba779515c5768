"""A stranger nearby cannot keep the device: it takes one central at a time and stops advertising while
connected, so a central that opens no session within SESSION_WAIT_MS is disconnected (repeating the
handshake's first step does not help), and so is a session left idle; the device then advertises again and
its own host gets in. On the shadow and on real BTstack and NimBLE."""
import asyncio
import os
import tempfile

import pytest

from bench.stranger import hold_seconds, stranger_client
from sync_fixtures import DEVICE_KEY, SyncApp, device_and_link, fill
from test_privacy import stranger_scan

from host_tools import host_crypto
from host_tools.device_link import DeviceLink, role_code
from monitor import protocol
from monitor.session import KEY_FILE
from sim import stack_device

SESSION_WAIT_MS = protocol.SESSION_WAIT_MS
HOLD_CAP_S = SESSION_WAIT_MS / 1000 + 3
STACKS = ["shadow"] + [pytest.param(s, marks=pytest.mark.skipif(
    not stack_device.built(s), reason="%s not built: make firmware" % stack_device.binary(s)))
    for s in stack_device.STACKS]


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def provisioned_flash():
    flash = os.path.join(tempfile.mkdtemp(), "flash")
    os.makedirs(flash)
    with open(os.path.join(flash, KEY_FILE), "wb") as f:
        f.write(DEVICE_KEY)
    return flash


def on_stack(stack, **service_options):
    """An async context manager yielding a link to a provisioned device on `stack`."""
    if stack == "shadow":
        return _shadow(**service_options)
    return stack_device.StackLink(stack, provisioned_flash())


class _shadow:
    def __init__(self, **service_options):
        self.app = SyncApp(tempfile.mkdtemp())
        self.options = service_options
        self._cm = None

    async def __aenter__(self):
        self._cm = device_and_link(self.app, service_options=self.options)
        link, self.service = await self._cm.__aenter__()
        return link

    async def __aexit__(self, *exc_info):
        return await self._cm.__aexit__(*exc_info)


async def the_host_gets_in(link):
    """After a stranger: the device advertises (one address) and a clinician session works."""
    await asyncio.sleep(0.5)
    heard = await stranger_scan(link.central)
    assert len(heard) == 1, heard
    async with link.client(mtu=247) as client:
        clinician = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, role_code("clinician")), "clinician")
        await clinician.open_session()
        return await clinician.count(0)


@pytest.mark.parametrize("stack", STACKS)
def test_a_central_without_a_session_is_dropped(stack):
    async def main():
        async with on_stack(stack) as link:
            held = await hold_seconds(link, cap=HOLD_CAP_S)
            return held, await the_host_gets_in(link)

    held, count = run(main())
    assert held < HOLD_CAP_S, "a session-less central kept the device %.1f s" % held
    assert held >= SESSION_WAIT_MS / 1000 - 0.5
    assert count == 0


@pytest.mark.parametrize("stack", STACKS)
def test_repeated_hellos_do_not_keep_a_central(stack):
    async def main():
        async with on_stack(stack) as link:
            gone = asyncio.Event()
            loop = asyncio.get_running_loop()
            async with stranger_client(link, disconnected_callback=lambda _c: gone.set()) as client:
                started = loop.time()
                stranger = host_crypto.HostSession(bytes(32), protocol.ROLE_CLINICIAN)
                await client.start_notify(protocol.AUTH_UUID, lambda _s, _d: None)
                while not gone.is_set() and loop.time() - started < HOLD_CAP_S:
                    try:
                        await client.write_gatt_char(protocol.AUTH_UUID, stranger.hello(), response=True)
                    except Exception:  # noqa: BLE001 - the device may drop us mid-write
                        break
                    try:
                        await asyncio.wait_for(gone.wait(), 2.0)
                    except asyncio.TimeoutError:
                        pass
                await asyncio.wait_for(gone.wait(), 3.0)
                held = loop.time() - started
            return held, await the_host_gets_in(link)

    held, count = run(main())
    assert held < HOLD_CAP_S and count == 0


def test_an_idle_session_is_dropped_but_a_long_pull_is_not():
    idle_ms = 250
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 2000)

    async def main():
        async with device_and_link(app, service_options={"idle_ms": idle_ms}) as (link, service):
            async with link.client(mtu=protocol.MIN_MTU) as client:
                clinician = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, role_code("clinician")), "clinician")
                await clinician.open_session()
                loop = asyncio.get_running_loop()
                started = loop.time()
                got = []
                result = await clinician.pull(0, got.extend)
                pull_s = loop.time() - started
                gone = asyncio.Event()
                client._backend._disconnected_callback = gone.set     # noqa: SLF001
                started = loop.time()
                await asyncio.wait_for(gone.wait(), idle_ms / 1000 + 3)
                idle_s = loop.time() - started
            return result.count, pull_s, idle_s, service.idle_drops

    count, pull_s, idle_s, drops = run(main())
    assert count == 2000 and pull_s > idle_ms / 1000         # the pull outlasted the idle limit, unharmed
    assert idle_ms / 1000 - 0.1 <= idle_s < idle_ms / 1000 + 3 and drops == 1
