"""What a stranger nearby gets (bench/stranger.py), on the shadow and on the real stacks (sim.stack_device):

- stranger_hold_s (and _btstack, _nimble): seconds a central that connects and writes nothing keeps the
  device (it takes one central at a time and stops advertising meanwhile); capped at HOLD_CAP_S.
- privacy_linkable_rotations: of 3 identifier changes, how many a stranger can link through what the device
  lets him read without a session (the time, the battery, Device Information; the GAP name and the GATT
  service's values are the same on every device), the most over the shadow and the stacks built;
  privacy_linkable_rotations_<stack> each.
A stack not built (`make firmware`) is left out.
"""
import asyncio
import datetime
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (ROOT, os.path.join(ROOT, "firmware"), os.path.join(ROOT, "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)

HOLD_CAP_S = 150
START = datetime.datetime(2026, 11, 2, 9, 30, 0)     # the first minute of a window


async def _rotate(link, key, step):
    """A clinician session sets the clock to the next window: a new identifier and address."""
    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink
    from monitor import beacon
    from bench.stranger import stranger_client

    async with stranger_client(link) as client:
        clinician = DeviceLink(client, host_crypto.role_key(key, 1), "clinician")
        await clinician.open_session()
        await clinician.set_time(START + datetime.timedelta(minutes=beacon.WINDOW_MINUTES * step))
    await asyncio.sleep(1.5)


async def _measure(link, key):
    from bench.stranger import hold_seconds, linkable_rotations
    held = await hold_seconds(link, cap=HOLD_CAP_S)
    await asyncio.sleep(0.5)
    linked, _reads = await linkable_rotations(link, lambda step: _rotate(link, key, step))
    return held, linked


async def _shadow():
    from sync_fixtures import DEVICE_KEY, SyncApp, device_and_link
    async with device_and_link(SyncApp(tempfile.mkdtemp())) as (link, _service):
        return await _measure(link, DEVICE_KEY)


async def _stack(stack):
    from monitor.session import KEY_FILE
    from sim import stack_device
    key = bytes(range(32))
    flash = os.path.join(tempfile.mkdtemp(), "flash")
    os.makedirs(flash)
    with open(os.path.join(flash, KEY_FILE), "wb") as f:
        f.write(key)
    async with stack_device.StackLink(stack, flash) as link:
        return await _measure(link, key)


def run():
    from sim import stack_device
    out = {}
    held, linked = asyncio.run(_shadow())
    out["stranger_hold_s"] = held
    out["privacy_linkable_rotations_shadow"] = linked
    for stack in stack_device.STACKS:
        if stack_device.built(stack):
            held, linked = asyncio.run(_stack(stack))
            out["stranger_hold_s_" + stack] = held
            out["privacy_linkable_rotations_" + stack] = linked
    out["privacy_linkable_rotations"] = max(v for k, v in out.items() if k.startswith("privacy_linkable_rotations_"))
    return out
