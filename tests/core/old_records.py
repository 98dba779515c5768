# Records as firmware from before µg doses wrote them (for the tests that read them back).
import struct

from monitor.records import D_TESTOSTERONE, FLAG_CONFIRMED, KIND_DOSE, RECORD_BODY, RECORD_FORMAT, record_check


def old_record(buf, offset, seq, day, value_mg, flags=FLAG_CONFIRMED):
    """The bytes firmware from before µg doses wrote for a testosterone dose: the value in mg, no FLAG_UG."""
    struct.pack_into(RECORD_FORMAT, buf, offset, seq, day, 0, (KIND_DOSE << 6) | D_TESTOSTERONE, value_mg, flags)
    struct.pack_into("<H", buf, offset + RECORD_BODY, record_check(buf, offset))
