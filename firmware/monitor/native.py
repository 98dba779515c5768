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
