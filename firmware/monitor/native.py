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
    """buf[offset + i] = data[i] ^ key[i] for i < n; a word a step when all three are word-aligned
    (a Cortex-M0+ faults on an unaligned word access), the rest a byte a step."""
    o = ptr8(buf)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]  (a viper built-in)
    d = ptr8(data)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    k = ptr8(key)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    i = 0
    start = int(o) + offset
    if (start | int(d) | int(k)) & 3 == 0:
        ow = ptr32(start)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        dw = ptr32(d)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        kw = ptr32(k)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        words = n >> 2
        w = 0
        while w < words:
            ow[w] = dw[w] ^ kw[w]
            w += 1
        i = words << 2
    while i < n:
        o[offset + i] = d[i] ^ k[i]
        i += 1


# CRC-32 (reflected, poly 0xEDB88320) four bits at a time: entry n is the CRC register after shifting
# n through it, as uzlib's crc32 (binascii.crc32) does. 16 words, little-endian, copied into the heap
# (word-aligned: a frozen bytes constant need not be, and a Cortex-M0+ faults on an unaligned word load).
_NIBBLES = bytearray(b"\x00\x00\x00\x00\x64\x10\xb7\x1d\xc8\x20\x6e\x3b\xac\x30\xd9\x26"
                     b"\x90\x41\xdc\x76\xf4\x51\x6b\x6b\x58\x61\xb2\x4d\x3c\x71\x05\x50"
                     b"\x20\x83\xb8\xed\x44\x93\x0f\xf0\xe8\xa3\xd6\xd6\x8c\xb3\x61\xcb"
                     b"\xb0\xc2\x64\x9b\xd4\xd2\xd3\x86\x78\xe2\x0a\xa0\x1c\xf2\xbd\xbd")


@micropython.viper
def filter(buf, count: int, seq: int) -> int:
    """monitor.store's check of count records read into buf, the first numbered seq: keeps, in order at
    the front of buf, those whose check (low 16 bits of CRC-32 over their first 14 bytes, as
    monitor.records.record_ok) is good and whose seq matches their slot; returns how many."""
    b = ptr8(buf)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    table = ptr32(_NIBBLES)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    ones = uint(0xFFFF) | (uint(0xFFFF) << 16)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    kept = 0
    k = 0
    while k < count:
        off = k * 16
        crc = ones
        end = off + 14
        i = off
        while i < end:
            crc ^= uint(b[i])  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
            crc = (crc >> 4) ^ uint(table[crc & 15])  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
            crc = (crc >> 4) ^ uint(table[crc & 15])  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
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


@micropython.viper
def counter_blocks(buf, offset: int, counter: int, blocks: int):
    """monitor.session's CTR input: blocks of 16 bytes at offset, block i = counter u32 LE | 8 zero
    bytes | i u32 BE, for fewer than 256 blocks in a fresh buffer (its zero bytes are there)."""
    b = ptr8(buf)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
    c0 = counter & 0xFF
    c1 = (counter >> 8) & 0xFF
    c2 = (counter >> 16) & 0xFF
    c3 = (counter >> 24) & 0xFF
    i = 0
    o = offset
    while i < blocks:
        b[o] = c0
        b[o + 1] = c1
        b[o + 2] = c2
        b[o + 3] = c3
        b[o + 15] = i
        i += 1
        o += 16
