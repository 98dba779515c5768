# The endpoint's heap policy during a pull: the board's collection every few KB (gc.threshold, set by
# device.memory) is set aside while a pull runs and back however the pull ends. Runs where gc has a
# threshold (MicroPython: make check-upy); CPython manages its own heap.
# The log is a stand-in with the Store's read_into (the real one does not fit the 64 KB test heap beside
# the endpoint and the session).
import gc
import os
import struct

from monitor import protocol
from monitor import session
from monitor.endpoint import Endpoint

KEY = bytes(range(32))


class _Log:
    """read_into as monitor.store.Store's, over n records numbered from 1 (only their numbers set)."""

    def __init__(self, n):
        self.n = n

    def read_into(self, seq, buf):
        seq = max(seq, 1)
        count = min(len(buf) // 16, self.n + 1 - seq)
        if count <= 0:
            return 0, seq
        for k in range(count):
            struct.pack_into("<I", buf, 16 * k, seq + k)
        return count, seq + count


class _App:
    def __init__(self, store):
        self.store = store


def _pulling_endpoint(store):
    """An endpoint with a clinician session open; returns (endpoint, the host's sealing cipher)."""
    ep = Endpoint(_App(store), KEY, os.urandom)
    ep.connected(protocol.MAX_MTU)
    role = protocol.ROLE_CLINICIAN
    host_nonce = os.urandom(protocol.NONCE_SIZE)
    ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_HELLO, role)) + host_nonce)
    device_nonce = ep.next_frame()[1][1:1 + protocol.NONCE_SIZE]
    rkey = session.role_key(KEY, role)
    ep.receive(protocol.CH_AUTH, bytes((protocol.AUTH_PROOF,)) + session.host_proof(rkey, role, host_nonce,
                                                                                    device_nonce))
    assert ep.next_frame()[1][0] == protocol.AUTH_OPEN
    enc, mac = session.direction_keys(rkey, role, host_nonce, device_nonce, session.DIR_HOST_TO_DEVICE)
    return ep, session.FrameCipher(enc, mac, session.DIR_HOST_TO_DEVICE)


def _pull(ep, host):
    ep.receive(protocol.CH_CONTROL, host.seal(protocol.CH_CONTROL, bytes((protocol.RACP_REPORT,
                                                                          protocol.OPERATOR_ALL))))


def test_a_pull_sets_the_collection_policy_aside_until_it_ends():
    threshold = getattr(gc, "threshold", None)
    if threshold is None:
        return
    kept = threshold()
    try:
        threshold(4096)
        ep, host = _pulling_endpoint(_Log(30))
        _pull(ep, host)
        assert ep.pulling and threshold() == -1
        frames = 0
        while ep.pulling:
            assert ep.next_frame()[0] in (protocol.CH_RECORDS, protocol.CH_CONTROL)
            frames += 1
        assert frames == 4 and threshold() == 4096          # 14 + 14 + 2 records, then the completion
        _pull(ep, host)
        ep.next_frame()
        assert threshold() == -1
        ep.disconnected()                                    # a radio loss in the middle of a pull
        assert threshold() == 4096 and not ep.pulling
    finally:
        threshold(kept)
