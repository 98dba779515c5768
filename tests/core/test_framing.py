# COBS framing for USB serial (monitor.framing).  Plain asserts: CPython and the MicroPython unix port.
from monitor import framing


def test_cobs_roundtrip_and_errors():
    for data in (b"", b"\x00", b"\x00\x00", b"abc", bytes(range(256)), b"\x01" * 254, b"\x01" * 255,
                 b"\x00" + b"\x02" * 300 + b"\x00"):
        enc = framing.cobs_encode(data)
        assert 0 not in enc
        assert framing.cobs_decode(enc) == data
    for bad in (b"\x00", b"\x05ab", b"\x03a\x00"):
        try:
            framing.cobs_decode(bad)
            raise AssertionError("bad COBS accepted")
        except framing.FramingError:
            pass


def test_frame_reader_splits_and_skips_garbage():
    reader = framing.FrameReader(max_packet=64)
    stream = framing.packet(3, b"\x00hi\x00") + b"\x05ab\x00" + b"\x01" * 100 + b"\x00" + framing.packet(6, b"x")
    got = []
    for i in range(0, len(stream), 7):   # arbitrary chunking
        got += reader.feed(stream[i:i + 7])
    assert got == [(3, b"\x00hi\x00"), (6, b"x")]
    assert reader.bad_packets == 2
