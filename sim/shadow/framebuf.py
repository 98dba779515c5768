"""CPython shadow of MicroPython's framebuf, MONO_VLSB only (what the SSD1306 uses).

The 8x8 font is MicroPython's own, dumped from the real unix port's framebuf.text() for chars 32..127,
so the simulator's screen shows exactly the pixels a board draws.
"""
MONO_VLSB = 0
MVLSB = MONO_VLSB

_FONT = bytes.fromhex(
    "00000000000000000000004f4f0000000007070000070700147f7f14147f7f1400242e6b6b3a1200006333180c66630000327f4d4d777250000000040603010000001c3e63410000000041633e1c0000082a3e1c1c3e2a080008083e3e080800000080e0600000000008080808080800000000606000000000406030180c0602003e7f49457f3e000040447f7f40400000627351494f460000226349497f360000181814167f7f1000276745457d3900003e7f49497b3200000303797d07030000367f49497f360000266f49497f3e000000002424000000000080e46400000000081c3663414100001414141414140000414163361c080000020351590f0600003e7f414d4f2e00007c7e0b0b7e7c00007f7f49497f3600003e7f4141632200007f7f41633e1c00007f7f4949414100007f7f0909010100003e7f41497b3a00007f7f08087f7f000000417f7f410000002060417f3f0100007f7f1c36634100007f7f4040404000007f7f060c067f7f007f7f0e1c7f7f00003e7f41417f3e00007f7f09090f0600001e3f21617f5e00007f7f19396f460000266f49497b32000001017f7f010100003f7f40407f3f00001f3f60603f1f00007f7f3018307f7f0063771c1c77630000070f78780f0700006171594d47430000007f7f414100000002060c18306040000041417f7f000000080c06060c0800c0c0c0c0c0c0c0c0000001030604000000207454547c7800007f7f44447c380000387c44446c280000387c44447f7f0000387c54545c580000087e7f090302000098bca4a4fc7c00007f7f04047c78000000007d7d0000000040c08080fd7d00007f7f30386c44000000417f7f400000007c7c1830187c7c007c7c04047c780000387c44447c380000fcfc24243c180000183c2424fcfc00007c7c04040c080000485c545474200004043f7f44642000003c7c40407c3c00001c3c60603c1c00001c7c3018307c1c00446c38386c4400009cbca0a0fc7c00004464745c4c44000008083e77414100000000ffff000000004141773e0808000002030103020301aa55aa55aa55aa55"
)


class FrameBuffer:
    def __init__(self, buffer, width, height, format=MONO_VLSB, stride=None):
        if format != MONO_VLSB:
            raise ValueError("the simulator's framebuf supports MONO_VLSB only")
        if len(buffer) < (height + 7) // 8 * width:
            raise ValueError("buffer too small")
        self._buf = buffer
        self._w = width
        self._h = height

    def pixel(self, x, y, c=None):
        if not (0 <= x < self._w and 0 <= y < self._h):
            return None if c is None else None
        index = (y >> 3) * self._w + x
        bit = 1 << (y & 7)
        if c is None:
            return 1 if self._buf[index] & bit else 0
        if c:
            self._buf[index] |= bit
        else:
            self._buf[index] &= ~bit & 0xFF

    def fill(self, c):
        value = 0xFF if c else 0
        for i in range((self._h + 7) // 8 * self._w):
            self._buf[i] = value

    def fill_rect(self, x, y, w, h, c):
        for yy in range(max(0, y), min(self._h, y + h)):
            for xx in range(max(0, x), min(self._w, x + w)):
                self.pixel(xx, yy, c)

    def hline(self, x, y, w, c):
        self.fill_rect(x, y, w, 1, c)

    def vline(self, x, y, h, c):
        self.fill_rect(x, y, 1, h, c)

    def rect(self, x, y, w, h, c, f=False):
        if f:
            self.fill_rect(x, y, w, h, c)
            return
        self.hline(x, y, w, c)
        self.hline(x, y + h - 1, w, c)
        self.vline(x, y, h, c)
        self.vline(x + w - 1, y, h, c)

    def line(self, x0, y0, x1, y1, c):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.pixel(x0, y0, c)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, s, x, y, c=1):
        for ch in s:
            code = ord(ch)
            if code < 32 or code > 127:
                code = 127
            glyph = _FONT[(code - 32) * 8:(code - 31) * 8]
            for col in range(8):
                bits = glyph[col]
                for row in range(8):
                    if bits & (1 << row):
                        self.pixel(x + col, y + row, c)
            x += 8
