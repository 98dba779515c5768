# The host's half of monitor.beacon: finding an identifier in a scan and the window it was made for. The
# device never loads this module (its heap); hosts and tests import it beside monitor.beacon.
from monitor.beacon import COMPANY_ID, ID_SIZE, UNSET_FLAG, UNSET_SPAN, clock_window, identifier

SKEW_WINDOWS = 96   # a day either side of the host's clock: the device keeps the time zone of whoever set it


def identifier_in(manufacturer_data):
    """The identifier in a scan's {company id: bytes} (bleak's AdvertisementData.manufacturer_data)."""
    data = manufacturer_data.get(COMPANY_ID) if manufacturer_data else None
    if data is None or len(data) != ID_SIZE:
        return None
    return bytes(data)


class Matcher:
    """Host side: which window, if any, an advertised identifier belongs to for one beacon key. Built once
    per scan: the clock windows within SKEW_WINDOWS of the host's wall clock (the device keeps the wall
    time of whichever host set it last, maybe in another time zone) and every clock-unset window."""

    def __init__(self, key, *nows):
        """nows: (day, minute) wall-clock readings the device's clock may be near (the host's own, and where
        it last set the device's if far from it)."""
        self.key = bytes(key)
        self._table = {}
        for k in range(UNSET_SPAN):
            self._add(UNSET_FLAG | k)
        for day, minute in nows:
            now = clock_window(day, minute)
            for window in range(now - SKEW_WINDOWS, now + SKEW_WINDOWS + 1):
                self._add(window)

    def _add(self, window):
        self._table[identifier(self.key, window)] = window

    def matches(self, ident):
        """The window ident was made for, or None."""
        return self._table.get(bytes(ident)) if ident is not None else None
