"""An SSD1306 on the simulator's I2C bus: decodes the command/data stream the firmware's driver sends into
display RAM, and renders it to the terminal (braille, 2x4 pixels per character) and to PNG with Pillow.
"""
WIDTH = 128
HEIGHT = 64
PAGES = HEIGHT // 8

# Commands followed by argument bytes (SSD1306 datasheet, section 9); all others take none.
_ARG_COUNT = {0x20: 1, 0x21: 2, 0x22: 2, 0x81: 1, 0x8D: 1, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1}


class SSD1306Device:
    def __init__(self):
        self.ram = bytearray(WIDTH * PAGES)
        self.on = False
        self.contrast = 0x7F
        self.col_range = (0, WIDTH - 1)
        self.page_range = (0, PAGES - 1)
        self.col = 0
        self.page = 0
        self.frames = 0          # complete screen updates received
        self.bytes_written = 0
        self._cmd = None
        self._args = []

    # -- the I2C side --------------------------------------------------------------------------------------
    def write(self, data):
        if not data:
            return
        self.bytes_written += len(data)
        control = data[0]
        if control & 0x40:               # D/C# = 1: display data
            for b in data[1:]:
                self._data(b)
            if self.col == self.col_range[0] and self.page == self.page_range[0]:
                self.frames += 1
        elif control & 0x80:             # Co = 1: one command byte follows
            self._command_byte(data[1])
        else:                            # Co = 0: a stream of command bytes
            for b in data[1:]:
                self._command_byte(b)

    def read(self, n):
        return bytes(n)

    def _command_byte(self, b):
        if self._cmd is not None:
            self._args.append(b)
            if len(self._args) == _ARG_COUNT[self._cmd]:
                self._execute(self._cmd, self._args)
                self._cmd = None
            return
        if b in _ARG_COUNT:
            self._cmd = b
            self._args = []
            return
        if b == 0xAE:
            self.on = False
        elif b == 0xAF:
            self.on = True

    def _execute(self, cmd, args):
        if cmd == 0x21:
            self.col_range = (args[0] & 0x7F, args[1] & 0x7F)
            self.col = self.col_range[0]
        elif cmd == 0x22:
            self.page_range = (args[0] & 7, args[1] & 7)
            self.page = self.page_range[0]
        elif cmd == 0x81:
            self.contrast = args[0]

    def _data(self, b):
        self.ram[self.page * WIDTH + self.col] = b
        if self.col < self.col_range[1]:
            self.col += 1
            return
        self.col = self.col_range[0]
        self.page = self.page + 1 if self.page < self.page_range[1] else self.page_range[0]

    # -- what a person sees ----------------------------------------------------------------------------------
    def pixel(self, x, y):
        if not self.on:
            return 0
        return (self.ram[(y >> 3) * WIDTH + x] >> (y & 7)) & 1

    def text_lines(self):
        """The screen read back as the UI's 16 x 8 character cells (MicroPython's 8x8 font, whose column
        bytes are the SSD1306's page bytes): one string per line, an inverted line (the cursor's) as
        "> " + its text. Cells that are no character read as "?"."""
        glyphs = _glyph_table()
        out = []
        for page in range(PAGES):
            row = self.ram[page * WIDTH:(page + 1) * WIDTH] if self.on else bytes(WIDTH)
            inverted = row[0:8] == b"\xff" * 8
            chars = []
            for cell in range(WIDTH // 8):
                cells = bytes(b ^ 0xFF for b in row[cell * 8:cell * 8 + 8]) if inverted else row[cell * 8:cell * 8 + 8]
                chars.append(glyphs.get(bytes(cells), "?"))
            text = "".join(chars)
            out.append(("> " + text[1:].rstrip()) if inverted else text.rstrip())
        return out

    def to_text(self):
        """The screen as braille characters, 64 columns x 16 lines, in a frame."""
        dots = ((0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20),
                (0, 3, 0x40), (1, 3, 0x80))
        lines = ["+" + "-" * (WIDTH // 2) + "+"]
        for cy in range(0, HEIGHT, 4):
            row = []
            for cx in range(0, WIDTH, 2):
                code = 0
                for dx, dy, bit in dots:
                    if self.pixel(cx + dx, cy + dy):
                        code |= bit
                row.append(chr(0x2800 + code))
            lines.append("|" + "".join(row) + "|")
        lines.append("+" + "-" * (WIDTH // 2) + "+")
        return "\n".join(lines)

    def save_png(self, path, scale=4):
        from PIL import Image, ImageDraw

        border = 6 * scale
        img = Image.new("RGB", (WIDTH * scale + 2 * border, HEIGHT * scale + 2 * border), (28, 28, 32))
        draw = ImageDraw.Draw(img)
        draw.rectangle([border - 2, border - 2, border + WIDTH * scale + 1, border + HEIGHT * scale + 1],
                       fill=(0, 0, 0))
        lit = (120, 200, 255)
        for y in range(HEIGHT):
            for x in range(WIDTH):
                if self.pixel(x, y):
                    x0 = border + x * scale
                    y0 = border + y * scale
                    draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=lit)
        img.save(path)
        return path


_GLYPHS = {}


def _glyph_table():
    """Column bytes of each printable character -> the character, from the shadow framebuf's font (the real
    port's, one copy)."""
    if not _GLYPHS:
        from sim.shadow.framebuf import _FONT
        for code in range(32, 127):
            _GLYPHS.setdefault(bytes(_FONT[(code - 32) * 8:(code - 31) * 8]), chr(code))
    return _GLYPHS
