# The host's half of the sync protocol codecs: the requests a host sends and the replies it reads, the
# SIG UUID strings bleak reports, role names. It imports the device's half, monitor.protocol, never the
# reverse, so the device never loads this module. Layouts are documented next to the device's half.
import struct

from monitor.protocol import (
    AUTH_UUID, ALERTS_UUID, BATTERY_LEVEL, BLOB_GET, BLOB_HEADER, BLOB_PUT, CH_ALERTS, CH_AUTH,
    CH_CONTROL, CH_ENTRY, CH_PROFILE, CH_RECORDS, CH_TIME, CONTROL_UUID, CORRECT_AMEND, CORRECT_VOID,
    CTS_CURRENT_TIME, ENTRY_FORMAT,
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


def encode_entry(kind, code, value, flags, day, minute, options=0):
    """An entry request; options (protocol.ENTRY_OPT_*) only when given: firmware before them refuses the byte."""
    entry = struct.pack(ENTRY_FORMAT, kind, code, value, flags, day, minute)
    return entry + bytes((options,)) if options else entry


def encode_void(target, reason):
    return struct.pack("<BIB", CORRECT_VOID, target, reason)


def encode_amend(target, reason, kind, code, value, flags, day, minute):
    return struct.pack("<BIB", CORRECT_AMEND, target, reason) + encode_entry(kind, code, value, flags, day, minute)


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


# ---- updates (layout next to UPDATE_* in monitor.protocol) ----------------------------------------------
def encode_update_begin(total, header_size, bundle_id, allow_downgrade=False):
    from monitor.bundle import UPDATE_BEGIN_FORMAT
    from monitor.protocol import UPDATE_BEGIN, UPDATE_FLAG_DOWNGRADE
    return struct.pack(UPDATE_BEGIN_FORMAT, UPDATE_BEGIN, total, header_size, bytes(bundle_id),
                       UPDATE_FLAG_DOWNGRADE if allow_downgrade else 0)


def encode_update_chunk(offset, data):
    from monitor.protocol import UPDATE_CHUNK
    return struct.pack("<BI", UPDATE_CHUNK, offset) + bytes(data)


class UpdateStatus:
    """What UPDATE_STATUS says: the running version and the last update's outcome (update_boot codes)."""

    def __init__(self, stored, total, outcome, sequence, version, note):
        self.stored = stored
        self.total = total
        self.outcome = outcome
        self.sequence = sequence
        self.version = version
        self.note = note

    def __repr__(self):
        return "UpdateStatus(version=%r, sequence=%d, outcome=%d, note=%r)" % (
            self.version, self.sequence, self.outcome, self.note)


def decode_update_reply(buf):
    """(op, status, stored, total, UpdateStatus or None); ProtocolError on a bad shape."""
    from monitor.bundle import UPDATE_REPLY_FORMAT
    from monitor.protocol import UPDATE_REPLY_SIZE, UPDATE_STATUS
    if len(buf) < UPDATE_REPLY_SIZE:
        raise ProtocolError(ERR_BAD_LENGTH)
    status, op, stored, total = struct.unpack_from(UPDATE_REPLY_FORMAT, buf, 0)
    extra = bytes(buf[UPDATE_REPLY_SIZE:])
    if op != UPDATE_STATUS or status != 0:
        return op, status, stored, total, None
    try:
        outcome, sequence = struct.unpack_from("<BI", extra, 0)
        n = extra[5]
        version = extra[6:6 + n].decode()
        m = extra[6 + n]
        note = extra[7 + n:7 + n + m].decode()
    except (IndexError, struct.error, UnicodeError):
        raise ProtocolError(ERR_BAD_LENGTH) from None
    return op, status, stored, total, UpdateStatus(stored, total, outcome, sequence, version, note)


# update_boot's outcome codes (the device's copy; tests/update/test_update.py holds the two equal)
UPDATE_NONE, UPDATE_STAGED, UPDATE_ON_TRIAL, UPDATE_CONFIRMED = 0, 1, 2, 3
UPDATE_SELFTEST_FAILED, UPDATE_NOT_CONFIRMED, UPDATE_CANCELLED = 4, 5, 6
UPDATE_OUTCOME_TEXT = {
    UPDATE_NONE: "no update yet", UPDATE_STAGED: "update staged, waiting for the device to restart",
    UPDATE_ON_TRIAL: "new version running on trial (not confirmed yet)", UPDATE_CONFIRMED: "new version confirmed",
    UPDATE_SELFTEST_FAILED: "rolled back: the new version failed its self-test",
    UPDATE_NOT_CONFIRMED: "rolled back: the new version was reset before it confirmed itself",
    UPDATE_CANCELLED: "staged update withdrawn",
}
