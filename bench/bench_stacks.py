"""The firmware on the real BLE stacks (sim/stack_device.py: the from-source MicroPython with BTstack and
NimBLE, a bumble virtual controller on an H4 pty as radio).

- btstack_att_db_bytes: bytes of BTstack's 512-byte ATT database (MAX_ATT_DB_SIZE) e2mon's GATT table fills
  (sim.stack_device.btstack_att_db_bytes; past 512 BTstack silently drops attributes). btstack_att_db_free
  is what is left.
- pull_2k_s_{btstack,nimble}: wall seconds of a 2,000-record clinician pull (session open, then the pull)
  through DeviceLink, bumble's virtual link (no air-time model: the stacks' and MicroPython's own pace).
- pull_2k_reordered_frames_{btstack,nimble}: frames that arrived ahead of their turn during that pull
  (BTstack sends the completion indication ahead of queued record notifications; NimBLE in order).
- update_sim_bundle_bytes: the signed bundle `e2mon release build --board sim` makes (the whole firmware as
  source, H5 test key) that the next figures send.
- update_send_s_{btstack,nimble}: wall seconds of DeviceLink.update_send of that bundle at MTU 247 (BEGIN,
  every chunk verified and written to the slot on the unix port's filesystem, APPLY staging it).
- update_reboot_s_{btstack,nimble}: from the host leaving to the new version's first session reporting it
  confirmed: the runner's wait, machine.reset() (the process restarts, StackDevice), boot, advertising,
  connection and session.
A stack not built (`make firmware`) is left out.
"""
import asyncio
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (ROOT, os.path.join(ROOT, "firmware")):
    if path not in sys.path:
        sys.path.insert(0, path)

PULL_RECORDS = 2000


def _att_db_bytes():
    import sim.bluetooth
    sys.modules.setdefault("bluetooth", sim.bluetooth)
    from device.ble_service import BleService
    from sim import stack_device
    service = BleService.__new__(BleService)
    service.secure_link = False
    return stack_device.btstack_att_db_bytes(service._services())


async def _pull(stack, flash):
    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink
    from sim import stack_device
    key = bytes(range(32))
    async with stack_device.StackLink(stack, flash) as link:
        async with link.client(mtu=247) as client:
            started = time.perf_counter()
            dl = DeviceLink(client, host_crypto.role_key(key, 1), "clinician")
            await dl.open_session()
            got = []
            result = await dl.pull(0, got.extend)
            took = time.perf_counter() - started
    if result.count != PULL_RECORDS or [r[0] for r in got] != list(range(1, PULL_RECORDS + 1)):
        raise AssertionError("%s pull: %r" % (stack, result))
    return took, dl.frames_reordered


def _flash(path, count=PULL_RECORDS):
    from monitor import records
    from monitor.session import KEY_FILE
    from monitor.store import Store
    os.makedirs(path)
    with open(os.path.join(path, KEY_FILE), "wb") as f:
        f.write(bytes(range(32)))
    store = Store(path)
    for i in range(count):
        store.append(9400 + i // 30, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)
    store.close()


async def _update(stack, flash, data, header):
    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink
    from monitor import protocol_host
    from sim import stack_device
    role_key = host_crypto.role_key(bytes(range(32)), 1)
    async with stack_device.StackLink(stack, flash) as link:
        async with link.client(mtu=247) as client:
            dl = DeviceLink(client, role_key, "clinician")
            await dl.open_session()
            started = time.perf_counter()
            await dl.update_send(data, header)
            sent = time.perf_counter() - started
        left = time.perf_counter()
        await link.stack_device.wait_boot(2)
        async with link.client(mtu=247) as client:
            dl = DeviceLink(client, role_key, "clinician")
            await dl.open_session()
            info = await dl.update_status()
        rebooted = time.perf_counter() - left
    if (info.version, info.outcome) != ("1.1.0", protocol_host.UPDATE_CONFIRMED):
        raise AssertionError("%s update: %r" % (stack, info))
    return sent, rebooted


def _update_bundle(where):
    from host_tools import release
    key = os.path.join(where, "publisher")
    release.keygen(key, height=5)
    out = os.path.join(where, "e2mon.e2up")
    built = release.build("sim", "1.1.0", 2, key, out)
    with open(out, "rb") as f:
        return f.read(), built["header_bytes"], key + ".pub"


def run():
    from sim import stack_device
    used = _att_db_bytes()
    figures = {"btstack_att_db_bytes": used, "btstack_att_db_free": stack_device.BTSTACK_ATT_DB_SIZE - used}
    for stack in stack_device.STACKS:
        if not stack_device.built(stack):
            continue
        tmp = tempfile.mkdtemp(prefix="e2mon-bench-stack-")
        try:
            _flash(os.path.join(tmp, "flash"))
            took, reordered = asyncio.run(_pull(stack, os.path.join(tmp, "flash")))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        figures["pull_2k_s_" + stack] = round(took, 2)
        figures["pull_2k_reordered_frames_" + stack] = reordered
    for stack in stack_device.STACKS:
        if not stack_device.built(stack):
            continue
        tmp = tempfile.mkdtemp(prefix="e2mon-bench-update-")
        try:
            data, header, public_key = _update_bundle(tmp)
            flash = os.path.join(tmp, "flash")
            _flash(flash, count=0)
            shutil.copyfile(public_key, os.path.join(flash, "publisher.pub"))
            sent, rebooted = asyncio.run(_update(stack, flash, data, header))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        figures["update_sim_bundle_bytes"] = len(data)
        figures["update_send_s_" + stack] = round(sent, 2)
        figures["update_reboot_s_" + stack] = round(rebooted, 2)
    return figures


if __name__ == "__main__":
    print(run())
