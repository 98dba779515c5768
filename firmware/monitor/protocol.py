# The sync protocol's single source: UUIDs, channels, RACP-style control point
# (SIG 0x2A52 byte layout), entry / blob / alerts / auth / CTS codecs and error codes.
# Firmware (device/ble_service.py, monitor/endpoint.py) and host (host_tools/device_link.py)
# both import this module; nothing here is written twice.
#
# Every custom characteristic carries session frames (monitor/session.py) once a
# session is open; the plaintext inside a frame is what the codecs below describe.
# Only the auth characteristic carries plain handshake messages.
#
# Codecs raise ProtocolError(code) on bad input; the code goes back to the peer.
import struct

from monitor import dates
from monitor.codes import (  # noqa: F401 - re-exported: protocol.* is the public name
    ROLE_CLINICIAN, ROLE_PATIENT, STATUS_OK, ERR_BAD_LENGTH, ERR_BAD_OPCODE, ERR_BAD_VALUE,
    ERR_NO_SESSION, ERR_NOT_PROVISIONED, ERR_BAD_PROOF, ERR_BAD_TAG, ERR_REPLAY, ERR_ROLE, ERR_BUSY,
    ERR_TOO_LARGE, ERR_CLOCK_UNSET, ERR_STORE_FULL, ERR_INTERNAL, ERR_MTU, ERR_CLOCK_BACK, ERR_KEY_HELD,
    ERR_DUPLICATE, ERR_DATE_UNUSUAL, ERR_NO_ENTRY, ERR_CORRECTED, ERR_CORRECT_OLD,
    AUTH_HELLO, AUTH_CHALLENGE, AUTH_PROOF, AUTH_OPEN, AUTH_REFUSED, NONCE_SIZE, PROOF_SIZE,
)

from micropython import const


class ProtocolError(Exception):
    """Bad input from the peer; .code is what the device answers with."""

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


# ---- UUIDs ---------------------------------------------------------------
# Custom 128-bit service; characteristics share the base and differ in the
# first group.  Strings so both bluetooth.UUID() and bleak take them as is.
_BASE = "-4d32-4e9a-8b1c-e2a0a1f06d10"
SERVICE_UUID = "7e2a0000" + _BASE
CONTROL_UUID = "7e2a0001" + _BASE   # RACP layout: write + indicate
RECORDS_UUID = "7e2a0002" + _BASE   # notify: many records per notification
# write + notify: requests and replies of three channels, one characteristic (BTstack's GATT table, 512
# bytes on a Pico W, has no room for one each): the entry (push lab/dose/symptom, answered with a status),
# the alerts (chunked read of flags and reminders) and the profile (chunked get/set of the rule profile).
# A frame's tag covers its channel, so the receiver tells them apart by the tag (SHARED_CHANNELS).
REQUESTS_UUID = "7e2a0003" + _BASE
ENTRY_UUID = ALERTS_UUID = PROFILE_UUID = REQUESTS_UUID
AUTH_UUID = "7e2a0006" + _BASE      # write + notify: plain handshake messages and refusals

# Bluetooth SIG 16-bit assigned numbers.
CTS_SERVICE = const(0x1805)
CTS_CURRENT_TIME = const(0x2A2B)
DIS_SERVICE = const(0x180A)
DIS_MODEL_NUMBER = const(0x2A24)
DIS_FIRMWARE_REVISION = const(0x2A26)
DIS_MANUFACTURER = const(0x2A29)
BATTERY_SERVICE = const(0x180F)
BATTERY_LEVEL = const(0x2A19)


# ---- channels --------------------------------------------------------------
# A channel names a characteristic independent of transport; over USB serial
# the channel byte leads each frame.  Frame MACs cover the channel, so a frame
# cannot be moved from one characteristic to another.
CH_CONTROL = const(1)
CH_RECORDS = const(2)
CH_ENTRY = const(3)
CH_ALERTS = const(4)
CH_PROFILE = const(5)
CH_AUTH = const(6)
CH_TIME = const(7)
CH_PROVISION = const(0x7F)   # USB serial only: physical access sets the device key
# request: device key (32) [| PROVISION_ERASE: replacing a key in use erases the log]; reply on CH_PROVISION:
# STATUS_OK, or ERR_KEY_HELD | records held u32 (another key is in use and the flag was not given)
PROVISION_ERASE = const(0xE5)
# On REQUESTS_UUID; a frame's tag names its channel. The time too: the CTS characteristic is read-only, so
# no write without a session can change what it reads.
SHARED_CHANNELS = (CH_ENTRY, CH_ALERTS, CH_PROFILE, CH_TIME)
# ---- roles -----------------------------------------------------------------
# Operations a role may perform (checked by the device, per request).
# "time" reads the clock; "set_clock" sets it (the clinician's: a patient's key could make every reminder due).
OPS_CLINICIAN = ("count", "pull", "abort", "acknowledge", "profile_get", "profile_set",
                 "entry", "alerts", "time", "set_clock", "update")
OPS_PATIENT = ("entry", "alerts", "profile_get", "time")


def role_may(role, op):
    if role == ROLE_CLINICIAN:
        return op in OPS_CLINICIAN
    if role == ROLE_PATIENT:
        return op in OPS_PATIENT
    return False


# ---- error codes: monitor.codes (re-exported above) ---------------------------
# Plain-text names of these codes: monitor/protocol_text.py (host side; the device needs none).


# ---- sizes -----------------------------------------------------------------
ATT_HEADER = const(3)            # opcode + handle in front of every notification value
MIN_MTU = const(64)              # smallest MTU the protocol runs on (auth challenge + framing)
MAX_MTU = const(247)             # the device asks for this; frames never exceed MAX_MTU - 3 either way
DEFAULT_MTU = const(23)
MAX_BLOB = const(1024)           # largest profile or alerts payload the device buffers

# ---- timing ------------------------------------------------------------------
SESSION_WAIT_MS = const(8000)    # a central that opens no session within this is dropped (BLE)


# ---- control point: SIG RACP (0x2A52) layout ---------------------------------
# request:  op u8 | operator u8 | [filter type u8 = 0x01 record number | operand u32 LE]
# response: 0x06 | 0x00 | request op u8 | response code u8
# number:   0x05 | 0x00 | count u32 LE   (uint32 where SIG has uint16: logs exceed 65535)
RACP_REPORT = const(0x01)
RACP_DELETE = const(0x02)        # operator <= N: the host has stored up to N (sync mark)
RACP_ABORT = const(0x03)
RACP_REPORT_NUMBER = const(0x04)
RACP_NUMBER_RESPONSE = const(0x05)
RACP_RESPONSE = const(0x06)

OPERATOR_NULL = const(0x00)
OPERATOR_ALL = const(0x01)
OPERATOR_LE = const(0x02)
OPERATOR_GE = const(0x03)
FILTER_RECORD_NUMBER = const(0x01)

RSP_SUCCESS = const(0x01)
RSP_OP_NOT_SUPPORTED = const(0x02)
RSP_INVALID_OPERATOR = const(0x03)
RSP_OPERATOR_NOT_SUPPORTED = const(0x04)
RSP_INVALID_OPERAND = const(0x05)
RSP_NO_RECORDS = const(0x06)
RSP_ABORT_FAILED = const(0x07)
RSP_NOT_COMPLETED = const(0x08)
RSP_OPERAND_NOT_SUPPORTED = const(0x09)
RSP_BUSY = const(0x0A)


class RacpError(Exception):
    """A control point request the device answers with a RACP response code."""

    def __init__(self, op, code):
        super().__init__(op, code)
        self.op = op
        self.code = code


def parse_racp(buf):
    """Returns (op, operator, operand or None); raises RacpError(op, response code)."""
    n = len(buf)
    if n < 2:
        raise RacpError(buf[0] if n else 0, RSP_INVALID_OPERATOR)
    op = buf[0]
    operator = buf[1]
    if op not in (RACP_REPORT, RACP_DELETE, RACP_ABORT, RACP_REPORT_NUMBER):
        raise RacpError(op, RSP_OP_NOT_SUPPORTED)
    if op == RACP_ABORT:
        if operator != OPERATOR_NULL or n != 2:
            raise RacpError(op, RSP_INVALID_OPERATOR)
        return op, operator, None
    if operator == OPERATOR_ALL:
        if n != 2:
            raise RacpError(op, RSP_INVALID_OPERAND)
        if op == RACP_DELETE:   # nothing unsynced is ever deleted
            raise RacpError(op, RSP_OPERATOR_NOT_SUPPORTED)
        return op, operator, None
    if operator in (OPERATOR_GE, OPERATOR_LE):
        if (operator == OPERATOR_GE) == (op == RACP_DELETE):
            raise RacpError(op, RSP_OPERATOR_NOT_SUPPORTED)
        if n != 7:
            raise RacpError(op, RSP_INVALID_OPERAND)
        if buf[2] != FILTER_RECORD_NUMBER:
            raise RacpError(op, RSP_OPERAND_NOT_SUPPORTED)
        return op, operator, struct.unpack_from("<I", buf, 3)[0]
    if operator == OPERATOR_NULL or operator > 0x06:
        raise RacpError(op, RSP_INVALID_OPERATOR)
    raise RacpError(op, RSP_OPERATOR_NOT_SUPPORTED)


def racp_response(request_op, code):
    return bytes((RACP_RESPONSE, OPERATOR_NULL, request_op, code))


def racp_number(count):
    return struct.pack("<BBI", RACP_NUMBER_RESPONSE, OPERATOR_NULL, count)


# ---- entry characteristic ----------------------------------------------------
# request:  kind u8 | code u8 | value i32 | flags u8 | day u16 | minute u16 [| options u8]
#           (value already in the stored integer unit: the host converts with monitor.records)
#           options: ENTRY_OPT_* the person at the host confirmed (absent: none)
# response: status u8 (0 accepted, else a monitor.records ERR_* or protocol ERR_*) | seq u32
#           (ERR_DUPLICATE: seq is the record already stored)
# correction: CORRECT_VOID u8 | target u32 | reason u8, or CORRECT_AMEND u8 | target u32 | reason u8 | the
#           corrected entry (ENTRY_FORMAT); the same response, seq the correction's EVENT_VOID / EVENT_AMEND.
#           Decoded by monitor.corrections.decode_correction, loaded only for one: the resident core (this
#           module's code and names stay in the heap) does not grow
ENTRY_FORMAT = "<BBiBHH"
ENTRY_SIZE = const(11)
ENTRY_REPLY_FORMAT = "<BI"
ENTRY_REPLY_SIZE = const(5)
ENTRY_OPT_DUPLICATE = const(0x01)   # store an exact duplicate of a stored entry
ENTRY_OPT_DATE = const(0x02)        # store a date before the therapy's start or over a year before the newest
CORRECT_VOID = const(0x10)          # first byte above any entry kind
CORRECT_AMEND = const(0x11)
CORRECT_HEADER = const(6)


def decode_entry(buf):
    """(kind, code, value, flags, day, minute); raises ProtocolError on bad shape. The options byte, if
    any, is the last."""
    if len(buf) != ENTRY_SIZE and len(buf) != ENTRY_SIZE + 1:
        raise ProtocolError(ERR_BAD_LENGTH)
    kind, code, value, flags, day, minute = struct.unpack_from(ENTRY_FORMAT, buf, 0)
    if kind > 3 or code > 0x3F or minute > 1439:
        raise ProtocolError(ERR_BAD_VALUE)
    return kind, code, value, flags, day, minute


def encode_entry_reply(status, seq):
    return struct.pack(ENTRY_REPLY_FORMAT, status, seq)


# ---- blobs: chunked get/set of the profile, chunked get of the alerts --------
# get request:  BLOB_GET u8 | offset u16
# put request:  BLOB_PUT u8 | total u16 | offset u16 | bytes   (chunks in order from 0)
# reply:        status u8 | total u16 | offset u16 | bytes (get: the chunk; put: empty)
BLOB_GET = const(1)
BLOB_PUT = const(2)
BLOB_HEADER = const(5)


def decode_blob_request(buf):
    """(BLOB_GET, offset, 0, b"") or (BLOB_PUT, offset, total, chunk)."""
    if len(buf) < 3:
        raise ProtocolError(ERR_BAD_LENGTH)
    if buf[0] == BLOB_GET:
        if len(buf) != 3:
            raise ProtocolError(ERR_BAD_LENGTH)
        return BLOB_GET, struct.unpack_from("<H", buf, 1)[0], 0, b""
    if buf[0] == BLOB_PUT:
        if len(buf) < BLOB_HEADER:
            raise ProtocolError(ERR_BAD_LENGTH)
        total, offset = struct.unpack_from("<HH", buf, 1)
        chunk = bytes(buf[BLOB_HEADER:])
        if total > MAX_BLOB:
            raise ProtocolError(ERR_TOO_LARGE)
        if offset + len(chunk) > total:
            raise ProtocolError(ERR_BAD_VALUE)
        return BLOB_PUT, offset, total, chunk
    raise ProtocolError(ERR_BAD_OPCODE)


def encode_blob_reply(status, total, offset, chunk=b""):
    return struct.pack("<BHH", status, total, offset) + bytes(chunk)


# ---- alerts payload (what app.alerts_payload() returns) ----------------------
# u8 number of flags, each: u8 field count, fields i32 LE; then the same for reminders.
# Flags and reminders are the integer tuples of monitor.tracker (names and plain text
# come from monitor.rules / monitor.schedule on whichever side shows them).
def encode_alerts(flags, reminders):
    out = bytearray()
    for group in (flags, reminders):
        if len(group) > 255:
            raise ProtocolError(ERR_TOO_LARGE)
        out.append(len(group))
        for item in group:
            if len(item) > 255:
                raise ProtocolError(ERR_TOO_LARGE)
            out.append(len(item))
            for field in item:
                out += struct.pack("<i", field)
    return bytes(out)


# ---- auth characteristic (plain) ---------------------------------------------
# host -> device  HELLO:     0x01 | role u8 | host nonce (16)
# device -> host  CHALLENGE: 0x02 | device nonce (16) | device proof (16)
# host -> device  PROOF:     0x03 | host proof (16)
# device -> host  OPEN:      0x04 | role u8                      (session open)
# device -> host  REFUSED:   0x05 | error code u8                (any refusal, any channel)


def encode_refusal(code):
    return bytes((AUTH_REFUSED, code))


# ---- Current Time Service 0x2A2B, 10 bytes -------------------------------------
# year u16 | month u8 | day u8 | hours u8 | minutes u8 | seconds u8 |
# day of week u8 (1 = Monday, 0 unknown) | fractions256 u8 | adjust reason u8
CTS_FORMAT = "<HBBBBBBBB"
CTS_SIZE = const(10)
CTS_REASON_MANUAL = const(0x01)
# Inside a session frame a set may carry one more byte after the 10 CTS bytes: TIME_FORCE sets a time
# before the newest stored record (a clinician's --force; the device logs it and starts a new clock epoch).
TIME_FORCE = const(0x01)


def encode_cts(day, minute, second, reason=CTS_REASON_MANUAL):
    year, month, mday = dates.civil_from_days(day)
    weekday = dates.weekday(day) + 1   # 1 = Monday
    return struct.pack(CTS_FORMAT, year, month, mday, minute // 60, minute % 60, second,
                       weekday, 0, reason)


def decode_cts(buf):
    """(day, minute, second) from the CTS format; ProtocolError on a date that is not real."""
    if len(buf) != CTS_SIZE:
        raise ProtocolError(ERR_BAD_LENGTH)
    year, month, mday, hours, minutes, seconds, _wd, _frac, _reason = struct.unpack(CTS_FORMAT, buf)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ProtocolError(ERR_BAD_VALUE)
    try:
        day = dates.days_from_civil(year, month, mday)
    except ValueError:
        raise ProtocolError(ERR_BAD_VALUE) from None
    return day, hours * 60 + minutes, seconds


# ---- order ------------------------------------------------------------------------
# The device seals every frame in the order it queues them; a host opens them in counter order, whatever
# order they arrive in: a stack may send queued indications (control point replies) ahead of queued
# notifications (records), as BTstack does (host_tools/device_link.py REORDER_WINDOW).

# ---- records notifications ---------------------------------------------------
# The plaintext of a records frame is whole 16-byte records (monitor.records layout).
def records_per_frame(mtu, frame_overhead, record_size):
    """How many records (monitor.records.RECORD_SIZE each) fit one notification at this MTU."""
    return (mtu - ATT_HEADER - frame_overhead) // record_size


# ---- updates (monitor/update.py, loaded only while one runs) ----------------------------------------
# On the profile channel, with op codes above the blob ops; clinician only.  The bundle (monitor/bundle.py)
# goes as one byte stream in chunks, each written to flash before its reply, so a cut transfer resumes
# from the stored offset the device reports.
# request: STATUS:  op
#          BEGIN:   op | total u32 | header size u32 | bundle id (SHA-256 of the header, 32) | flags u8
#          CHUNK:   op | offset u32 | bytes            (offset must be the stored one)
#          APPLY:   op                                 (all stored: verify, then boot it on trial next start)
# reply:   status u8 | op u8 | stored u32 | total u32     (status first, as in every blob reply)
#          STATUS adds: outcome u8 (update_boot) | running sequence u32 | version (len u8 | ASCII) |
#          note (len u8 | ASCII: the version the outcome is about)
UPDATE_STATUS = const(0x10)
UPDATE_BEGIN = const(0x11)
UPDATE_CHUNK = const(0x12)
UPDATE_APPLY = const(0x13)
UPDATE_FLAG_DOWNGRADE = const(0x01)
UPDATE_REPLY_SIZE = const(10)
UPDATE_BEGIN_SIZE = const(42)
UPDATE_CHUNK_HEADER = const(5)
# (their struct formats are in monitor/bundle.py: every name here is interned on the device at boot)

ERR_UPDATE_SIGNATURE = const(0xD0)   # not signed by the publisher key this device was deployed with
ERR_UPDATE_HASH = const(0xD1)        # staged bytes do not match the signed manifest (tampered chunk)
ERR_UPDATE_OLDER = const(0xD2)       # older than the running version (the host may allow a downgrade)
ERR_UPDATE_BOARD = const(0xD3)       # built for another board, or code this device cannot load
ERR_UPDATE_SPACE = const(0xD4)       # not enough free flash (checked before the first chunk)
ERR_UPDATE_BUNDLE = const(0xD5)      # not a well-formed bundle
ERR_UPDATE_OFFSET = const(0xD6)      # chunk not at the stored offset (the reply says where to go on)
ERR_UPDATE_NO_KEY = const(0xD7)      # no publisher key deployed: updates over the air are off
ERR_UPDATE_FLOOR = const(0xD8)       # below the publisher's anti-rollback floor (no host flag passes it)
