# Units of entry and exact integer conversion to the stored integers (clinical-rules §5).
# Conversion is integer only, rounds half up, and keeps every intermediate below 2**30.
from monitor.records import (
    ANALYTE_COUNT, DRUG_COUNT, ERR_CODE, ERR_KIND, ERR_PRECISION, ERR_RANGE, ERR_UNIT, INT_LIMIT, KIND_DOSE,
    KIND_LAB, MAX_DECIMALS, EntryError,
)
from monitor.catalog import LAB_UNIT as _STORED

# Units: per lab analyte, (unit, multiplier, divisor, is_si): stored = value * multiplier / divisor,
# the value being the entered decimal; the first unit is the conventional one the value is stored in,
# named in monitor.catalog.LAB_UNIT (displays read the name there without loading these tables).
LAB_UNITS = (
    ((_STORED[0], 10, 1, 0), ("pmol/L", 10000, 3671, 1)),   # E2, 0.1 pg/mL; pg/mL = pmol/L / 3.671
    ((_STORED[1], 1, 1, 0), ("nmol/L", 721, 25, 1)),        # TT; ng/dL = nmol/L * 28.84
    ((_STORED[2], 10, 1, 0), ("pmol/L", 10000, 3467, 1)),   # FT, 0.1 pg/mL; pg/mL = pmol/L / 3.467
    ((_STORED[3], 10, 1, 0), ("IU/L", 10, 1, 1)),           # LH, 0.1 IU/L
    ((_STORED[4], 10, 1, 0), ("IU/L", 10, 1, 1)),           # FSH
    ((_STORED[5], 10, 1, 0),),                              # SHBG, 0.1 nmol/L
    ((_STORED[6], 10, 1, 0), ("ug/L", 10, 1, 1), ("µg/L", 10, 1, 1)),  # PRL, 0.1 ng/mL
    ((_STORED[7], 10, 1, 0), ("L/L", 1000, 1, 1)),          # HCT, 0.1 %
    ((_STORED[8], 100, 1, 0),),                             # PSA, 0.01 ng/mL
    ((_STORED[9], 1, 1, 0), ("mmol/L", 3867, 100, 1)),      # HDL; mg/dL = mmol/L * 38.67
    ((_STORED[10], 1, 1, 0), ("mmol/L", 3867, 100, 1)),     # LDL
    ((_STORED[11], 1, 1, 0), ("mmol/L", 3867, 100, 1)),     # TC
    ((_STORED[12], 1, 1, 0), ("mmol/L", 8857, 100, 1)),     # TG; mg/dL = mmol/L * 88.57
    ((_STORED[13], 10, 1, 0), ("nmol/L", 625, 156, 1)),     # VITD, 0.1 ng/mL; ng/mL = nmol/L / 2.496
    ((_STORED[14], 10, 1, 0), ("10^6/mL", 10, 1, 0)),       # SPERM, 0.1 x 10^6/mL
    ((_STORED[15], 10, 1, 0),),                             # BMD T-score, 0.1 SD, signed: lumbar spine
    ((_STORED[16], 10, 1, 0),),                             # total hip
    ((_STORED[17], 10, 1, 0),),                             # femoral neck
)
DOSE_UNITS = (
    (("mg", 1000, 1, 0), ("ug", 1, 1, 0), ("µg", 1, 1, 0), ("mcg", 1, 1, 0)),   # anastrozole, µg
    # testosterone, µg too: gel, cream and pump doses (12.5, 20.25, 40.5 mg) and injection volumes fit exactly
    (("mg", 1000, 1, 0), ("ug", 1, 1, 0), ("µg", 1, 1, 0), ("mcg", 1, 1, 0)),
)
# UCUM codes (for FHIR) of the unit names above that UCUM spells differently; the rest are valid as written.
UCUM_SPELLING = {"mIU/mL": "m[IU]/mL", "IU/L": "[IU]/L", "M/mL": "10*6/mL", "10^6/mL": "10*6/mL",
                 "SD": "{SD}", "µg": "ug", "mcg": "ug", "µg/L": "ug/L"}


def ucum(unit):
    return UCUM_SPELLING.get(unit, unit)


def units_for(kind, code):
    # The unit table of a lab analyte or a drug; raises EntryError.
    if kind == KIND_LAB and 0 <= code < ANALYTE_COUNT:
        return LAB_UNITS[code]
    if kind == KIND_DOSE and 0 <= code < DRUG_COUNT:
        return DOSE_UNITS[code]
    raise EntryError(ERR_CODE if kind in (KIND_LAB, KIND_DOSE) else ERR_KIND)


def unit_index(kind, code, unit):
    # Index of a unit name (case-insensitive) in the entry's unit table; raises EntryError(ERR_UNIT).
    table = units_for(kind, code)
    wanted = unit.strip().lower()
    for i in range(len(table)):
        if table[i][0].lower() == wanted:
            return i
    raise EntryError(ERR_UNIT)


def unit_is_si(kind, code, index):
    return units_for(kind, code)[index][3] == 1


def _floor_muldiv(n, mul, add, div):
    # floor((n * mul + add) / div) for n >= 0, 0 <= add < div, by long multiplication over mul's
    # decimal digits so no intermediate exceeds 19 * div (see max_intermediate).
    q = n // div
    r = n - q * div
    if q > INT_LIMIT // mul:
        raise EntryError(ERR_RANGE)
    p = 1
    while p * 10 <= mul:
        p *= 10
    quo = 0
    acc = 0
    while p:
        acc = acc * 10 + r * ((mul // p) % 10)
        quo = quo * 10 + acc // div
        acc = acc % div
        p //= 10
    return q * mul + quo + (acc + add) // div


def scale_round_half_up(n, mul, div):
    # Exact n * mul / div rounded half up (toward +infinity), integers only.
    if n >= 0:
        return _floor_muldiv(n, 2 * mul, div, 2 * div)
    return -_floor_muldiv(-n, 2 * mul, div - 1, 2 * div)


def max_intermediate():
    # Largest intermediate any entry conversion can produce (must stay below 2**30).
    worst = INT_LIMIT
    tables = LAB_UNITS + DOSE_UNITS
    for table in tables:
        for unit in table:
            div = 2 * unit[2] * 10 ** MAX_DECIMALS
            worst = max(worst, 19 * div + 2 * div)
    return worst


def convert_entry(kind, code, mantissa, decimals, unit, limit=0):
    # Exact entry mantissa * 10**-decimals in `unit` -> (stored integer, is_si). Raises EntryError.
    # limit: the value is a lab's limit of quantitation ("<95.5 pmol/L"), rounded up, never half up, so the
    # stored limit claims no more than the lab did (clinical-rules §1).
    table = units_for(kind, code)
    index = unit_index(kind, code, unit) if isinstance(unit, str) else unit
    if not (0 <= index < len(table)):
        raise EntryError(ERR_UNIT)
    while decimals > 0 and mantissa % 10 == 0:
        mantissa //= 10
        decimals -= 1
    if decimals < 0 or decimals > MAX_DECIMALS:
        raise EntryError(ERR_PRECISION)
    if not (-INT_LIMIT < mantissa < INT_LIMIT):
        raise EntryError(ERR_RANGE)
    row = table[index]
    step = 10 ** decimals
    if row[2] == 1 and row[1] < step and mantissa % (step // row[1]):
        # an exact scaling (a power of ten, no conversion factor): a digit the stored unit cannot hold is
        # refused, not rounded away (precision_text says what the unit takes); no product: no big int
        raise EntryError(ERR_PRECISION)
    div = row[2] * 10 ** decimals
    if limit and mantissa >= 0:
        return _floor_muldiv(mantissa, row[1], div - 1, div), row[3] == 1
    return scale_round_half_up(mantissa, row[1], div), row[3] == 1


def precision_text(kind, code, unit):
    # What an entry in `unit` can carry, in words: "at most 1 decimal in pg/mL", "whole mg".
    table = units_for(kind, code)
    index = unit_index(kind, code, unit) if isinstance(unit, str) else unit
    row = table[index]
    decimals = 0
    while row[2] == 1 and 10 ** decimals < row[1] and decimals < MAX_DECIMALS:
        decimals += 1
    if row[2] != 1:
        decimals = MAX_DECIMALS
    if decimals == 0:
        return "whole %s" % row[0]
    return "at most %d decimal%s in %s" % (decimals, "s" if decimals > 1 else "", row[0])
