"""Writes tests/vectors/session.json from the HOST implementation (host_tools/host_crypto.py, on the
`cryptography` package).  The device code (monitor/session.py) must reproduce every byte: see
tests/core/test_session.py (CPython and the MicroPython unix port) and tests/sync/test_sync_vectors.py.

    .venv/bin/python tests/vectors/make_session_vectors.py
"""
import json
import os

from monitor import protocol, protocol_host
from host_tools import host_crypto

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "session.json")


def counter_bytes(seed):
    """Deterministic 'random' bytes so the vectors are reproducible."""
    state = [seed]

    def take(n):
        out = bytes((state[0] + i * 7) & 0xFF for i in range(n))
        state[0] += 1
        return out
    return take


def build():
    device_key = bytes(range(32))
    cases = []
    for role in (protocol.ROLE_CLINICIAN, protocol.ROLE_PATIENT):
        rkey = host_crypto.role_key(device_key, role)
        host = host_crypto.HostSession(rkey, role, random_bytes=counter_bytes(role * 16))
        hello = host.hello()
        device_nonce = bytes((0xA0 + i + role) & 0xFF for i in range(protocol.NONCE_SIZE))
        t = bytes((role,)) + hello[2:] + device_nonce
        device_proof = host_crypto.hmac_sha256(rkey, host_crypto.spec.LABEL_DEVICE, t)[:protocol.PROOF_SIZE]
        challenge = bytes((protocol.AUTH_CHALLENGE,)) + device_nonce + device_proof
        proof = host.answer_challenge(challenge)
        frames = []
        for channel, plaintext in ((protocol.CH_CONTROL, protocol_host.racp_request(
                protocol.RACP_REPORT, protocol.OPERATOR_GE, 1)),
                (protocol.CH_ENTRY, protocol_host.encode_entry(0, 0, 4250, 2, 9800, 600)),
                (protocol.CH_PROFILE, bytes(range(40)))):
            frames.append({"dir": "h2d", "channel": channel, "plaintext": plaintext.hex(),
                           "frame": host.seal(channel, plaintext).hex()})
        # device -> host: what the device must produce, checked by opening with the host cipher
        d2h = host_crypto.HostCipher(*host_crypto._direction_keys(
            rkey, role, hello[2:], device_nonce, host_crypto.spec.DIR_DEVICE_TO_HOST),
            host_crypto.spec.DIR_DEVICE_TO_HOST)
        for channel, plaintext in ((protocol.CH_RECORDS, bytes(range(224))),
                                   (protocol.CH_CONTROL, protocol.racp_response(1, 1))):
            frames.append({"dir": "d2h", "channel": channel, "plaintext": plaintext.hex(),
                           "frame": d2h.seal(channel, plaintext).hex()})
        cases.append({"role": role, "role_key": rkey.hex(), "hello": hello.hex(),
                      "device_nonce": device_nonce.hex(), "challenge": challenge.hex(),
                      "proof": proof.hex(), "frames": frames})
    hmacs = []
    for key, msg in ((b"key", b"The quick brown fox jumps over the lazy dog"),
                     (bytes(100), b""), (bytes(range(64)), bytes(300))):
        hmacs.append({"key": key.hex(), "msg": msg.hex(), "mac": host_crypto.hmac_sha256(key, msg).hex()})
    return {"device_key": device_key.hex(), "hmac_sha256": hmacs, "sessions": cases}


if __name__ == "__main__":
    with open(OUT, "w") as f:
        json.dump(build(), f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", OUT)
