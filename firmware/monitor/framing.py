# The same protocol frames over USB serial: COBS byte stuffing, each packet
# terminated by a 0x00 byte.  A packet is  channel u8 | frame  where the frame is
# exactly what the BLE characteristic would carry (monitor.protocol channels).
#
#   cobs_encode(data) -> bytes (no zero byte inside)   cobs_decode(data) -> bytes or FramingError
#   FrameReader(max_packet).feed(chunk) -> list of (channel, frame); bad packets are counted and skipped
#   packet(channel, frame) -> bytes ready to write to the port
#   serve_serial(endpoint, read, write)  one pass: feed bytes from read(), send what the endpoint queued
from micropython import const

MAX_PACKET = const(600)    # a frame of a 512-byte MTU plus channel and COBS overhead


class FramingError(Exception):
    pass


def cobs_encode(data):
    out = bytearray()
    code_pos = 0
    out.append(0)
    code = 1
    for byte in data:
        if byte == 0:
            out[code_pos] = code
            code_pos = len(out)
            out.append(0)
            code = 1
            continue
        out.append(byte)
        code += 1
        if code == 0xFF:
            out[code_pos] = code
            code_pos = len(out)
            out.append(0)
            code = 1
    out[code_pos] = code
    return bytes(out)


def cobs_decode(data):
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FramingError("zero byte inside a COBS packet")
        end = i + code
        if end > n:
            raise FramingError("COBS packet truncated")
        for j in range(i + 1, end):
            if data[j] == 0:
                raise FramingError("zero byte inside a COBS packet")
        out += data[i + 1:end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def packet(channel, frame):
    return cobs_encode(bytes((channel,)) + bytes(frame)) + b"\x00"


class FrameReader:
    """Splits a byte stream at zero bytes and decodes each packet."""

    def __init__(self, max_packet=MAX_PACKET):
        self._buf = bytearray()
        self._max = max_packet
        self._overflow = False
        self.bad_packets = 0

    def feed(self, chunk):
        packets = []
        for byte in chunk:
            if byte != 0:
                if len(self._buf) < self._max:
                    self._buf.append(byte)
                else:
                    self._overflow = True   # drop the rest of an oversized packet
                continue
            raw = bytes(self._buf)
            self._buf = bytearray()
            if self._overflow or not raw:
                self.bad_packets += 1 if self._overflow else 0
                self._overflow = False
                continue
            try:
                decoded = cobs_decode(raw)
            except FramingError:
                self.bad_packets += 1
                continue
            if len(decoded) < 1:
                self.bad_packets += 1
                continue
            packets.append((decoded[0], decoded[1:]))
        return packets


def serve_serial(endpoint, reader, read, write):
    """One pass of the USB side: read() returns available bytes (maybe empty); write(bytes) sends."""
    chunk = read()
    if chunk:
        for channel, frame in reader.feed(chunk):
            endpoint.receive(channel, frame)
    sent = 0
    while True:
        item = endpoint.next_frame()
        if item is None:
            return sent
        write(packet(item[0], item[1]))
        sent += 1
