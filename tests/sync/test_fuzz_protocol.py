"""Fuzzing the device side with hypothesis: control point, entry decoder, blobs, CTS and the frame
decoder, through the transport-free endpoint on the real Store (the same code BleService runs), and
the COBS reader.  Every bad input is answered with an error code; nothing is stored."""
import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_fixtures import DEVICE_KEY, TODAY, SyncApp, fill
from monitor import framing, protocol, protocol_host, records, validate
from monitor.endpoint import Endpoint
from host_tools import host_crypto

ENCRYPTED = (protocol.CH_CONTROL, protocol.CH_ENTRY, protocol.CH_ALERTS, protocol.CH_PROFILE, protocol.CH_TIME)
FUZZ = settings(max_examples=300, deadline=None, database=None)


def _device(n=30):
    app = SyncApp(tempfile.mkdtemp(prefix="e2mon-fuzz-"))
    fill(app, n)
    app.clock = (TODAY, 600, 0)
    endpoint = Endpoint(app, DEVICE_KEY, os.urandom)
    endpoint.connected(247)
    return app, endpoint


def _open(endpoint, role=protocol.ROLE_CLINICIAN):
    host = host_crypto.HostSession(host_crypto.role_key(DEVICE_KEY, role), role)
    endpoint.receive(protocol.CH_AUTH, host.hello())
    endpoint.receive(protocol.CH_AUTH, host.answer_challenge(endpoint.next_frame()[1]))
    assert endpoint.next_frame() == (protocol.CH_AUTH, bytes((protocol.AUTH_OPEN, role)))
    return host


def _drain(endpoint, host, limit=10_000):
    """Every frame the device sends back, opened by the host; plain refusals as ("refused", code)."""
    out = []
    for _ in range(limit):
        item = endpoint.next_frame()
        if item is None:
            return out
        channel, frame = item
        if channel == protocol.CH_AUTH and len(frame) == 2 and frame[0] == protocol.AUTH_REFUSED:
            out.append(("refused", frame[1]))
        else:
            out.append((channel, host.open(channel, frame)))
    raise AssertionError("device kept sending")


racp_like = st.one_of(
    st.binary(max_size=12),
    st.builds(lambda op, operator, rest: bytes((op, operator)) + rest,
              st.integers(0, 10), st.integers(0, 8), st.binary(max_size=6)),
    st.builds(protocol_host.racp_request, st.sampled_from([1, 2, 3, 4]), st.integers(0, 6),
              st.integers(0, 0xFFFFFFFF)),
)


def test_fuzz_control_point():
    app, endpoint = _device()
    host = _open(endpoint)

    @FUZZ
    @given(payload=racp_like)
    def check(payload):
        stored = app.store.next_seq
        endpoint.receive(protocol.CH_CONTROL, host.seal(protocol.CH_CONTROL, payload))
        replies = _drain(endpoint, host)
        assert replies, "no answer"
        channel, last = replies[-1]
        assert channel == protocol.CH_CONTROL
        kind, a, b = protocol_host.parse_racp_reply(last)
        if kind == "response":
            assert 1 <= b <= 0x0A
            if b == protocol.RSP_SUCCESS:
                assert protocol.parse_racp(payload)[0] in (protocol.RACP_REPORT, protocol.RACP_DELETE,
                                                           protocol.RACP_ABORT)
        else:
            assert protocol.parse_racp(payload)[0] == protocol.RACP_REPORT_NUMBER
        for channel, body in replies[:-1]:
            assert channel == protocol.CH_RECORDS and len(body) % records.RECORD_SIZE == 0
        assert app.store.next_seq == stored
        assert app.acked < app.store.next_seq

    check()


entry_like = st.one_of(
    st.binary(max_size=20),
    st.builds(lambda kind, code, value, flags, day, minute: bytes(
        protocol_host.encode_entry(kind, code, value, flags, day, minute)),
        st.integers(0, 3), st.integers(0, 63), st.integers(-2**31, 2**31 - 1), st.integers(0, 255),
        st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
)


def test_fuzz_entry_decoder():
    app, endpoint = _device(0)
    host = _open(endpoint, protocol.ROLE_PATIENT)

    @FUZZ
    @given(payload=entry_like)
    def check(payload):
        stored = app.store.next_seq
        endpoint.receive(protocol.CH_ENTRY, host.seal(protocol.CH_ENTRY, payload))
        replies = _drain(endpoint, host)
        assert len(replies) == 1 and replies[0][0] == protocol.CH_ENTRY
        status, seq = protocol_host.decode_entry_reply(replies[0][1])
        if status == protocol.STATUS_OK:
            kind, code, value, flags, day, minute = protocol.decode_entry(payload)
            assert validate.check_entry(kind, code, value, flags, day, minute, TODAY) == 0
            assert seq == stored and app.store.next_seq == stored + 1
            assert list(app.store.records(seq)) == [(seq, day, minute, kind, code, value, flags)]
        else:
            assert seq == 0 and app.store.next_seq == stored

    check()


def test_fuzz_blobs_and_time():
    app, endpoint = _device(3)
    host = _open(endpoint)
    profile = app.profile

    @FUZZ
    @given(channel=st.sampled_from([protocol.CH_PROFILE, protocol.CH_ALERTS, protocol.CH_TIME]),
           payload=st.one_of(st.binary(max_size=40),
                             st.builds(protocol_host.encode_blob_put, st.integers(0, 2000), st.integers(0, 2000),
                                       st.binary(max_size=20)),
                             st.builds(protocol_host.encode_blob_get, st.integers(0, 0xFFFF))))
    def check(channel, payload):
        stored = app.store.next_seq
        endpoint.receive(channel, host.seal(channel, payload))
        replies = _drain(endpoint, host)
        assert len(replies) == 1 and replies[0][0] == channel
        body = replies[0][1]
        if channel == protocol.CH_TIME:
            assert body[0] == protocol.STATUS_OK or len(body) == 1
        else:
            status = protocol_host.decode_blob_reply(body)[0]
            assert status == protocol.STATUS_OK or status >= 0xC0
        assert app.store.next_seq == stored
        assert app.profile == profile or app.profile.startswith(b"profile")

    check()


def test_fuzz_frame_decoder():
    app, endpoint = _device(10)
    before = (app.store.next_seq, app.clock, app.profile, app.acked)

    @FUZZ
    @given(channel=st.integers(0, 255), frame=st.binary(max_size=260), in_session=st.booleans())
    def check(channel, frame, in_session):
        if in_session:
            _open(endpoint)
        endpoint.receive(channel, frame)
        replies = []
        while True:
            item = endpoint.next_frame()
            if item is None:
                break
            replies.append(item)
        assert replies, "no answer"
        if channel == protocol.CH_AUTH and frame[:1] == bytes((protocol.AUTH_HELLO,)) and len(frame) == 18 \
                and frame[1] in (1, 2):
            assert replies[0][1][0] == protocol.AUTH_CHALLENGE   # a well-formed hello gets its challenge
        else:
            assert all(c == protocol.CH_AUTH and len(f) == 2 and f[0] == protocol.AUTH_REFUSED
                       for c, f in replies), replies
        assert (app.store.next_seq, app.clock, app.profile, app.acked) == before
        if channel in ENCRYPTED:   # a frame that fails to open ends the session
            assert not endpoint.session.is_open

    check()


@settings(max_examples=500, deadline=None, database=None)
@given(chunks=st.lists(st.binary(max_size=80), max_size=20))
def test_fuzz_cobs_reader(chunks):
    reader = framing.FrameReader(max_packet=64)
    for chunk in chunks:
        for channel, frame in reader.feed(chunk):
            assert 0 <= channel <= 255
            assert framing.cobs_decode(framing.cobs_encode(bytes((channel,)) + frame)) == bytes((channel,)) + frame


@settings(max_examples=500, deadline=None, database=None)
@given(data=st.binary(max_size=700))
def test_cobs_roundtrip(data):
    encoded = framing.cobs_encode(data)
    assert 0 not in encoded
    assert framing.cobs_decode(encoded) == data
