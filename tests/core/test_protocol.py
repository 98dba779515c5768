# Protocol codecs, the control point parser, COBS framing and the transport-free endpoint.
# Plain asserts: runs on CPython and on the MicroPython unix port.
from monitor import protocol, protocol_host


def _racp_code(buf):
    try:
        protocol.parse_racp(buf)
    except protocol.RacpError as exc:
        return exc.code
    return 0


def test_racp_requests_roundtrip():
    assert protocol.parse_racp(protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_ALL)) == (1, 1, None)
    assert protocol.parse_racp(protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_GE, 70000)) == \
        (1, 3, 70000)
    assert protocol.parse_racp(protocol_host.racp_request(protocol.RACP_REPORT_NUMBER, protocol.OPERATOR_GE, 5)) == \
        (4, 3, 5)
    assert protocol.parse_racp(protocol_host.racp_request(protocol.RACP_DELETE, protocol.OPERATOR_LE, 9)) == (2, 2, 9)
    assert protocol.parse_racp(protocol_host.racp_request(protocol.RACP_ABORT)) == (3, 0, None)


def test_racp_bad_requests_get_sig_codes():
    assert _racp_code(b"") == protocol.RSP_INVALID_OPERATOR
    assert _racp_code(b"\x01") == protocol.RSP_INVALID_OPERATOR
    assert _racp_code(b"\x07\x01") == protocol.RSP_OP_NOT_SUPPORTED
    assert _racp_code(b"\x05\x00") == protocol.RSP_OP_NOT_SUPPORTED    # responses are not requests
    assert _racp_code(b"\x01\x00") == protocol.RSP_INVALID_OPERATOR
    assert _racp_code(b"\x01\x09") == protocol.RSP_INVALID_OPERATOR
    assert _racp_code(b"\x01\x04\x01\x00\x00\x00\x00") == protocol.RSP_OPERATOR_NOT_SUPPORTED  # range
    assert _racp_code(b"\x01\x03\x01\x00") == protocol.RSP_INVALID_OPERAND
    assert _racp_code(b"\x01\x03\x02\x00\x00\x00\x00") == protocol.RSP_OPERAND_NOT_SUPPORTED  # time filter
    assert _racp_code(b"\x01\x01\x00") == protocol.RSP_INVALID_OPERAND
    assert _racp_code(b"\x02\x01") == protocol.RSP_OPERATOR_NOT_SUPPORTED   # delete all: never
    assert _racp_code(b"\x02\x03\x01\x00\x00\x00\x00") == protocol.RSP_OPERATOR_NOT_SUPPORTED
    assert _racp_code(b"\x03\x01") == protocol.RSP_INVALID_OPERATOR


def test_racp_replies():
    assert protocol.racp_response(1, 6) == b"\x06\x00\x01\x06"
    assert protocol_host.parse_racp_reply(protocol.racp_response(1, 6)) == ("response", 1, 6)
    assert protocol_host.parse_racp_reply(protocol.racp_number(123456)) == ("number", 123456, None)


def _protocol_code(fn, *args):
    try:
        fn(*args)
    except protocol.ProtocolError as exc:
        return exc.code
    return 0


def test_entry_codec():
    buf = protocol_host.encode_entry(0, 0, -5, 3, 9800, 1439)
    assert len(buf) == protocol.ENTRY_SIZE
    assert protocol.decode_entry(buf) == (0, 0, -5, 3, 9800, 1439)
    assert _protocol_code(protocol.decode_entry, buf[:-1]) == protocol.ERR_BAD_LENGTH
    assert _protocol_code(protocol.decode_entry, protocol_host.encode_entry(0, 0, 1, 0, 1, 1440)) == protocol.ERR_BAD_VALUE
    assert _protocol_code(protocol.decode_entry, protocol_host.encode_entry(4, 0, 1, 0, 1, 1)) == protocol.ERR_BAD_VALUE
    assert protocol_host.decode_entry_reply(protocol.encode_entry_reply(0, 77)) == (0, 77)


def test_entry_options_codec():
    # the options byte goes only when set: firmware from before it refuses the longer request
    assert len(protocol_host.encode_entry(0, 0, 385, 2, 9800, 600)) == protocol.ENTRY_SIZE
    confirmed = protocol_host.encode_entry(0, 0, 385, 2, 9800, 600, protocol.ENTRY_OPT_DUPLICATE | protocol.ENTRY_OPT_DATE)
    assert len(confirmed) == protocol.ENTRY_SIZE + 1 and confirmed[-1] == 3   # the options byte, last
    assert protocol.decode_entry(confirmed) == (0, 0, 385, 2, 9800, 600)


def test_alerts_codec():
    flags = [(1, 2, -3), ()]
    reminders = [(9,)]
    buf = protocol.encode_alerts(flags, reminders)
    got = protocol_host.decode_alerts(buf)
    assert [tuple(x) for x in got[0]] == [(1, 2, -3), ()]
    assert [tuple(x) for x in got[1]] == [(9,)]
    assert protocol_host.decode_alerts(protocol.encode_alerts((), ())) == ([], [])
    assert _protocol_code(protocol_host.decode_alerts, buf[:-1]) == protocol.ERR_BAD_LENGTH
    assert _protocol_code(protocol_host.decode_alerts, buf + b"\x00") == protocol.ERR_BAD_LENGTH
    assert _protocol_code(protocol_host.decode_alerts, b"") == protocol.ERR_BAD_LENGTH


def test_blob_codec():
    assert protocol.decode_blob_request(protocol_host.encode_blob_get(300)) == (protocol.BLOB_GET, 300, 0, b"")
    assert protocol.decode_blob_request(protocol_host.encode_blob_put(10, 4, b"abc")) == (protocol.BLOB_PUT, 4, 10, b"abc")
    assert _protocol_code(protocol.decode_blob_request, protocol_host.encode_blob_put(5, 4, b"abc")) == \
        protocol.ERR_BAD_VALUE
    assert _protocol_code(protocol.decode_blob_request, protocol_host.encode_blob_put(5000, 0, b"")) == \
        protocol.ERR_TOO_LARGE
    assert _protocol_code(protocol.decode_blob_request, b"\x09\x00\x00") == protocol.ERR_BAD_OPCODE
    assert protocol_host.decode_blob_reply(protocol.encode_blob_reply(0, 9, 3, b"xy")) == (0, 9, 3, b"xy")


def test_cts_codec():
    buf = protocol.encode_cts(9800, 12 * 60 + 30, 5)
    assert len(buf) == protocol.CTS_SIZE
    assert buf[:7] == b"\xea\x07\x0a\x1f\x0c\x1e\x05"    # 2026-10-31 12:30:05
    assert buf[7] == 6                                    # a Saturday
    assert protocol.decode_cts(buf) == (9800, 750, 5)
    assert protocol.encode_cts(0, 0, 0)[:4] == b"\xd0\x07\x01\x01" and protocol.encode_cts(0, 0, 0)[7] == 6
    bad_feb = b"\xe9\x07\x02\x1d\x00\x00\x00\x00\x00\x00"   # 2025-02-29
    assert _protocol_code(protocol.decode_cts, bad_feb) == protocol.ERR_BAD_VALUE
    assert _protocol_code(protocol.decode_cts, buf[:9]) == protocol.ERR_BAD_LENGTH
    late = bytearray(buf)
    late[4] = 24
    assert _protocol_code(protocol.decode_cts, bytes(late)) == protocol.ERR_BAD_VALUE


def test_records_fit_mtu_247_at_90_percent():
    overhead = 16   # monitor.session.FRAME_OVERHEAD (checked in test_endpoint)
    n = protocol.records_per_frame(247, overhead, 16)
    assert n == 14
    payload = n * 16 + overhead
    assert payload <= 247 - protocol.ATT_HEADER
    assert n * 16 * 100 // payload >= 90


def _codes(module, prefixes):
    return [(name, getattr(module, name)) for name in dir(module)
            if any(name.startswith(p) for p in prefixes)]


def test_every_code_means_one_thing():
    from monitor import codes, protocol_text, records
    if not getattr(protocol, "__file__", ".py").endswith(".py"):
        return   # bytecode drops or inlines const() names: the source's names are checked (CPython, the port)
    seen = {}
    for module in (codes, protocol):
        for name, value in _codes(module, ("ERR_", "STATUS_OK")):
            assert seen.get(value, name) == name, "%s and %s share 0x%02X" % (seen.get(value), name, value)
            seen[value] = name
            assert value == 0 or value >= 0xC0, name    # above the entry validation codes
    assert len(protocol_text.ERROR_TEXT) == len(seen) - 1   # every protocol refusal has its text, once
    entry = {}
    for name, value in _codes(records, ("ERR_",)):
        if name != "ERR_OK":
            assert entry.get(value, name) == name, "%s and %s share %d" % (entry.get(value), name, value)
            entry[value] = name
            assert 0 < value < 0xC0, name
    assert "new time" in protocol_text.error_text(protocol.ERR_CLOCK_BACK)
    assert "publisher" in protocol_text.error_text(protocol.ERR_UPDATE_SIGNATURE)
