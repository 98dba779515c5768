# Two checks of a pushed entry that need the log, shared by the device (monitor.app) and the host
# (host_tools.entry_checks): an exact duplicate of a stored entry (same kind, code, value, unit and
# qualifiers, date and time), and a date before the therapy's start or over a year before the newest record.
# Either is stored only when the host confirms it (protocol.ENTRY_OPT_DUPLICATE, ENTRY_OPT_DATE).
from micropython import const

from monitor import records as R
from monitor.protocol import ENTRY_OPT_DATE, ENTRY_OPT_DUPLICATE, ERR_DATE_UNUSUAL, ERR_DUPLICATE
from monitor.state import THERAPY_START

WINDOW = const(256)          # records the device looks through: one segment's worth, 4 KB of reads a push
UNUSUAL_DATE_DAYS = const(365)
_CHUNK = const(16)
# Bits that do not make an entry another one: a confirmation, that it replaced another, who entered it.
_SAME = const(0xFF & ~(0x08 | 0x40 | 0x80))   # FLAG_CONFIRMED, FLAG_AMENDS, FLAG_CLINIC


def same(r, kind, code, value, flags, day, minute):
    """True when record r (unpack_record's tuple) is this entry."""
    return r[3] == kind and r[4] == code and r[5] == value and r[1] == day and r[2] == minute \
        and not (r[6] ^ flags) & _SAME


def unusual_date(day, therapy_start, newest_day):
    """True for a date before the therapy's start (-1: none yet) or over a year before the newest record."""
    return (0 <= therapy_start and day < therapy_start) or day < newest_day - UNUSUAL_DATE_DAYS


def check(app, kind, code, value, flags, day, minute, options):
    """The device's refusal of a host's push, (status, seq of the stored duplicate or None), or None."""
    if not options & ENTRY_OPT_DATE and unusual_date(day, app.tracker.st[THERAPY_START], app.newest_day):
        return ERR_DATE_UNUSUAL, None   # 2006 typed for 2026
    if not options & ENTRY_OPT_DUPLICATE:
        same = find(app.store, kind, code, value, flags, day, minute)
        if same:
            return ERR_DUPLICATE, same
    return None


def find(store, kind, code, value, flags, day, minute):
    """Record number of a stored, uncorrected entry equal to this one among the newest WINDOW, or 0."""
    buf = bytearray(_CHUNK * R.RECORD_SIZE)
    seq = store.next_seq - WINDOW
    found = 0
    while True:
        count, seq = store.read_into(seq if seq > 0 else 0, buf)
        if not count:
            return found
        for k in range(count):
            r = R.unpack_record(buf, k * R.RECORD_SIZE)
            if same(r, kind, code, value, flags, day, minute):
                found = r[0]
            elif found and r[3] == R.KIND_EVENT and (r[4] == R.EVENT_VOID or r[4] == R.EVENT_AMEND) \
                    and r[5] == found:
                found = 0   # voided or amended: storing it again is no duplicate
