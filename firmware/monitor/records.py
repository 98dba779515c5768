# Record kinds, codes and the 16-byte record layout shared by store, protocol and host.
# Names of the codes are in monitor.catalog, units and conversion in monitor.units, entry validation in
# monitor.validate, display texts in monitor.texts.
import struct
from binascii import crc32

from micropython import const

# Kinds occupy the top two bits of the kind/code byte; the code the low six.
KIND_LAB = const(0)
KIND_DOSE = const(1)
KIND_SYMPTOM = const(2)
KIND_EVENT = const(3)
KIND_NAMES = ("lab", "dose", "symptom", "event")

# Events: things the device logs that are not clinical entries.
EVENT_CLOCK_SET = const(0)      # value: seconds the clock jumped (clamped to int32)
EVENT_ACK = const(1)            # value: reminder or rule index acknowledged
EVENT_SNOOZE = const(2)         # value: reminder index; flags: days snoozed
EVENT_SYNC_MARK = const(3)      # value: highest record number the host has stored
EVENT_PROFILE_SET = const(4)    # value: profile CRC (low 31 bits)
EVENT_TAPER_START = const(5)    # clinician-entered step-down begins
EVENT_TAPER_END = const(6)
EVENT_GOAL = const(7)           # value: goal index (see GOALS)
EVENT_UPDATE = const(8)         # value: release sequence of the update; flags: update_boot outcome
# Corrections (monitor.corrections): the entry stays in the log, these say it no longer counts.
EVENT_VOID = const(9)           # value: record number of the entry voided; flags: reason (catalog.REASONS)
EVENT_AMEND = const(10)         # value: record number of the entry amended; flags: reason; the record right
                                # before it (FLAG_AMENDS set) is the corrected entry that replaces it
EVENT_NAMES = ("CLOCK_SET", "ACK", "SNOOZE", "SYNC_MARK", "PROFILE_SET", "TAPER_START", "TAPER_END", "GOAL",
               "UPDATE", "VOID", "AMEND")

# Layout on flash and on the wire, little-endian, 16 bytes:
#   seq u32 | day u16 (days since 2000-01-01) | minute u16 (0..1439) |
#   kindcode u8 | value i32 | flags u8 | check u16 (low 16 bits of CRC-32 over the first 14 bytes)
RECORD_FORMAT = "<IHHBiB"
NO_DAY = const(0xFFFF)          # a day field (u16) that holds no day
RECORD_BODY = const(14)
RECORD_SIZE = const(16)

# Testosterone doses are stored in µg with FLAG_UG set; one without it was stored in mg, by firmware from
# before µg doses. pack_record sets the flag and unpack_record gives both kinds in µg, without the flag:
# above the stored bytes every dose is in µg (monitor.catalog.DRUG_STORED_UNIT). The bytes stay as written.
FLAG_UG = const(0x20)
_TESTOSTERONE_DOSE = const(0x41)   # kind/code byte of KIND_DOSE, D_TESTOSTERONE


def kindcode(kind, code):
    return (kind << 6) | code


def record_check(buf, offset=0):
    return crc32(memoryview(buf)[offset:offset + RECORD_BODY]) & 0xFFFF


def pack_record(buf, offset, seq, day, minute, kind, code, value, flags):
    # Writes one record with its check into buf at offset (no allocation).
    kc = (kind << 6) | code
    if kc == _TESTOSTERONE_DOSE:
        flags |= FLAG_UG
    struct.pack_into(RECORD_FORMAT, buf, offset, seq, day, minute, kc, value, flags)
    struct.pack_into("<H", buf, offset + RECORD_BODY, record_check(buf, offset))


def record_ok(buf, offset=0):
    return struct.unpack_from("<H", buf, offset + RECORD_BODY)[0] == record_check(buf, offset)


def unpack_record(buf, offset=0):
    # Returns (seq, day, minute, kind, code, value, flags); the caller checks record_ok first.
    seq, day, minute, kc, value, flags = struct.unpack_from(RECORD_FORMAT, buf, offset)
    if kc == _TESTOSTERONE_DOSE:
        if not flags & FLAG_UG:
            value *= 1000   # stored in mg (FLAG_UG above)
        flags &= ~FLAG_UG
    return seq, day, minute, kc >> 6, kc & 0x3F, value, flags


# ---------------------------------------------------------------------------
# Analytes, doses, symptoms (clinical-rules §3, §5): codes. Their names (ANALYTES, SYMPTOMS, DRUGS, GOALS,
# METHODS), LOINC codes, display decimals and ERROR_NAMES are in monitor.catalog, which the device's
# resident core does not load.
A_E2 = const(0)
A_TT = const(1)
A_FT = const(2)
A_LH = const(3)
A_FSH = const(4)
A_SHBG = const(5)
A_PRL = const(6)
A_HCT = const(7)
A_PSA = const(8)
A_HDL = const(9)
A_LDL = const(10)
A_TC = const(11)
A_TG = const(12)
A_VITD = const(13)
A_SPERM = const(14)
A_BMD_T = const(15)        # DEXA T-score, lumbar spine
A_BMD_T_HIP = const(16)    # total hip
A_BMD_T_FN = const(17)     # femoral neck
ANALYTE_COUNT = const(18)


S_JOINT = const(0)
S_LIBIDO = const(1)
S_FATIGUE = const(2)
S_MOOD = const(3)
S_ED = const(4)
S_BREAST = const(5)
S_GYNO = const(6)
S_NIPPLE = const(7)
S_FLUID = const(8)
S_HOTFLASH = const(9)
S_HEADACHE = const(10)
S_COGNITION = const(11)
S_WELLBEING = const(12)
SYMPTOM_COUNT = const(13)
SEVERITY_MAX = const(3)

D_ANASTROZOLE = const(0)
D_TESTOSTERONE = const(1)
DRUG_COUNT = const(2)

GOAL_TRT = const(0)
GOAL_FERTILITY = const(1)
GOAL_ESTROGEN_CONTROL = const(2)
GOAL_COUNT = const(3)

# Lab flags byte: method in bits 0-1, then qualifiers. FLAG_CONFIRMED also marks doses (FLAG_UG: 0x20).
METHOD_MASK = const(0x03)
METHOD_UNKNOWN = const(0)
METHOD_IMMUNOASSAY = const(1)
METHOD_LCMS = const(2)
FLAG_BELOW_LLOQ = const(0x04)   # value is the lab's limit of quantitation; the result is below it
FLAG_CONFIRMED = const(0x08)    # patient confirmed an unusual value
FLAG_SI = const(0x10)           # entered in SI units (the stored value is converted)
LAB_FLAGS_ALL = const(0x1F)
# A lab, dose or symptom entered in a clinician's session, set by the device (never accepted from a host).
# Without it an entry is the patient's: the buttons, a patient-key push, or firmware before this bit.
FLAG_CLINIC = const(0x80)
# A lab, dose or symptom that replaces an earlier entry: the EVENT_AMEND right after it names which. Set by the
# device (never accepted from a host), so any kind of entry may carry it.
FLAG_AMENDS = const(0x40)


MAX_DECIMALS = const(3)          # digits after the point an entry may carry
INT_LIMIT = const(0x20000000)    # 2**29: conversions keep every intermediate below 2**30
MINUTES_PER_DAY = const(1440)

# Stable error codes with plain messages.
ERR_OK = const(0)
ERR_KIND = const(1)
ERR_CODE = const(2)
ERR_UNIT = const(3)
ERR_PRECISION = const(4)
ERR_RANGE = const(5)
ERR_CONFIRM = const(6)
ERR_FUTURE = const(7)
ERR_DATE = const(8)
ERR_CLOCK = const(9)
ERR_SEVERITY = const(10)
ERR_FLAGS = const(11)
ERR_FT_ABOVE_TT = const(12)
ERR_CONFIRM_WEEK = const(13)
ERR_PROFILE = const(14)
ERR_BUDGET = const(15)          # today's budget of pushed entries is used up (profile PUSH_DAY_BUDGET)
ERR_BEFORE_CLOCK = const(16)    # dated before the clock was set back: the log cannot place it in time
FUTURE_MINUTES = const(10)      # an entry may be this far ahead of the device's clock (the host's may run fast)


class EntryError(ValueError):
    # A refused entry; .code is one of the ERR_* codes.

    def __init__(self, code):
        super().__init__(error_message(code))
        self.code = code


def error_message(code):
    from monitor.errors import ERROR_MESSAGES
    if 0 <= code < len(ERROR_MESSAGES):
        return ERROR_MESSAGES[code]
    return "unknown error %d" % code
