"""Figures from the RP2040 on the air: the Nano RP2040 Connect image (NimBLE over UART1 at 115200 baud) on the
emulated RP2040, its radio bumble's virtual controller (sim/rp2040_radio.py).

- rp2040_onair_pull_2k_s: a clinician's full pull of 2,000 records, request to completion, in the chip's
  simulated seconds (the stack, the HCI UART's baud rate and the 128 ms HCI poll of the rp2 port included).
- rp2040_onair_cycles_per_record_pull: instruction cycles the core spent in that pull (firmware, NimBLE, the UART
  driver; not the idle WFI time) per record.
"""
import asyncio
import os
import tempfile

from host_tools import host_crypto
from host_tools.device_link import DeviceLink, role_code
from monitor import records
from monitor.session import KEY_FILE
from monitor.store import Store
from sim import rp2040_radio

KEY = bytes(range(32))
FIRST_DAY = 9400
FULL_PULL = 2000


def log_files(directory, n):
    """A provisioned device's data directory holding n symptom records, written by the device's own Store:
    {path: bytes} for rp2040_radio.ChipDevice, and the records as the device will report them."""
    flash = os.path.join(directory, "flash")
    os.makedirs(flash)
    store = Store(flash)
    for i in range(n):
        store.append(FIRST_DAY + i // 30, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)
    log = list(store.records(0))
    store.close()
    files = {KEY_FILE: KEY}
    for dirpath, _dirs, names in os.walk(flash):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, flash).replace(os.sep, "/")] = f.read()
    return files, log


def link_for(client, role="clinician"):
    return DeviceLink(client, host_crypto.role_key(KEY, role_code(role)), role, timeout=120)


async def full_pull(files):
    """One clinician pull of everything on a chip booted with files: (records, PullResult, chip stats before,
    after)."""
    async with rp2040_radio.ChipLink(files=files) as link:
        async with link.client(mtu=247) as client:
            clinician = link_for(client)
            await clinician.open_session()
            got = []
            before = await asyncio.to_thread(link.chip.stats)
            result = await clinician.pull(0, got.extend)
            after = await asyncio.to_thread(link.chip.stats)
    return got, result, before, after


def run():
    problem = rp2040_radio.missing()
    if problem:
        raise SystemExit("bench rp2040_onair: %s" % problem)
    files, log = log_files(tempfile.mkdtemp(prefix="e2mon-onair-"), FULL_PULL)
    got, result, before, after = asyncio.run(full_pull(files))
    if got != log:
        raise SystemExit("bench rp2040_onair: the pull returned %d records, not the %d stored" % (len(got), len(log)))
    return {
        "rp2040_onair_pull_2k_s": round((after["ms"] - before["ms"]) / 1000, 2),
        "rp2040_onair_cycles_per_record_pull": (after["cycles"] - before["cycles"]) // FULL_PULL,
    }
