# Plain-text names of monitor.protocol's codes, for whoever shows them (host CLI, simulator, tests).
# Kept apart from monitor.protocol so the device, which only sends codes, does not hold the text.
from monitor import protocol as P

ERROR_TEXT = {
    P.ERR_BAD_LENGTH: "message has the wrong length",
    P.ERR_BAD_OPCODE: "unknown operation",
    P.ERR_BAD_VALUE: "value out of range",
    P.ERR_NO_SESSION: "no session: authenticate first",
    P.ERR_NOT_PROVISIONED: "device has no key: provision it over USB",
    P.ERR_BAD_PROOF: "authentication failed (wrong key or role)",
    P.ERR_BAD_TAG: "frame failed its integrity check; session closed",
    P.ERR_REPLAY: "frame replayed or out of order; session closed",
    P.ERR_ROLE: "not allowed for this role",
    P.ERR_BUSY: "device busy",
    P.ERR_TOO_LARGE: "message too large",
    P.ERR_CLOCK_UNSET: "device clock is not set",
    P.ERR_STORE_FULL: "storage full, sync now",
    P.ERR_INTERNAL: "device error",
    P.ERR_MTU: "link MTU too small",
    P.ERR_CLOCK_BACK: "the new time is before the newest record stored on the device",
    P.ERR_UPDATE_SIGNATURE: "update not signed by this device's publisher",
    P.ERR_UPDATE_HASH: "update bytes do not match the signed manifest (tampered or damaged)",
    P.ERR_UPDATE_OLDER: "update is older than the running version",
    P.ERR_UPDATE_BOARD: "update is for another board",
    P.ERR_UPDATE_SPACE: "not enough free flash for the update",
    P.ERR_UPDATE_BUNDLE: "not a valid update bundle",
    P.ERR_UPDATE_OFFSET: "update chunk out of order",
    P.ERR_UPDATE_NO_KEY: "device has no publisher key: redeploy over USB with one",
}


def error_text(code):
    text = ERROR_TEXT.get(code)
    if text is not None:
        return text
    try:
        from monitor import records
        return records.error_message(code)
    except (ImportError, AttributeError, KeyError, ValueError):
        return "error %d" % code



RSP_NAMES = {
    P.RSP_SUCCESS: "success", P.RSP_OP_NOT_SUPPORTED: "op code not supported",
    P.RSP_INVALID_OPERATOR: "invalid operator", P.RSP_OPERATOR_NOT_SUPPORTED: "operator not supported",
    P.RSP_INVALID_OPERAND: "invalid operand", P.RSP_NO_RECORDS: "no records found",
    P.RSP_ABORT_FAILED: "abort unsuccessful", P.RSP_NOT_COMPLETED: "procedure not completed",
    P.RSP_OPERAND_NOT_SUPPORTED: "operand not supported", P.RSP_BUSY: "busy",
}
