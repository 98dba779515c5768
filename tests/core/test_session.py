# The device's session code against the shared vectors (made by the host implementation on the
# `cryptography` package: tests/vectors/make_session_vectors.py).  Plain asserts: runs on CPython
# and on the MicroPython unix port.
import json
from binascii import unhexlify

from monitor import codes as protocol   # the session needs only these, not the codecs
from monitor import session

_HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
VECTORS = _HERE + "/../vectors/session.json"


def _load():
    with open(VECTORS) as f:
        return json.load(f)


def _h(text):
    return unhexlify(text)


def _device_for(case, device_key):
    nonce = _h(case["device_nonce"])
    dev = session.DeviceSession(device_key, lambda n: nonce[:n])
    return dev


def test_hmac_matches_vectors():
    for v in _load()["hmac_sha256"]:
        assert session.hmac_sha256(_h(v["key"]), _h(v["msg"])) == _h(v["mac"])


def test_hmac_split_parts_equal_whole():
    assert session.hmac_sha256(b"k", b"ab", b"cd") == session.hmac_sha256(b"k", b"abcd")


def test_role_keys_match_vectors():
    data = _load()
    key = _h(data["device_key"])
    for case in data["sessions"]:
        assert session.role_key(key, case["role"]) == _h(case["role_key"])
    assert session.role_key(key, 1) != session.role_key(key, 2)


def test_handshake_and_frames_match_vectors():
    data = _load()
    key = _h(data["device_key"])
    for case in data["sessions"]:
        dev = _device_for(case, key)
        assert dev.hello(_h(case["hello"])) == _h(case["challenge"])
        assert dev.proof(_h(case["proof"])) == bytes((protocol.AUTH_OPEN, case["role"]))
        assert dev.is_open and dev.role == case["role"]
        for frame in case["frames"]:
            if frame["dir"] == "h2d":
                assert dev.open(frame["channel"], _h(frame["frame"])) == _h(frame["plaintext"])
            else:
                assert dev.seal(frame["channel"], _h(frame["plaintext"])) == _h(frame["frame"])


def test_wrong_proof_refused_and_one_try_per_challenge():
    data = _load()
    key = _h(data["device_key"])
    case = data["sessions"][0]
    dev = _device_for(case, key)
    dev.hello(_h(case["hello"]))
    bad = bytearray(_h(case["proof"]))
    bad[5] ^= 1
    try:
        dev.proof(bytes(bad))
        raise AssertionError("bad proof accepted")
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_BAD_PROOF
    assert not dev.is_open
    try:   # the right proof is now too late: the challenge is used up
        dev.proof(_h(case["proof"]))
        raise AssertionError("second proof accepted")
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_NO_SESSION


def _opened(case, key):
    dev = _device_for(case, key)
    dev.hello(_h(case["hello"]))
    dev.proof(_h(case["proof"]))
    return dev


def test_tampered_replayed_reordered_and_moved_frames_refused():
    data = _load()
    key = _h(data["device_key"])
    case = data["sessions"][0]
    frames = [f for f in case["frames"] if f["dir"] == "h2d"]
    first = _h(frames[0]["frame"])
    second = _h(frames[1]["frame"])
    for i in range(len(first)):   # every single-bit flip anywhere is caught
        dev = _opened(case, key)
        bad = bytearray(first)
        bad[i] ^= 0x10
        try:
            dev.open(frames[0]["channel"], bytes(bad))
            raise AssertionError("tampered frame accepted")
        except session.SessionError as exc:
            assert exc.code == protocol.ERR_BAD_TAG
        assert not dev.is_open   # a bad frame ends the session
    dev = _opened(case, key)
    try:   # reordered: the second frame before the first
        dev.open(frames[1]["channel"], second)
        raise AssertionError()
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_REPLAY
    dev = _opened(case, key)
    dev.open(frames[0]["channel"], first)
    try:   # replayed
        dev.open(frames[0]["channel"], first)
        raise AssertionError()
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_REPLAY
    dev = _opened(case, key)
    try:   # moved to another characteristic
        dev.open(frames[0]["channel"] + 1, first)
        raise AssertionError()
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_BAD_TAG
    dev = _opened(case, key)
    try:   # too short to be a frame
        dev.open(1, b"\x00" * 5)
        raise AssertionError()
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_BAD_LENGTH


def test_unprovisioned_device_refuses_hello():
    dev = session.DeviceSession(None, lambda n: bytes(n))
    try:
        dev.hello(bytes((protocol.AUTH_HELLO, 1)) + bytes(16))
        raise AssertionError()
    except session.SessionError as exc:
        assert exc.code == protocol.ERR_NOT_PROVISIONED


def test_ctr_roundtrip_odd_lengths():
    c_out = session.FrameCipher(bytes(16), bytes(32), session.DIR_DEVICE_TO_HOST)
    c_in = session.FrameCipher(bytes(16), bytes(32), session.DIR_DEVICE_TO_HOST)
    for n in (0, 1, 15, 16, 17, 100, 224):
        msg = bytes((i * 3) & 0xFF for i in range(n))
        frame = c_out.seal(2, msg)
        assert len(frame) == n + session.FRAME_OVERHEAD
        assert n < 8 or frame[4:4 + n] != msg
        assert c_in.open(2, frame) == msg
