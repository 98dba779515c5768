# The host's half of the sync protocol codecs: the requests a host sends and the replies it reads, the
# SIG UUID strings bleak reports, role names. Reached as monitor.protocol.<name> (module __getattr__), so
# hosts and tests import them from monitor.protocol as before while the device never loads this module.
# Layouts are documented next to the device's half in monitor.protocol.
import struct

from monitor.protocol import (
    AUTH_UUID, ALERTS_UUID, BATTERY_LEVEL, BLOB_GET, BLOB_HEADER, BLOB_PUT, CH_ALERTS, CH_AUTH,
    CH_CONTROL, CH_ENTRY, CH_PROFILE, CH_RECORDS, CH_TIME, CONTROL_UUID, CTS_CURRENT_TIME, ENTRY_FORMAT,
    ENTRY_REPLY_FORMAT, ENTRY_REPLY_SIZE, ENTRY_UUID, ERR_BAD_LENGTH, ERR_BAD_OPCODE, FILTER_RECORD_NUMBER, OPERATOR_NULL,
    PROFILE_UUID, RACP_NUMBER_RESPONSE, RACP_RESPONSE, RECORDS_UUID, REQUESTS_UUID, ROLE_CLINICIAN, ROLE_PATIENT,
    ProtocolError,
)


def sig_uuid(short):
    """The full 128-bit string of a SIG 16-bit UUID (what bleak reports)."""
    return "0000%04x-0000-1000-8000-00805f9b34fb" % short


CTS_CURRENT_TIME_UUID = sig_uuid(CTS_CURRENT_TIME)
BATTERY_LEVEL_UUID = sig_uuid(BATTERY_LEVEL)

CHANNEL_UUIDS = {
    CH_CONTROL: CONTROL_UUID,
    CH_RECORDS: RECORDS_UUID,
    CH_ENTRY: ENTRY_UUID,
    CH_ALERTS: ALERTS_UUID,
    CH_PROFILE: PROFILE_UUID,
    CH_AUTH: AUTH_UUID,
    CH_TIME: REQUESTS_UUID,          # protocol.SHARED_CHANNELS; the CTS characteristic is read-only
}

ROLE_NAMES = {ROLE_CLINICIAN: "clinician", ROLE_PATIENT: "patient"}


def racp_request(op, operator=OPERATOR_NULL, operand=None):
    if operand is None:
        return bytes((op, operator))
    return struct.pack("<BBBI", op, operator, FILTER_RECORD_NUMBER, operand)


def parse_racp_reply(buf):
    """Host side: ("response", request_op, code) or ("number", count, None)."""
    if len(buf) == 4 and buf[0] == RACP_RESPONSE and buf[1] == OPERATOR_NULL:
        return "response", buf[2], buf[3]
    if len(buf) == 6 and buf[0] == RACP_NUMBER_RESPONSE and buf[1] == OPERATOR_NULL:
        return "number", struct.unpack_from("<I", buf, 2)[0], None
    raise ProtocolError(ERR_BAD_OPCODE)


def encode_entry(kind, code, value, flags, day, minute):
    return struct.pack(ENTRY_FORMAT, kind, code, value, flags, day, minute)


def decode_entry_reply(buf):
    if len(buf) != ENTRY_REPLY_SIZE:
        raise ProtocolError(ERR_BAD_LENGTH)
    return struct.unpack(ENTRY_REPLY_FORMAT, buf)


def encode_blob_get(offset):
    return struct.pack("<BH", BLOB_GET, offset)


def encode_blob_put(total, offset, chunk):
    return struct.pack("<BHH", BLOB_PUT, total, offset) + bytes(chunk)


def decode_blob_reply(buf):
    if len(buf) < BLOB_HEADER:
        raise ProtocolError(ERR_BAD_LENGTH)
    status, total, offset = struct.unpack_from("<BHH", buf, 0)
    return status, total, offset, bytes(buf[BLOB_HEADER:])


def decode_alerts(buf):
    """(flags, reminders): two lists of integer tuples; ProtocolError on a bad payload."""
    groups = []
    pos = 0
    n = len(buf)
    for _ in range(2):
        if pos >= n:
            raise ProtocolError(ERR_BAD_LENGTH)
        count = buf[pos]
        pos += 1
        group = []
        for _ in range(count):
            if pos >= n:
                raise ProtocolError(ERR_BAD_LENGTH)
            fields = buf[pos]
            pos += 1
            if pos + 4 * fields > n:
                raise ProtocolError(ERR_BAD_LENGTH)
            group.append(struct.unpack_from("<%di" % fields, buf, pos))
            pos += 4 * fields
        groups.append(group)
    if pos != n:
        raise ProtocolError(ERR_BAD_LENGTH)
    return groups[0], groups[1]
