"""Coverage-guided fuzzing (atheris/libFuzzer) of what a BLE or USB peer can send the device.

Each input picks a role, a channel and a mode: a payload sealed in an open session (reaching the control
point, entry, profile, alerts and time decoders behind the crypto), a raw frame (the frame decoder and the
handshake), or bytes for the USB COBS reader. Invariants: every input gets an answer, a refused or
malformed one stores nothing, and nothing raises. The hypothesis tests in test_fuzz_protocol.py check the
answers in detail; this explores the code paths. Run: python tests/sync/atheris_endpoint.py -runs=N
"""
import os
import sys

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]   # test_fuzz_protocol beside it, sync_fixtures in tests/

with atheris.instrument_imports():
    from monitor import endpoint as _endpoint_module, framing, protocol, session as _session_module  # noqa: F401

from test_fuzz_protocol import _device, _drain, _open  # noqa: E402

SEALED = (protocol.CH_CONTROL, protocol.CH_ENTRY, protocol.CH_PROFILE, protocol.CH_ALERTS, protocol.CH_TIME)
ROLES = (protocol.ROLE_CLINICIAN, protocol.ROLE_PATIENT)


class Peer:
    """A device endpoint on the real store and the host end of its session, reopened when it ends."""

    def __init__(self, role):
        self.role = role
        self.app, self.endpoint = _device(20)
        self.host = _open(self.endpoint, role)

    def reopen(self):
        while self.endpoint.next_frame() is not None:
            pass
        self.host = _open(self.endpoint, self.role)


PEERS = [Peer(role) for role in ROLES]
READER = framing.FrameReader(max_packet=300)


def one_input(data):
    if len(data) < 2:
        return
    mode, selector, payload = data[0] % 3, data[1], data[2:]
    if mode == 2:   # USB: any byte stream through the COBS reader
        for channel, frame in READER.feed(payload):
            assert 0 <= channel <= 255 and len(frame) <= 300
        return
    peer = PEERS[selector & 1]
    before = (peer.app.store.next_seq, peer.app.profile, peer.app.acked)
    if mode == 0:
        channel = SEALED[(selector >> 1) % len(SEALED)]
        peer.endpoint.receive(channel, peer.host.seal(channel, payload))
        replies = _drain(peer.endpoint, peer.host)
        assert replies, "no answer"
        if channel != protocol.CH_ENTRY:
            assert peer.app.store.next_seq == before[0]
        if channel not in (protocol.CH_ENTRY, protocol.CH_CONTROL, protocol.CH_PROFILE):
            assert (peer.app.profile, peer.app.acked) == before[1:]
    else:
        peer.endpoint.receive(selector, bytes(payload))
        answered = False
        while peer.endpoint.next_frame() is not None:
            answered = True
        assert answered, "no answer to a raw frame"
        assert (peer.app.store.next_seq, peer.app.profile, peer.app.acked) == before
        peer.reopen()


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
