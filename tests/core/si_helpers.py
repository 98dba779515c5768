# Lab values entered in both unit systems, and single-lab rule checks (core tests; CPython and the unix
# port). Every stored value used at a boundary is reached from a conventional and from an SI entry.
from monitor import units  # noqa: I001
from monitor import records as R


def conventional(analyte, stored):
    """The stored value reached by entering `stored` in the conventional unit (e.g. 60.1 pg/mL)."""
    scale = units.LAB_UNITS[analyte][0][1]          # 10 ** decimals of the stored integer
    decimals = 0
    while 10 ** decimals < scale:
        decimals += 1
    value, is_si = units.convert_entry(R.KIND_LAB, analyte, stored, decimals, 0)
    assert not is_si
    return value


def si_entry(analyte, stored):
    """An SI entry (mantissa, decimals, unit index) that converts exactly to `stored`."""
    table = units.LAB_UNITS[analyte]
    index = 1
    while not table[index][3]:
        index += 1
    mul = table[index][1]
    div = table[index][2]
    decimals = 0
    while mul > div * 10 ** decimals:   # one SI step must not exceed one stored unit
        decimals += 1
    guess = stored * div * 10 ** decimals // mul
    for delta in range(-30, 31):
        value, is_si = units.convert_entry(R.KIND_LAB, analyte, guess + delta, decimals, index)
        if value == stored:
            assert is_si
            return guess + delta, decimals, index
    raise AssertionError("no SI entry converts to %d" % stored)


def via_si(analyte, stored):
    mantissa, decimals, index = si_entry(analyte, stored)
    return units.convert_entry(R.KIND_LAB, analyte, mantissa, decimals, index)[0]


def both_units(analyte, stored):
    conv = conventional(analyte, stored)
    si = via_si(analyte, stored)
    assert conv == stored and si == stored
    return (conv, si)
