"""MicroPython's built-in `cryptolib` module on CPython (host tools, simulator, tests): its `aes` on the
`cryptography` package, so firmware/monitor/session.py's CTR-on-ECB code runs unchanged on a board and here.
Only ECB (mode 1) is offered: the firmware uses nothing else. Installed with the project (pyproject.toml).
"""
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MODE_ECB = 1


class aes:  # noqa: N801 - the name cryptolib gives it
    def __init__(self, key, mode, iv=None):
        if mode != MODE_ECB:
            raise ValueError("only ECB (mode 1) is provided")
        if len(key) not in (16, 24, 32):
            raise ValueError("AES key must be 16, 24 or 32 bytes")
        self._cipher = Cipher(algorithms.AES(bytes(key)), modes.ECB())

    def _run(self, op, in_buf, out_buf):
        if len(in_buf) % 16:
            raise ValueError("ECB input must be a multiple of 16 bytes")
        result = op.update(bytes(in_buf)) + op.finalize()
        if out_buf is None:
            return result
        out_buf[:len(result)] = result
        return None

    def encrypt(self, in_buf, out_buf=None):
        return self._run(self._cipher.encryptor(), in_buf, out_buf)

    def decrypt(self, in_buf, out_buf=None):
        return self._run(self._cipher.decryptor(), in_buf, out_buf)
