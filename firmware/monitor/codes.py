# Codes shared by the session layer and the protocol: roles, status and error codes, handshake
# message types and sizes.  monitor.protocol re-exports every name here (use protocol.ERR_* etc.);
# monitor.session imports only this small module, so the session runs without the codecs loaded.
from micropython import const

ROLE_CLINICIAN = const(1)
ROLE_PATIENT = const(2)

# Protocol-level refusals live above 0xC0 so they never collide with the
# validation codes of monitor.records (which entry answers pass through).
STATUS_OK = const(0)
ERR_BAD_LENGTH = const(0xC1)
ERR_BAD_OPCODE = const(0xC2)
ERR_BAD_VALUE = const(0xC3)
ERR_NO_SESSION = const(0xC4)      # encrypted channel used before a session is open
ERR_NOT_PROVISIONED = const(0xC5)
ERR_BAD_PROOF = const(0xC6)       # handshake proof did not verify (wrong key or role)
ERR_BAD_TAG = const(0xC7)         # frame tampered: MAC did not verify; session closed
ERR_REPLAY = const(0xC8)          # frame counter not the next one: replayed or reordered; session closed
ERR_ROLE = const(0xC9)            # operation not allowed for this session's role
ERR_BUSY = const(0xCA)
ERR_TOO_LARGE = const(0xCB)
ERR_CLOCK_UNSET = const(0xCC)
ERR_STORE_FULL = const(0xCD)
ERR_INTERNAL = const(0xCE)
ERR_MTU = const(0xCF)             # negotiated MTU too small for the protocol
# 0xD0-0xDF: updates (monitor.protocol ERR_UPDATE_*); 0xE0-: the device's state
ERR_CLOCK_BACK = const(0xE0)      # the new time is before the newest stored record (refused unless forced)
ERR_KEY_HELD = const(0xE1)        # provisioning a new key over one in use: the log must be erased with it
ERR_DUPLICATE = const(0xE2)       # the same entry (kind, code, value, unit, date, time) is stored: the reply's
                                  # record number names it; the request's ENTRY_OPT_DUPLICATE stores it again
ERR_DATE_UNUSUAL = const(0xE3)    # dated before the therapy's start or over a year before the newest record
                                  # (ENTRY_OPT_DATE: the host confirmed it)
ERR_NO_ENTRY = const(0xE4)        # a correction names no lab, dose or symptom the device holds
ERR_CORRECTED = const(0xE5)       # that entry was voided or amended already
ERR_CORRECT_OLD = const(0xE6)     # the device no longer holds the log to evaluate again without that entry

AUTH_HELLO = const(1)
AUTH_CHALLENGE = const(2)
AUTH_PROOF = const(3)
AUTH_OPEN = const(4)
AUTH_REFUSED = const(5)
NONCE_SIZE = const(16)
PROOF_SIZE = const(16)
