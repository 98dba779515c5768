# monitor.session's keystream XOR in native code (viper): in bytecode this byte loop was most of the
# time a pull spends sealing. The boards load it frozen or as .mpy for their architecture; where it
# cannot load (CPython, a port of another architecture) monitor.session uses its Python loop.
# Named __xor__, a name every port has interned already: a new name can cost a step of the name table.
import sys

if sys.implementation.name != "micropython":
    raise ImportError("native code needs MicroPython")

import micropython  # noqa: E402


@micropython.viper
def __xor__(buf, offset: int, data, key, n: int):
    """buf[offset + i] = data[i] ^ key[i] for i < n."""
    o = ptr8(buf)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]  (a viper built-in)
    d = ptr8(data)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    k = ptr8(key)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    i = 0
    while i < n:
        o[offset + i] = d[i] ^ k[i]
        i += 1


@micropython.viper
def filter(buf, count: int, seq: int) -> int:
    """monitor.store's check of count records read into buf, the first numbered seq: keeps, in order at
    the front of buf, those whose check (low 16 bits of CRC-32 over their first 14 bytes, as
    monitor.records.record_ok) is good and whose seq matches their slot; returns how many."""
    b = ptr8(buf)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    ones = uint(0xFFFF) | (uint(0xFFFF) << 16)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    poly = uint(0xEDB8) << 16 | uint(0x8320)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]  (CRC-32, reflected)
    kept = 0
    k = 0
    while k < count:
        off = k * 16
        crc = ones
        i = 0
        while i < 14:
            crc ^= uint(b[off + i])  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
            j = 0
            while j < 8:
                if crc & 1:
                    crc = (crc >> 1) ^ poly
                else:
                    crc = crc >> 1
                j += 1
            i += 1
        crc = (crc ^ ones) & 0xFFFF
        check = uint(b[off + 14] | (b[off + 15] << 8))  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        number = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)
        if crc == check and number == seq + k:
            if kept != k:
                dst = kept * 16
                i = 0
                while i < 16:
                    b[dst + i] = b[off + i]
                    i += 1
            kept += 1
        k += 1
    return kept
