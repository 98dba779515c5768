# Device side of authentication and frame protection, on hashlib.sha256 and
# cryptolib's AES ECB (MicroPython has no hmac module and no CTR mode).
#
# Keys: the device holds one 32-byte key, provisioned over USB.  Each role has
# its own key derived from it, role_key = HMAC(device_key, "e2mon role" | role);
# the clinician's tool derives the patient's key and hands only that to the patient,
# so a patient key can never open a clinician session.
#
# Handshake (messages in monitor.protocol): host sends role + host nonce; device
# answers with a fresh device nonce and its proof HMAC(rk, "e2mon dev"|role|nh|nd);
# host checks it and answers HMAC(rk, "e2mon host"|role|nh|nd); device checks it.
# Both derive master = HMAC(rk, "e2mon session"|role|nh|nd) and per-direction keys
# enc = HMAC(master, "enc"|dir)[:16] (AES-128) and mac = HMAC(master, "mac"|dir).
#
# Frame: counter u32 LE | AES-CTR ciphertext | tag (12 bytes).
#   tag = HMAC-SHA256(mac, dir | channel | counter | ciphertext)[:12]
#   CTR block i = counter u32 LE | 8 zero bytes | i u32 BE: standard CTR (NIST SP 800-38A,
#   big-endian increment of the low word) with the frame counter as nonce; keys differ
#   per session and direction, so no keystream block is ever used twice.
# A frame is accepted only with a valid tag and counter == the next expected one,
# so replayed, reordered and tampered frames are refused; either closes the session.
# The tag is truncated to 96 bits (NIST SP 800-107 allows truncated HMAC tags; 96
# bits is what IPsec's HMAC-*-96 uses): a forgery succeeds with probability 2^-96
# per try, and every wrong try closes the session and costs a fresh handshake, so
# online guessing is hopeless.  The 4 bytes saved per notification keep the records
# payload efficiency above 90 % at MTU 247 (14 records per notification).
import hashlib
import struct
import sys

from cryptolib import aes as _aes

from micropython import const

from monitor import codes as protocol   # the few codes the session needs, not the codecs

KEY_SIZE = const(32)
KEY_FILE = "device.key"            # in the board's data directory, written only over USB
TAG_SIZE = const(12)
COUNTER_SIZE = const(4)
FRAME_OVERHEAD = const(16)       # counter + tag
COUNTER_LIMIT = const(0x3FFFFFFF)  # stays a small int on the boards; a session never gets near it
DIR_HOST_TO_DEVICE = const(0x48)   # "H"
DIR_DEVICE_TO_HOST = const(0x44)   # "D"
_ECB = const(1)
# Domain-separation labels (host_tools/host_crypto.py uses these same constants).
LABEL_ROLE = b"e2mon role"
LABEL_DEVICE = b"e2mon dev"
LABEL_HOST = b"e2mon host"
LABEL_SESSION = b"e2mon session"
LABEL_ENC = b"enc"
LABEL_MAC = b"mac"


if getattr(sys.implementation, "_mpy", 0) >> 10 > 2:   # .mpy arch of a board's core, not CPython's or x86's
    from monitor.native import __xor__, counter_blocks   # native code (the unix port, on x86, runs the boards' .mpy without it)
else:
    def __xor__(buf, offset, data, key, n):
        for i in range(n):
            buf[offset + i] = data[i] ^ key[i]

    def counter_blocks(buf, offset, counter, blocks):
        """CTR input blocks at offset (buf fresh: its zero bytes are there)."""
        for i in range(blocks):
            struct.pack_into("<I", buf, offset + 16 * i, counter)
            struct.pack_into(">I", buf, offset + 16 * i + 12, i)


class SessionError(Exception):
    """A refused frame or handshake message; .code is a monitor.protocol ERR_*."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Hmac:
    """HMAC-SHA256 (RFC 2104) on hashlib.sha256, key padded once."""

    def __init__(self, key):
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        ipad = bytearray(64)
        opad = bytearray(64)
        for i in range(64):
            k = key[i] if i < len(key) else 0
            ipad[i] = k ^ 0x36
            opad[i] = k ^ 0x5C
        self._ipad = bytes(ipad)
        self._opad = bytes(opad)

    def digest(self, *parts):
        inner = hashlib.sha256(self._ipad)
        for part in parts:
            inner.update(part)
        outer = hashlib.sha256(self._opad)
        outer.update(inner.digest())
        return outer.digest()


def hmac_sha256(key, *parts):
    return Hmac(key).digest(*parts)


def equal(a, b):
    """Constant-time comparison of two byte strings."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def role_key(device_key, role):
    return hmac_sha256(device_key, LABEL_ROLE, bytes((role,)))


def _transcript(role, host_nonce, device_nonce):
    return bytes((role,)) + bytes(host_nonce) + bytes(device_nonce)


def device_proof(rkey, role, host_nonce, device_nonce):
    return hmac_sha256(rkey, LABEL_DEVICE, _transcript(role, host_nonce, device_nonce))[:protocol.PROOF_SIZE]


def host_proof(rkey, role, host_nonce, device_nonce):
    return hmac_sha256(rkey, LABEL_HOST, _transcript(role, host_nonce, device_nonce))[:protocol.PROOF_SIZE]


def direction_keys(rkey, role, host_nonce, device_nonce, direction):
    """(enc key 16 bytes, mac key 32 bytes) for one direction of one session."""
    master = Hmac(hmac_sha256(rkey, LABEL_SESSION, _transcript(role, host_nonce, device_nonce)))
    d = bytes((direction,))
    return master.digest(LABEL_ENC, d)[:16], master.digest(LABEL_MAC, d)


class FrameCipher:
    """One direction of a session: seal() on the sender, open() on the receiver."""

    def __init__(self, enc_key, mac_key, direction):
        self._aes = _aes(enc_key, _ECB)
        self._mac = Hmac(mac_key)
        self._dir = bytearray((direction, 0))   # the tag's first two bytes: direction, then the channel
        self.counter = 0    # next counter to send, or the next one expected

    def _crypt(self, counter, data, buf, offset):
        """AES-CTR of data into buf from offset on."""
        n = len(data)
        blocks = (n + 15) // 16
        # Whole blocks (records frames): the keystream is made in buf itself (fresh, so its zero bytes are there).
        if offset + 16 * blocks <= len(buf):
            stream = memoryview(buf)[offset:offset + 16 * blocks]
        else:
            stream = bytearray(16 * blocks)
        counter_blocks(stream, 0, counter, blocks)
        self._aes.encrypt(stream, stream)
        __xor__(buf, offset, data, stream, n)

    def _tag(self, channel, counted):
        """The tag of counted (the frame's counter and ciphertext, one buffer): two updates of the inner hash."""
        head = self._dir
        head[1] = channel
        mac = self._mac                      # Hmac.digest written out: one call less per frame
        inner = hashlib.sha256(mac._ipad)
        inner.update(head)
        inner.update(counted)
        outer = hashlib.sha256(mac._opad)
        outer.update(inner.digest())
        return outer.digest()[:TAG_SIZE]

    def seal(self, channel, plaintext):
        counter = self.counter
        if counter >= COUNTER_LIMIT:
            raise SessionError(protocol.ERR_REPLAY)
        n = len(plaintext)
        frame = bytearray(COUNTER_SIZE + n + TAG_SIZE)   # built in place: no concatenated copies
        struct.pack_into("<I", frame, 0, counter)
        self._crypt(counter, plaintext, frame, COUNTER_SIZE)
        self.counter = counter + 1
        frame[COUNTER_SIZE + n:] = self._tag(channel, memoryview(frame)[:COUNTER_SIZE + n])
        return frame

    def tag_ok(self, channel, frame):
        """Whether frame was sealed for channel (its tag checks), without opening it."""
        if len(frame) < FRAME_OVERHEAD:
            return False
        frame = memoryview(frame)
        end = len(frame) - TAG_SIZE
        return equal(self._tag(channel, frame[:end]), frame[end:])

    def open(self, channel, frame):
        """The plaintext; SessionError(ERR_BAD_TAG / ERR_REPLAY / ERR_BAD_LENGTH) otherwise."""
        if len(frame) < FRAME_OVERHEAD:
            raise SessionError(protocol.ERR_BAD_LENGTH)
        frame = memoryview(frame)
        end = len(frame) - TAG_SIZE
        if not equal(self._tag(channel, frame[:end]), frame[end:]):
            raise SessionError(protocol.ERR_BAD_TAG)
        ciphertext = bytes(frame[COUNTER_SIZE:end])
        counter = struct.unpack_from("<I", frame, 0)[0]
        if counter != self.counter:
            raise SessionError(protocol.ERR_REPLAY)
        self.counter += 1
        plaintext = bytearray(len(ciphertext))
        self._crypt(counter, ciphertext, plaintext, 0)
        return bytes(plaintext)


class DeviceSession:
    """The device's side of one connection: handshake state, then two FrameCiphers."""

    def __init__(self, device_key, random_bytes):
        self._key = device_key
        self._random = random_bytes
        self.role = 0
        self.incoming = None    # FrameCipher, host -> device
        self.outgoing = None    # FrameCipher, device -> host
        self._pending = None    # (role, host nonce, device nonce) between challenge and proof

    @property
    def is_open(self):
        return self.incoming is not None

    def close(self):
        self.role = 0
        self.incoming = None
        self.outgoing = None
        self._pending = None

    def hello(self, message):
        """HELLO -> CHALLENGE bytes.  Any HELLO ends the current session first."""
        self.close()
        if self._key is None:
            raise SessionError(protocol.ERR_NOT_PROVISIONED)
        if len(message) != 2 + protocol.NONCE_SIZE:
            raise SessionError(protocol.ERR_BAD_LENGTH)
        role = message[1]
        if role not in (protocol.ROLE_CLINICIAN, protocol.ROLE_PATIENT):
            raise SessionError(protocol.ERR_BAD_VALUE)
        host_nonce = bytes(message[2:])
        device_nonce = bytes(self._random(protocol.NONCE_SIZE))
        rkey = role_key(self._key, role)
        self._pending = (role, host_nonce, device_nonce)
        return bytes((protocol.AUTH_CHALLENGE,)) + device_nonce + device_proof(rkey, role, host_nonce, device_nonce)

    def proof(self, message):
        """PROOF -> OPEN bytes, with the session keys in place; SessionError otherwise."""
        pending = self._pending
        self._pending = None    # one proof per challenge: no guessing against the same nonces
        if pending is None:
            raise SessionError(protocol.ERR_NO_SESSION)
        if len(message) != 1 + protocol.PROOF_SIZE:
            raise SessionError(protocol.ERR_BAD_LENGTH)
        role, host_nonce, device_nonce = pending
        rkey = role_key(self._key, role)
        if not equal(host_proof(rkey, role, host_nonce, device_nonce), message[1:]):
            raise SessionError(protocol.ERR_BAD_PROOF)
        enc, mac = direction_keys(rkey, role, host_nonce, device_nonce, DIR_HOST_TO_DEVICE)
        self.incoming = FrameCipher(enc, mac, DIR_HOST_TO_DEVICE)
        enc, mac = direction_keys(rkey, role, host_nonce, device_nonce, DIR_DEVICE_TO_HOST)
        self.outgoing = FrameCipher(enc, mac, DIR_DEVICE_TO_HOST)
        self.role = role
        return bytes((protocol.AUTH_OPEN, role))

    def channel_of(self, frame, channels):
        """Which of the channels sharing one characteristic frame was sealed for (the first if none)."""
        if self.incoming is not None:
            for channel in channels:
                if self.incoming.tag_ok(channel, frame):
                    return channel
        return channels[0]

    def open(self, channel, frame):
        """Decrypts a request frame; a bad frame closes the session and raises SessionError."""
        if self.incoming is None:
            raise SessionError(protocol.ERR_NO_SESSION)
        try:
            return self.incoming.open(channel, frame)
        except SessionError:
            self.close()
            raise

    def seal(self, channel, plaintext):
        return self.outgoing.seal(channel, plaintext)


def check_key(key):
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise ValueError("device key must be %d bytes" % KEY_SIZE)
    return bytes(key)


def save_key(path, key):
    """Writes the key next to its final name, then renames: a power cut leaves old or new."""
    key = check_key(key)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(key)
    import os
    os.rename(tmp, path)


def load_key(path):
    """The provisioned key, or None when the device has none yet."""
    try:
        with open(path, "rb") as f:
            key = f.read()
    except OSError:
        return None
    return key if len(key) == KEY_SIZE else None
