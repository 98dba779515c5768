"""The shared session vectors: the host implementation (cryptography) regenerates them byte for byte, and
host and device code (monitor.session on hashlib + AES-ECB) agree on every frame in both directions.
tests/core/test_session.py checks the device side against the same file on the MicroPython unix port."""
import json
import os
import sys

from monitor import session as device
from host_tools import host_crypto

from paths import TESTS as HERE  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "vectors"))

import make_session_vectors  # noqa: E402


def test_vectors_file_is_what_the_host_implementation_makes():
    with open(make_session_vectors.OUT) as f:
        assert json.load(f) == make_session_vectors.build()


def test_host_opens_what_the_device_seals_and_back():
    data = make_session_vectors.build()
    key = bytes.fromhex(data["device_key"])
    for case in data["sessions"]:
        role = case["role"]
        host = host_crypto.HostSession(host_crypto.role_key(key, role), role, random_bytes=os.urandom)
        nonce = bytes.fromhex(case["device_nonce"])
        dev = device.DeviceSession(key, lambda n, nonce=nonce: nonce[:n])
        dev.proof(host.answer_challenge(dev.hello(host.hello())))
        for size in (0, 1, 16, 100, 224):
            message = os.urandom(size)
            assert host.open(2, dev.seal(2, message)) == message
            assert dev.open(3, host.seal(3, message)) == message
