# Plain-text names of monitor.protocol's codes, for whoever shows them (host CLI, simulator, tests).
# Kept apart from monitor.protocol so the device, which only sends codes, does not hold the text.
from monitor import protocol

ERROR_TEXT = {
    protocol.ERR_BAD_LENGTH: "message has the wrong length",
    protocol.ERR_BAD_OPCODE: "unknown operation",
    protocol.ERR_BAD_VALUE: "value out of range",
    protocol.ERR_NO_SESSION: "no session: authenticate first",
    protocol.ERR_NOT_PROVISIONED: "device has no key: provision it over USB",
    protocol.ERR_BAD_PROOF: "authentication failed (wrong key or role)",
    protocol.ERR_BAD_TAG: "frame failed its integrity check; session closed",
    protocol.ERR_REPLAY: "frame replayed or out of order; session closed",
    protocol.ERR_ROLE: "not allowed for this role",
    protocol.ERR_BUSY: "device busy",
    protocol.ERR_TOO_LARGE: "message too large",
    protocol.ERR_CLOCK_UNSET: "device clock is not set",
    protocol.ERR_STORE_FULL: "storage full, sync now",
    protocol.ERR_INTERNAL: "device error",
    protocol.ERR_MTU: "link MTU too small",
    protocol.ERR_CLOCK_BACK: "the new time is before the newest record stored on the device",
    protocol.ERR_UPDATE_SIGNATURE: "update not signed by this device's publisher",
    protocol.ERR_UPDATE_HASH: "update bytes do not match the signed manifest (tampered or damaged)",
    protocol.ERR_UPDATE_OLDER: "update is older than the running version",
    protocol.ERR_UPDATE_BOARD: "update is for another board",
    protocol.ERR_UPDATE_SPACE: "not enough free flash for the update",
    protocol.ERR_UPDATE_BUNDLE: "not a valid update bundle",
    protocol.ERR_UPDATE_OFFSET: "update chunk out of order",
    protocol.ERR_UPDATE_NO_KEY: "device has no publisher key: redeploy over USB with one",
    protocol.ERR_UPDATE_FLOOR: "the publisher withdrew releases this old; no downgrade can install it",
    protocol.ERR_KEY_HELD: "the device holds another key and a log; a new key erases the log",
    protocol.ERR_DUPLICATE: "the same entry, date and time is already stored",
    protocol.ERR_DATE_UNUSUAL: "the date is before the therapy's start or over a year before the newest record",
    protocol.ERR_NO_ENTRY: "the device holds no lab result, dose or symptom with that record number",
    protocol.ERR_CORRECTED: "that entry was already voided or amended",
    protocol.ERR_CORRECT_OLD: "the device no longer holds the records it needs to evaluate again without "
                              "that entry (once a pull let it free older ones, it keeps them back to its "
                              "second-newest snapshot)",
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
    protocol.RSP_SUCCESS: "success", protocol.RSP_OP_NOT_SUPPORTED: "op code not supported",
    protocol.RSP_INVALID_OPERATOR: "invalid operator", protocol.RSP_OPERATOR_NOT_SUPPORTED: "operator not supported",
    protocol.RSP_INVALID_OPERAND: "invalid operand", protocol.RSP_NO_RECORDS: "no records found",
    protocol.RSP_ABORT_FAILED: "abort unsuccessful", protocol.RSP_NOT_COMPLETED: "procedure not completed",
    protocol.RSP_OPERAND_NOT_SUPPORTED: "operand not supported", protocol.RSP_BUSY: "busy",
}
