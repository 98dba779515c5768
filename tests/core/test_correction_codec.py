# The correction request's codec (protocol layout, monitor.corrections.decode_correction on the device).
from monitor import corrections, protocol, protocol_host


def _protocol_code(fn, buf):
    try:
        fn(buf)
    except protocol.ProtocolError as exc:
        return exc.code
    return 0


def test_void_and_amend_requests_round_trip_and_bad_shapes_are_refused():
    void = protocol_host.encode_void(41, 1)
    assert corrections.decode_correction(void) == (protocol.CORRECT_VOID, 41, 1, None)
    amend = protocol_host.encode_amend(41, 2, 0, 0, 300, 2, 9800, 600)
    assert corrections.decode_correction(amend) == (protocol.CORRECT_AMEND, 41, 2, (0, 0, 300, 2, 9800, 600))
    assert _protocol_code(corrections.decode_correction, amend[:-1]) == protocol.ERR_BAD_LENGTH
    assert _protocol_code(corrections.decode_correction, void + b"x") == protocol.ERR_BAD_LENGTH
    assert _protocol_code(corrections.decode_correction, b"\x12" + void[1:]) == protocol.ERR_BAD_OPCODE
