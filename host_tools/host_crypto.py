"""Host side of the session, written independently on the `cryptography` package.

The device implements HMAC by hand on hashlib and CTR by hand on AES-ECB
(firmware/monitor/session.py); this module uses cryptography's HMAC and CTR mode.
tests/vectors/session.json and the tests prove both produce the same bytes.
Only the constants (labels, sizes, directions) come from monitor.session.

Keys: `role_key(device_key, role)` derives what a host keeps; a clinician's tool holds
the device key (or the clinician key) and gives a patient only the patient key.
"""
import hashlib
import os
import struct

from cryptography.hazmat.primitives import constant_time, hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from monitor import protocol, protocol_host
from monitor import session as spec
from monitor.session import SessionError


def hmac_sha256(key, *parts):
    h = crypto_hmac.HMAC(bytes(key), hashes.SHA256())
    for part in parts:
        h.update(bytes(part))
    return h.finalize()


def role_key(device_key, role):
    return hmac_sha256(device_key, spec.LABEL_ROLE, bytes((role,)))


def host_keys(device_key):
    """What a provisioning host keeps, by name: each role's key and the beacon key, never the device key."""
    from host_tools import keys
    from monitor import beacon

    return {"clinician": role_key(device_key, protocol.ROLE_CLINICIAN),
            "patient": role_key(device_key, protocol.ROLE_PATIENT),
            keys.BEACON: beacon.beacon_key(device_key)}


def key_fingerprint(role_key):
    """A short public name for the key a device was provisioned with (the same on every computer holding
    its keys, another after provisioning again); the host database binds a history to it."""
    return hashlib.sha256(b"e2mon key id" + bytes(role_key)).hexdigest()[:16]


def new_device_key():
    return os.urandom(spec.KEY_SIZE)


def _transcript(role, host_nonce, device_nonce):
    return bytes((role,)) + host_nonce + device_nonce


class HostCipher:
    """One direction of a session on the host: seal() for requests, open() for replies."""

    def __init__(self, enc_key, mac_key, direction):
        self._enc_key = enc_key
        self._mac_key = mac_key
        self._dir = bytes((direction,))
        self.counter = 0

    def _crypt(self, counter_bytes, data):
        nonce = counter_bytes + bytes(12)
        ctx = Cipher(algorithms.AES(self._enc_key), modes.CTR(nonce)).encryptor()
        return ctx.update(bytes(data)) + ctx.finalize()

    def _tag(self, channel, counter_bytes, ciphertext):
        return hmac_sha256(self._mac_key, self._dir, bytes((channel,)), counter_bytes, ciphertext)[:spec.TAG_SIZE]

    def seal(self, channel, plaintext):
        counter_bytes = struct.pack("<I", self.counter)
        self.counter += 1
        ciphertext = self._crypt(counter_bytes, plaintext)
        return counter_bytes + ciphertext + self._tag(channel, counter_bytes, ciphertext)

    def tag_ok(self, channel, frame):
        """Whether frame was sealed for channel (its tag checks), without opening it."""
        frame = bytes(frame)
        if len(frame) < spec.FRAME_OVERHEAD:
            return False
        tag = self._tag(channel, frame[:spec.COUNTER_SIZE], frame[spec.COUNTER_SIZE:-spec.TAG_SIZE])
        return constant_time.bytes_eq(tag, frame[-spec.TAG_SIZE:])

    def open(self, channel, frame):
        frame = bytes(frame)
        if len(frame) < spec.FRAME_OVERHEAD:
            raise SessionError(protocol.ERR_BAD_LENGTH)
        counter_bytes = frame[:spec.COUNTER_SIZE]
        ciphertext = frame[spec.COUNTER_SIZE:-spec.TAG_SIZE]
        if not constant_time.bytes_eq(self._tag(channel, counter_bytes, ciphertext), frame[-spec.TAG_SIZE:]):
            raise SessionError(protocol.ERR_BAD_TAG)
        if struct.unpack("<I", counter_bytes)[0] != self.counter:
            raise SessionError(protocol.ERR_REPLAY)
        self.counter += 1
        return self._crypt(counter_bytes, ciphertext)


def _direction_keys(rkey, role, host_nonce, device_nonce, direction):
    master = hmac_sha256(rkey, spec.LABEL_SESSION, _transcript(role, host_nonce, device_nonce))
    d = bytes((direction,))
    return hmac_sha256(master, spec.LABEL_ENC, d)[:16], hmac_sha256(master, spec.LABEL_MAC, d)


class HostSession:
    """Handshake then frame protection, for a host holding a role key."""

    def __init__(self, rkey, role, random_bytes=os.urandom):
        if len(rkey) != spec.KEY_SIZE:
            raise ValueError("role key must be %d bytes" % spec.KEY_SIZE)
        if role not in protocol_host.ROLE_NAMES:
            raise ValueError("unknown role %r" % (role,))
        self._rkey = bytes(rkey)
        self.role = role
        self._random = random_bytes
        self._host_nonce = None
        self.outgoing = None    # HostCipher, host -> device
        self.incoming = None    # HostCipher, device -> host

    def hello(self):
        self._host_nonce = bytes(self._random(protocol.NONCE_SIZE))
        return bytes((protocol.AUTH_HELLO, self.role)) + self._host_nonce

    def answer_challenge(self, message):
        """CHALLENGE -> PROOF bytes; raises SessionError(ERR_BAD_PROOF) if the device is not genuine."""
        message = bytes(message)
        if message[:1] == bytes((protocol.AUTH_REFUSED,)) and len(message) == 2:
            raise SessionError(message[1])
        if len(message) != 1 + protocol.NONCE_SIZE + protocol.PROOF_SIZE or message[0] != protocol.AUTH_CHALLENGE:
            raise SessionError(protocol.ERR_BAD_LENGTH)
        device_nonce = message[1:1 + protocol.NONCE_SIZE]
        proof = message[1 + protocol.NONCE_SIZE:]
        t = _transcript(self.role, self._host_nonce, device_nonce)
        expected = hmac_sha256(self._rkey, spec.LABEL_DEVICE, t)[:protocol.PROOF_SIZE]
        if not constant_time.bytes_eq(expected, proof):
            raise SessionError(protocol.ERR_BAD_PROOF)
        self.outgoing = HostCipher(*_direction_keys(self._rkey, self.role, self._host_nonce, device_nonce,
                                                    spec.DIR_HOST_TO_DEVICE), spec.DIR_HOST_TO_DEVICE)
        self.incoming = HostCipher(*_direction_keys(self._rkey, self.role, self._host_nonce, device_nonce,
                                                    spec.DIR_DEVICE_TO_HOST), spec.DIR_DEVICE_TO_HOST)
        return bytes((protocol.AUTH_PROOF,)) + hmac_sha256(self._rkey, spec.LABEL_HOST, t)[:protocol.PROOF_SIZE]

    def seal(self, channel, plaintext):
        return self.outgoing.seal(channel, plaintext)

    def open(self, channel, frame):
        return self.incoming.open(channel, frame)
