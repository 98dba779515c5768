"""Attacks on the sync link, through bleak's API over the bumble link against the firmware's BleService:
each is refused with its error code and leaves the device's state (log, clock, profile, sync mark) unchanged."""
import asyncio
import datetime
import os
import tempfile

import pytest

from bench.stranger import stranger_reads
from sync_fixtures import DEVICE_KEY, TODAY, SyncApp, device_and_link, fill, run, session
from monitor import protocol, protocol_host, records
from monitor import session as device_session
from host_tools import host_crypto
from host_tools.device_link import DeviceError, DeviceLink


def _state(app):
    return (app.store.next_seq, app.clock, app.profile, app.acked, app.clock_sets)


class RawPeer:
    """A central that speaks bytes, not the protocol: subscribes everywhere and records all it gets."""

    def __init__(self, client):
        self.client = client
        self.inbox = asyncio.Queue()
        self.everything = []

    async def subscribe(self):
        for channel, uuid in protocol_host.CHANNEL_UUIDS.items():
            await self.client.start_notify(uuid, self._on(channel))

    def _on(self, channel):
        def handler(_sender, data):
            self.everything.append((channel, bytes(data)))
            self.inbox.put_nowait((channel, bytes(data)))
        return handler

    async def write(self, channel, data):
        await self.client.write_gatt_char(protocol_host.CHANNEL_UUIDS[channel], data, response=True)

    async def next(self, timeout=2.0):
        return await asyncio.wait_for(self.inbox.get(), timeout)


def _refusal(code):
    return protocol.CH_AUTH, protocol.encode_refusal(code)


def test_no_key_reads_no_phi_and_writes_nothing():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 50)
    before = _state(app)
    log_bytes = []
    buf = bytearray(16 * 50)
    app.store.read_into(0, buf)
    log_bytes = [bytes(buf[i:i + 16]) for i in range(0, len(buf), 16)]

    async def main():
        async with device_and_link(app) as (link, _service):
            async with link.client() as client:
                peer = RawPeer(client)
                await peer.subscribe()
                readable = list((await stranger_reads(client)).values())   # refused reads count as empty
                attempts = [
                    (protocol.CH_CONTROL, protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_ALL)),
                    (protocol.CH_CONTROL, protocol_host.racp_request(protocol.RACP_REPORT_NUMBER, protocol.OPERATOR_GE, 0)),
                    (protocol.CH_CONTROL, protocol_host.racp_request(protocol.RACP_DELETE, protocol.OPERATOR_LE, 50)),
                    (protocol.CH_ENTRY, protocol_host.encode_entry(records.KIND_SYMPTOM, 0, 2, 0, TODAY, 60)),
                    (protocol.CH_PROFILE, protocol_host.encode_blob_put(9, 0, b"profile!!")),
                    (protocol.CH_PROFILE, protocol_host.encode_blob_get(0)),
                    (protocol.CH_ALERTS, protocol_host.encode_blob_get(0)),
                    (protocol.CH_TIME, protocol.encode_cts(TODAY, 600, 0)),
                ]
                for channel, plaintext in attempts:
                    await peer.write(channel, plaintext)
                    assert await peer.next() == _refusal(protocol.ERR_NO_SESSION)
                await asyncio.sleep(0.2)
                assert peer.inbox.empty()
                received = b"".join(data for _, data in peer.everything) + b"".join(readable)
                assert not any(record in received for record in log_bytes)
                assert not any(channel == protocol.CH_RECORDS for channel, _ in peer.everything)
    run(main())
    assert _state(app) == before


def test_wrong_key_and_patient_key_as_clinician_are_refused():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 5)
    before = _state(app)

    async def main():
        async with device_and_link(app) as (link, _service):
            # the host sees a device that cannot prove the key (a wrong key on the host side)
            async with session(link, key=os.urandom(32), open_session=False) as dl:
                with pytest.raises(device_session.SessionError) as host_side:
                    await dl.open_session()
                assert host_side.value.code == protocol.ERR_BAD_PROOF
            # the device refuses a proof made with the wrong key, and with the patient's key for the
            # clinician role; a frame sealed with keys derived from it gets no session
            for key, role in ((os.urandom(32), protocol.ROLE_CLINICIAN),
                              (host_crypto.role_key(DEVICE_KEY, protocol.ROLE_PATIENT), protocol.ROLE_CLINICIAN)):
                async with link.client() as client:
                    peer = RawPeer(client)
                    await peer.subscribe()
                    attacker = host_crypto.HostSession(key, role)
                    await peer.write(protocol.CH_AUTH, attacker.hello())
                    channel, challenge = await peer.next()
                    assert channel == protocol.CH_AUTH and challenge[0] == protocol.AUTH_CHALLENGE
                    # skip the device-proof check an honest host would make: forge the keys anyway
                    nonce_d = challenge[1:17]
                    t = bytes((role,)) + attacker._host_nonce + nonce_d
                    forged = host_crypto.hmac_sha256(key, device_session.LABEL_HOST, t)[:16]
                    await peer.write(protocol.CH_AUTH, bytes((protocol.AUTH_PROOF,)) + forged)
                    assert await peer.next() == _refusal(protocol.ERR_BAD_PROOF)
                    outgoing = host_crypto.HostCipher(*host_crypto._direction_keys(
                        key, role, attacker._host_nonce, nonce_d, device_session.DIR_HOST_TO_DEVICE),
                        device_session.DIR_HOST_TO_DEVICE)
                    await peer.write(protocol.CH_CONTROL, outgoing.seal(
                        protocol.CH_CONTROL, protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_ALL)))
                    assert await peer.next() == _refusal(protocol.ERR_NO_SESSION)
    run(main())
    assert _state(app) == before


class SniffingClient:
    """Wraps a real BleakClient: keeps a copy of every write, and may tamper with the next one."""

    def __init__(self, client):
        self._client = client
        self.writes = []
        self.tamper_next = None

    def __getattr__(self, name):
        return getattr(self._client, name)

    async def write_gatt_char(self, uuid, data, response=True):
        data = bytes(data)
        if self.tamper_next is not None:
            data = self.tamper_next(data)
            self.tamper_next = None
        self.writes.append((uuid, data))
        return await self._client.write_gatt_char(uuid, data, response=response)


async def _patient(link, client):
    sniffer = SniffingClient(client)
    dl = DeviceLink(sniffer, host_crypto.role_key(DEVICE_KEY, protocol.ROLE_PATIENT), "patient")
    await dl.open_session()
    return dl, sniffer


def test_replayed_reordered_and_tampered_frames_are_refused():
    app = SyncApp(tempfile.mkdtemp())
    app.clock = (TODAY, 600, 0)

    async def main():
        async with device_and_link(app) as (link, _service):
            async with link.client() as client:
                dl, sniffer = await _patient(link, client)
                seq = await dl.push_entry(records.KIND_SYMPTOM, 0, 2, 0, TODAY, 60)
                entry_frame = sniffer.writes[-1][1]
                stored = app.store.next_seq
                # replay in the same session
                await client.write_gatt_char(protocol.ENTRY_UUID, entry_frame, response=True)
                assert (await dl._next()) == _refusal(protocol.ERR_REPLAY)
                assert app.store.next_seq == stored and seq == stored - 1
                # the session is gone after a refused frame
                with pytest.raises(DeviceError) as gone:
                    await dl.push_entry(records.KIND_SYMPTOM, 1, 2, 0, TODAY, 60)
                assert gone.value.code == protocol.ERR_NO_SESSION
                # replay into a fresh session: other keys, so the tag fails
                await dl.open_session()
                await client.write_gatt_char(protocol.ENTRY_UUID, entry_frame, response=True)
                assert (await dl._next()) == _refusal(protocol.ERR_BAD_TAG)
                # tampered: every byte position of a fresh entry frame, one flip at a time (sampled)
                for position in (0, 3, 4, 9, 14, 20, 26):
                    await dl.open_session()

                    def flip(data, position=position):
                        bad = bytearray(data)
                        bad[position] ^= 0x01
                        return bytes(bad)

                    sniffer.tamper_next = flip
                    with pytest.raises(DeviceError) as tampered:
                        await dl.push_entry(records.KIND_SYMPTOM, 2, 3, 0, TODAY, 61)
                    assert tampered.value.code == protocol.ERR_BAD_TAG
                # reordered: two sealed frames sent second-first
                await dl.open_session()
                first = dl._session.seal(protocol.CH_ENTRY, protocol_host.encode_entry(2, 3, 1, 0, TODAY, 62))
                second = dl._session.seal(protocol.CH_ENTRY, protocol_host.encode_entry(2, 4, 1, 0, TODAY, 62))
                await client.write_gatt_char(protocol.ENTRY_UUID, second, response=True)
                assert (await dl._next()) == _refusal(protocol.ERR_REPLAY)
                await client.write_gatt_char(protocol.ENTRY_UUID, first, response=True)
                assert (await dl._next()) == _refusal(protocol.ERR_NO_SESSION)
                assert app.store.next_seq == stored
    run(main())


def test_patient_cannot_do_clinician_operations():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 40)
    app.clock = (TODAY, 600, 0)
    before = _state(app)

    async def main():
        async with device_and_link(app) as (link, service):
            async with session(link, role="patient") as dl:
                notifications = service.notifications
                # setting the clock too: with the patient's key every reminder could be made overdue (2030)
                for attempt in (lambda: dl.count(0), lambda: dl.pull(0, lambda batch: None),
                                lambda: dl.acknowledge(40), lambda: dl.set_profile(b"profile evil"),
                                lambda: dl.set_time(datetime.datetime(2030, 1, 1, 10, 0, 0))):
                    with pytest.raises(DeviceError) as refused:
                        await attempt()
                    assert refused.value.code == protocol.ERR_ROLE
                # one refusal per attempt and not a single records notification
                assert service.notifications - notifications == 5
                assert _state(app) == before and app.clock_sets == 0
                # the patient's own operations still work in the same session
                assert await dl.get_profile() == app.profile
                assert (await dl.get_time())[0] == TODAY
                assert await dl.push_entry(records.KIND_SYMPTOM, 0, 1, 0, TODAY, 60) == 41
    run(main())
