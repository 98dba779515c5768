"""An advertisement that says nothing about the wearer, on the shadow and on real BTstack and NimBLE.

A stranger scanning across identifier windows (the device's clock unset, then set to three windows in turn
by a session) sees no name, no service UUID, and neither an address nor a payload that repeats; the host
holding the beacon key recognises every one of them and connects by the identifier alone. A write without a
session is refused by the stack (the time) or by the session, and leaves nothing behind.
"""
import asyncio
import datetime
import os
import struct
import tempfile

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from bench import stranger
from sync_fixtures import DEVICE_KEY, SyncApp, device_and_link

from device import ble_service
from host_tools import host_crypto
from host_tools.bleak_backend import BumbleClientBackend, BumbleScannerBackend
from host_tools.device_link import DeviceLink, role_code
from monitor import beacon, beacon_host, dates, protocol, protocol_host, records
from monitor.session import KEY_FILE
from sim import stack_device

BEACON_KEY = beacon.beacon_key(DEVICE_KEY)
START = datetime.datetime(2026, 11, 2, 9, 30, 0)      # the first minute of a window
START_DAY = dates.days_from_civil(2026, 11, 2)
START_MINUTE = 9 * 60 + 30
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_READ_NOT_PERMITTED = 0x02
STACKS = [pytest.param(s, marks=pytest.mark.skipif(not stack_device.built(s), reason="%s not built: make firmware"
                                                   % stack_device.binary(s))) for s in stack_device.STACKS]


# ---- the identifier itself ------------------------------------------------------------------------------
def test_identifier_changes_every_window_and_only_the_key_holder_matches():
    day, minute = START_DAY, START_MINUTE
    window = beacon.clock_window(day, minute)
    assert beacon.clock_window(day, minute + beacon.WINDOW_MINUTES - 1) == window
    assert beacon.clock_window(day, minute + beacon.WINDOW_MINUTES) == window + 1
    idents = [beacon.identifier(BEACON_KEY, window + k) for k in range(50)]
    assert len(set(idents)) == 50 and all(len(i) == beacon.ID_SIZE for i in idents)
    mine = beacon_host.Matcher(BEACON_KEY, (day, minute))
    assert mine.matches(idents[0]) == window and mine.matches(idents[1]) == window + 1
    assert mine.matches(beacon.identifier(BEACON_KEY, window + beacon_host.SKEW_WINDOWS + 1)) is None
    unset = beacon.unset_window(4095, 3)                 # boot-random start, wraps within UNSET_SPAN
    assert unset == beacon.UNSET_FLAG | 2 and mine.matches(beacon.identifier(BEACON_KEY, unset)) == unset
    stranger = beacon_host.Matcher(beacon.beacon_key(bytes(32)), (day, minute))
    assert not any(stranger.matches(i) for i in idents)
    assert beacon.beacon_key(DEVICE_KEY) not in (host_crypto.role_key(DEVICE_KEY, r) for r in (1, 2))


def test_payload_carries_flags_and_identifier_only():
    ident = beacon.identifier(BEACON_KEY, 7)
    payload = beacon.advertising_payload(ident)
    assert ad_structures(payload) == [(0x01, b"\x06"), (0xFF, struct.pack("<H", beacon.COMPANY_ID) + ident)]
    assert len(payload) <= 31
    assert ad_structures(beacon.advertising_payload()) == [(0x01, b"\x06")]   # unprovisioned: nothing to find
    assert beacon_host.identifier_in({beacon.COMPANY_ID: ident}) == ident
    assert beacon_host.identifier_in({beacon.COMPANY_ID: ident[:4]}) is None and beacon_host.identifier_in({}) is None


def ad_structures(payload):
    out, i = [], 0
    while i < len(payload):
        length = payload[i]
        out.append((payload[i + 1], bytes(payload[i + 2:i + 1 + length])))
        i += 1 + length
    return out


# ---- on the air --------------------------------------------------------------------------------------------
async def stranger_scan(central, seconds=1.2):
    """What any scanner nearby collects: {address: [AdvertisementData]}."""
    heard = {}

    def detected(device, adv):
        heard.setdefault(device.address.upper(), []).append(adv)

    async with BleakScanner(detected, backend=BumbleScannerBackend, central=central):
        await asyncio.sleep(seconds)
    return heard


async def windows_as_seen(link, clock_read=None):
    """Four windows: clock unset, then START, +15 min, +30 min set by a clinician session. For each: what a
    stranger heard (one device, its address and payload), and that the host found it by the identifier alone
    (connecting to the address the identifier matched, not to one it knew)."""
    seen = []
    for step in range(4):
        heard = await stranger_scan(link.central)
        assert len(heard) == 1, heard
        (address, ads), = heard.items()
        for adv in ads:                                    # nothing names the product or the therapy
            assert adv.local_name is None and not adv.service_uuids and not adv.service_data
            assert list(adv.manufacturer_data) == [beacon.COMPANY_ID]
        idents = {bytes(adv.manufacturer_data[beacon.COMPANY_ID]) for adv in ads}
        assert len(idents) == 1, idents
        seen.append((address, idents.pop()))
        if step == 3:
            break
        host = beacon_host.Matcher(BEACON_KEY, (START_DAY, START_MINUTE))
        assert host.matches(seen[-1][1]) is not None
        async with BleakClient(address, backend=BumbleClientBackend, central=link.central, timeout=10.0) as client:
            clinician = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, role_code("clinician")), "clinician")
            await clinician.open_session()
            await clinician.set_time(START + datetime.timedelta(minutes=beacon.WINDOW_MINUTES * step))
        await asyncio.sleep(1.5)                           # the device advertises its new window
    return seen


def check_windows(seen):
    addresses = [a for a, _ in seen]
    idents = [i for _, i in seen]
    assert len(set(addresses)) == 4 and len(set(idents)) == 4      # nothing stable across windows
    host = beacon_host.Matcher(BEACON_KEY, (START_DAY, START_MINUTE))
    windows = [host.matches(i) for i in idents]
    start = beacon.clock_window(START_DAY, START_MINUTE)
    assert windows[0] & beacon.UNSET_FLAG                           # clock unset: a boot-counted window
    assert windows[1:] == [start, start + 1, start + 2]
    stranger = beacon_host.Matcher(beacon.beacon_key(bytes(32)), (START_DAY, START_MINUTE))
    assert not any(stranger.matches(i) for i in idents)


async def unauthenticated_writes(client):
    """Without a session: the time cannot be written (ATT error) nor read (empty or refused), no
    characteristic of the service can be read back, and the device refuses the frames."""
    before = await plain_read(client, protocol_host.CTS_CURRENT_TIME_UUID)
    with pytest.raises(BleakError) as refused:
        await client.write_gatt_char(protocol_host.CTS_CURRENT_TIME_UUID,
                                     protocol.encode_cts(dates.days_from_civil(2031, 1, 1), 0, 0, 0), response=True)
    assert att_code(refused.value) == ATT_WRITE_NOT_PERMITTED
    for uuid in (protocol.REQUESTS_UUID, protocol.CONTROL_UUID):
        await client.write_gatt_char(uuid, bytes(40), response=True)   # MicroPython cannot refuse these
    await asyncio.sleep(0.3)
    for uuid in (protocol.REQUESTS_UUID, protocol.CONTROL_UUID, protocol.AUTH_UUID):
        with pytest.raises(BleakError) as unreadable:
            await client.read_gatt_char(uuid)
        assert att_code(unreadable.value) == ATT_READ_NOT_PERMITTED
    after = await plain_read(client, protocol_host.CTS_CURRENT_TIME_UUID)
    assert before == after == b""


async def plain_read(client, uuid):
    """A read's value; a read the device refuses gives b"" (what BTstack serves instead)."""
    try:
        return bytes(await client.read_gatt_char(uuid))
    except BleakError as exc:
        assert att_code(exc) == ATT_READ_NOT_PERMITTED
        return b""


def att_code(exc):
    for value in (getattr(exc, "code", None), *exc.args):
        if isinstance(value, int):
            return value
    return None


def run(coro, timeout=240):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_shadow_stranger_sees_nothing_stable_and_the_host_finds_its_device():
    app = SyncApp(tempfile.mkdtemp())

    async def main():
        async with device_and_link(app) as (link, service):
            seen = await windows_as_seen(link)
            return seen, service.address_changes

    seen, changes = run(main())
    check_windows(seen)
    assert changes == 4


def test_shadow_writes_without_a_session_are_refused_and_leave_nothing():
    app = SyncApp(tempfile.mkdtemp())
    app.clock = (START_DAY, START_MINUTE, 0)

    async def main():
        async with device_and_link(app) as (link, service):
            records_before = len(list(app.store.records(0)))
            async with link.client() as client:
                await unauthenticated_writes(client)
            return service.writes_refused, records_before

    refused, records_before = run(main())
    assert app.clock[0] == START_DAY   # not 2031
    assert refused == 2
    assert app.clock_sets == 0 and len(list(app.store.records(0))) == records_before


def provisioned_flash(tmp_path):
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    with open(os.path.join(flash, KEY_FILE), "wb") as f:
        f.write(DEVICE_KEY)
    return flash


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_stranger_sees_nothing_stable_and_the_host_finds_its_device(stack, tmp_path):
    async def main():
        async with stack_device.StackLink(stack, provisioned_flash(tmp_path)) as link:
            return await windows_as_seen(link)

    check_windows(run(main()))


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_writes_without_a_session_are_refused_and_leave_nothing(stack, tmp_path):
    async def main():
        async with stack_device.StackLink(stack, provisioned_flash(tmp_path)) as link:
            async with link.client() as client:
                clinician = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, role_code("clinician")), "clinician")
                await clinician.open_session()
                await clinician.set_time(START)
                count = await clinician.push_entry(records.KIND_SYMPTOM, 1, 2, 0, START_DAY, START_MINUTE)
            async with link.client() as client:
                await unauthenticated_writes(client)
            async with link.client() as client:
                patient = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, role_code("patient")), "patient")
                await patient.open_session()
                again = await patient.push_entry(records.KIND_SYMPTOM, 1, 3, 0, START_DAY, START_MINUTE)
                now = await patient.get_time()
            return now, count, again

    now, count, again = run(main())
    assert now[0] == START_DAY   # not 2031
    assert again == count + 1          # the refused frames stored nothing in between


# ---- what a stranger reads -----------------------------------------------------------------------------
async def rotate_by_session(link, step):
    """A clinician session sets the clock to the next window: the device takes a new identifier and address."""
    async with BleakClient(link.current_device_address(), backend=BumbleClientBackend, central=link.central,
                           address_of=link.advertising_address, timeout=10.0) as client:
        clinician = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, role_code("clinician")), "clinician")
        await clinician.open_session()
        await clinician.set_time(START + datetime.timedelta(minutes=beacon.WINDOW_MINUTES * step))
    await asyncio.sleep(1.5)


def check_nothing_links(linked, reads):
    assert len(reads) == 4 and linked == 0
    for values in reads:      # only what every device shows (the GAP name and appearance) has a value
        assert {uuid: v for uuid, v in values.items() if v and uuid not in stranger.COMMON} == {}
        assert protocol_host.CTS_CURRENT_TIME_UUID in values and protocol_host.BATTERY_LEVEL_UUID in values


def test_shadow_nothing_readable_links_two_rotations():
    app = SyncApp(tempfile.mkdtemp())

    async def main():
        async with device_and_link(app) as (link, _service):
            return await stranger.linkable_rotations(link, lambda step: rotate_by_session(link, step))

    check_nothing_links(*run(main()))


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_nothing_readable_links_two_rotations(stack, tmp_path):
    async def main():
        async with stack_device.StackLink(stack, provisioned_flash(tmp_path)) as link:
            return await stranger.linkable_rotations(link, lambda step: rotate_by_session(link, step))

    check_nothing_links(*run(main()))


# ---- the GAP device name --------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["shadow"] + STACKS)
def test_gap_name_is_the_firmwares_on_every_stack(stack, tmp_path):
    """Whatever the stack's default, the device name a stranger reads is the firmware's GAP_NAME (the same on
    every device, named for nothing), and neither the advertisement nor a scan response carries a name."""
    async def read_name(link):
        heard = await stranger_scan(link.central)
        assert [adv.local_name for ads in heard.values() for adv in ads] == [None] * sum(map(len, heard.values()))
        async with stranger.stranger_client(link) as client:
            return (await stranger.stranger_reads(client))[stranger.GAP_DEVICE_NAME]

    async def main():
        if stack == "shadow":
            async with device_and_link(SyncApp(tempfile.mkdtemp())) as (link, _service):
                return await read_name(link)
        async with stack_device.StackLink(stack, provisioned_flash(tmp_path)) as link:
            return await read_name(link)

    assert run(main()) == ble_service.GAP_NAME
