# An exact duplicate of a stored entry (same kind, code, value, unit and qualifiers, date and time): a host
# pushing the same result twice is refused unless the request confirms it (protocol.ENTRY_OPT_DUPLICATE).
# The device looks through its newest records only (the host checks everything it has pulled).
from micropython import const

from monitor import records as R

WINDOW = const(256)          # records looked through: one segment's worth, 4 KB of reads per push
_CHUNK = const(16)
# Bits that do not make an entry different: who entered it, a confirmation, that it replaced another.
_SAME = const(0xFF & ~(0x08 | 0x40 | 0x80))   # FLAG_CONFIRMED, FLAG_AMENDS, FLAG_CLINIC


def find(store, kind, code, value, flags, day, minute):
    """Record number of a stored, uncorrected entry equal to this one, or 0."""
    buf = bytearray(_CHUNK * R.RECORD_SIZE)
    seq = store.next_seq - WINDOW
    found = 0
    while True:
        count, seq = store.read_into(seq if seq > 0 else 0, buf)
        if not count:
            return found
        for k in range(count):
            r = R.unpack_record(buf, k * R.RECORD_SIZE)
            if r[3] == kind and r[4] == code and r[5] == value and r[1] == day and r[2] == minute \
                    and not (r[6] ^ flags) & _SAME:
                found = r[0]
            elif found and r[3] == R.KIND_EVENT and (r[4] == R.EVENT_VOID or r[4] == R.EVENT_AMEND) \
                    and r[5] == found:
                found = 0   # voided or amended: storing it again is no duplicate
