"""The transport-free device endpoint (monitor.endpoint), frames in and frames out: no session ->
refusals only, MTU floor, provisioning only where allowed, roles, pull / resume / abort.

The host half is built from the device's own session primitives here; the host's independent
implementation meets the device in tests/sync/test_sync_ble.py.  (These ran under tests/core at first;
with protocol + session + endpoint + records compiled from source they need more than the unix
port's 64K test heap, so they run on CPython.)"""
from monitor import protocol, protocol_host, records, session
from monitor.endpoint import Endpoint


def open_client(ep, key, role):
    """A host done with the device's own session primitives (the host's are tested on CPython)."""
    rkey = session.role_key(key, role)
    host_nonce = bytes(range(16))
    ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_HELLO, role)) + host_nonce)
    channel, challenge = ep.next_frame()
    device_nonce = challenge[1:17]
    assert challenge[17:] == session.device_proof(rkey, role, host_nonce, device_nonce)
    ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_PROOF,)) + session.host_proof(rkey, role, host_nonce,
                                                                                      device_nonce))
    assert ep.next_frame() == (protocol.CH_AUTH, bytes((protocol.AUTH_OPEN, role)))
    out = session.FrameCipher(*session.direction_keys(rkey, role, host_nonce, device_nonce,
                                                      session.DIR_HOST_TO_DEVICE), session.DIR_HOST_TO_DEVICE)
    inp = session.FrameCipher(*session.direction_keys(rkey, role, host_nonce, device_nonce,
                                                      session.DIR_DEVICE_TO_HOST), session.DIR_DEVICE_TO_HOST)
    return out, inp


class _Store:
    """Holds no records: these tests never get as far as reading one."""

    def __init__(self, n):
        self.n = n

    def count_from(self, seq):
        return max(0, self.n - max(seq, 1) + 1)


class _App:
    def __init__(self, n):
        self.store = _Store(n)


def _serial_pair(app, key):
    return Endpoint(app, key, lambda n: bytes(n), allow_provision=True)


def test_endpoint_refuses_everything_without_session():
    ep = _serial_pair(_App(5), bytes(32))
    ep.connected(247)
    for channel in (protocol.CH_CONTROL, protocol.CH_ENTRY, protocol.CH_PROFILE, protocol.CH_ALERTS,
                    protocol.CH_TIME):
        ep.receive(channel, protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_ALL) + bytes(20))
        assert ep.next_frame() == (protocol.CH_AUTH, protocol.encode_refusal(protocol.ERR_NO_SESSION))
    assert ep.next_frame() is None


def test_endpoint_small_mtu_refused_and_provision_only_where_allowed():
    ep = _serial_pair(_App(0), None)
    ep.connected(23)
    ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_HELLO, 1)) + bytes(16))
    assert ep.next_frame() == (protocol.CH_AUTH, protocol.encode_refusal(protocol.ERR_MTU))
    ep.set_mtu(247)
    ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_HELLO, 1)) + bytes(16))
    assert ep.next_frame() == (protocol.CH_AUTH, protocol.encode_refusal(protocol.ERR_NOT_PROVISIONED))
    ep.receive(protocol.CH_PROVISION, bytes(31))
    assert ep.next_frame() == (protocol.CH_AUTH, protocol.encode_refusal(protocol.ERR_BAD_LENGTH))
    ep.receive(protocol.CH_PROVISION, bytes(range(32)))
    assert ep.next_frame() == (protocol.CH_PROVISION, b"\x00")
    assert ep.has_key
    ble_ep = Endpoint(_App(0), None, lambda n: bytes(n), allow_provision=False)
    ble_ep.receive(protocol.CH_PROVISION, bytes(range(32)))
    assert ble_ep.next_frame() == (protocol.CH_AUTH, protocol.encode_refusal(protocol.ERR_ROLE))
    assert not ble_ep.has_key


def test_endpoint_patient_cannot_pull():
    key = bytes(range(32))
    ep = _serial_pair(_App(3), key)
    ep.connected(247)
    out, inp = open_client(ep, key, protocol.ROLE_PATIENT)
    ep.receive(protocol.CH_CONTROL, out.seal(protocol.CH_CONTROL, protocol_host.racp_request(1, 1)))
    channel, frame = ep.next_frame()
    assert channel == protocol.CH_AUTH
    assert inp.open(channel, frame) == protocol.encode_refusal(protocol.ERR_ROLE)
    assert ep.next_frame() is None and not ep.pulling


class _RecordStore:
    def __init__(self, n):
        self.rows = []
        for i in range(n):
            buf = bytearray(16)
            records.pack_record(buf, 0, i + 1, 9000, i % 1440, records.KIND_SYMPTOM, 1, i % 4, 0)
            self.rows.append(bytes(buf))

    def count_from(self, seq):
        return len([1 for r in self.rows if int.from_bytes(r[:4], "little") >= seq])

    def read_into(self, start, buf):
        start = max(start, 1)
        cap = len(buf) // 16
        chunk = self.rows[start - 1:start - 1 + cap]
        for i in range(len(chunk)):
            buf[16 * i:16 * i + 16] = chunk[i]
        return len(chunk), start + len(chunk)


class _StoredApp:
    def __init__(self, n):
        self.store = _RecordStore(n)


def test_frame_overhead_is_what_the_protocol_sizes_for():
    assert session.FRAME_OVERHEAD == 16 and records.RECORD_SIZE == 16
    assert protocol.records_per_frame(247, session.FRAME_OVERHEAD, records.RECORD_SIZE) == 14


def test_endpoint_pull_resume_and_abort_in_memory():
    key = bytes(range(32))
    ep = Endpoint(_StoredApp(40), key, lambda n: bytes(n))
    ep.connected(64)   # small MTU: 2 records per frame
    out, inp = open_client(ep, key, protocol.ROLE_CLINICIAN)
    ep.receive(protocol.CH_CONTROL, out.seal(protocol.CH_CONTROL, protocol_host.racp_request(4, 3, 11)))
    channel, frame = ep.next_frame()
    assert protocol_host.parse_racp_reply(inp.open(channel, frame)) == ("number", 30, None)
    ep.receive(protocol.CH_CONTROL, out.seal(protocol.CH_CONTROL, protocol_host.racp_request(1, 3, 11)))
    seqs = []
    for _ in range(3):
        channel, frame = ep.next_frame()
        assert channel == protocol.CH_RECORDS
        body = inp.open(channel, frame)
        seqs += [records.unpack_record(body, i)[0] for i in range(0, len(body), 16)]
    assert seqs == list(range(11, 17))
    ep.receive(protocol.CH_CONTROL, out.seal(protocol.CH_CONTROL, protocol_host.racp_request(protocol.RACP_ABORT)))
    channel, frame = ep.next_frame()
    assert protocol_host.parse_racp_reply(inp.open(channel, frame)) == ("response", protocol.RACP_ABORT, 1)
    assert ep.next_frame() is None and not ep.pulling
    ep.receive(protocol.CH_CONTROL, out.seal(protocol.CH_CONTROL, protocol_host.racp_request(1, 3, 41)))
    channel, frame = ep.next_frame()
    assert protocol_host.parse_racp_reply(inp.open(channel, frame)) == ("response", 1, protocol.RSP_NO_RECORDS)


def test_a_new_key_over_an_existing_one_erases_the_log_or_is_refused(tmp_path):
    """Re-keying over USB never hands the history kept under the old key to the new one: without the erase
    flag it is refused with the count of records held; with it the log and profile go first. The same key
    again changes nothing."""
    import os

    from sim import env
    env.install()
    import machine
    from monitor.app import App
    from monitor.clock import Clock
    from monitor.store import Store
    data_dir = str(tmp_path)
    key_path = data_dir + "/device.key"
    old_key, new_key = bytes(range(32)), bytes(range(1, 33))
    session.save_key(key_path, old_key)
    app = App(Store(data_dir), Clock(machine.RTC()), data_dir)
    app.boot()
    app.set_clock(9800, 600, 0)
    for i in range(20):
        assert app.submit_entry(records.KIND_SYMPTOM, i % 13, 1, 0, 9800, 500 + i)[0] == 0
    ep = Endpoint(app, old_key, os.urandom, allow_provision=True, key_path=key_path)
    ep.connected(247)
    held = app.store.count_from(0)
    ep.receive(protocol.CH_PROVISION, bytes(range(32)))                       # the same key: nothing changes
    assert ep.next_frame() == (protocol.CH_PROVISION, b"\x00") and app.store.count_from(0) == held
    ep.receive(protocol.CH_PROVISION, new_key)
    assert ep.next_frame() == (protocol.CH_PROVISION, bytes((protocol.ERR_KEY_HELD,)) + held.to_bytes(4, "little"))
    assert app.store.count_from(0) == held and session.load_key(key_path) == old_key
    ep.receive(protocol.CH_PROVISION, new_key + bytes((protocol.PROVISION_ERASE,)))
    assert ep.next_frame() == (protocol.CH_PROVISION, b"\x00")
    assert app.store.count_from(0) == 0 and session.load_key(key_path) == new_key
    assert app.submit_entry(records.KIND_SYMPTOM, 0, 2, 0, 9800, 590)[0] == 0   # the log goes on, empty
    app.store.close()
    again = Store(data_dir)
    assert again.count_from(0) == 1 and again.load_snapshot() is None
