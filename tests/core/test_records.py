# Records: validation codes, exact conversion, dates, formatting.
from monitor import catalog, dates, validate
from monitor import records as R
from monitor import units


def convert(kind, code, text, unit):
    if "." in text:
        whole, frac = text.split(".")
        return units.convert_entry(kind, code, int(whole + frac), len(frac), unit)
    return units.convert_entry(kind, code, int(text), 0, unit)


def refused(kind, code, text, unit):
    try:
        convert(kind, code, text, unit)
    except R.EntryError as exc:
        return exc.code
    return 0


def test_conversion_is_exact_and_rounds_half_up():
    assert convert(R.KIND_LAB, R.A_E2, "220.26", "pmol/L") == (600, True)     # 60.00 pg/mL
    assert convert(R.KIND_LAB, R.A_E2, "55.5", "pg/mL") == (555, False)
    assert convert(R.KIND_LAB, R.A_TT, "10.4", "nmol/L") == (300, True)       # 299.936 -> 300
    assert convert(R.KIND_LAB, R.A_TT, "1.25", "nmol/L") == (36, True)        # 36.05 -> 36
    assert convert(R.KIND_LAB, R.A_HCT, "45.2", "%") == (452, False)
    assert convert(R.KIND_LAB, R.A_HCT, "0.452", "L/L") == (452, True)
    assert convert(R.KIND_LAB, R.A_BMD_T, "-2.5", "SD") == (-25, False)
    assert convert(R.KIND_LAB, R.A_BMD_T, "-2.50", "SD") == (-25, False)     # trailing zeros are exact
    assert convert(R.KIND_LAB, R.A_LDL, "3.0", "mmol/L") == (116, True)       # 116.01: a conversion rounds
    assert convert(R.KIND_LAB, R.A_VITD, "75", "nmol/L") == (300, True)       # 30.048 ng/mL
    assert convert(R.KIND_DOSE, R.D_ANASTROZOLE, "0.5", "mg") == (500, False)
    assert convert(R.KIND_DOSE, R.D_ANASTROZOLE, "0.125", "mg") == (125, False)
    assert convert(R.KIND_DOSE, R.D_ANASTROZOLE, "250", "ug") == (250, False)
    # testosterone in µg as well: gel, cream and pump doses fit exactly
    assert convert(R.KIND_DOSE, R.D_TESTOSTERONE, "12.5", "mg") == (12500, False)
    assert convert(R.KIND_DOSE, R.D_TESTOSTERONE, "20.25", "mg") == (20250, False)
    assert convert(R.KIND_DOSE, R.D_TESTOSTERONE, "0.5", "mg") == (500, False)
    assert convert(R.KIND_DOSE, R.D_TESTOSTERONE, "200", "mg") == (200000, False)
    assert convert(R.KIND_LAB, R.A_E2, "60.00", "PG/ML") == (600, False)      # case and trailing zeros


def test_conversion_refusals_have_codes():
    assert refused(R.KIND_LAB, R.A_E2, "60", "ng/dL") == R.ERR_UNIT
    assert refused(R.KIND_LAB, R.A_PSA, "1", "ug/L") == R.ERR_UNIT           # PSA has no SI entry
    assert refused(R.KIND_LAB, R.A_E2, "60.0001", "pg/mL") == R.ERR_PRECISION


def test_more_precise_than_stored_is_refused_not_rounded():
    # an entry in a unit the value is stored in (or an exact multiple of it) keeps every digit or is refused
    assert refused(R.KIND_LAB, R.A_E2, "38.15", "pg/mL") == R.ERR_PRECISION   # stored in 0.1 pg/mL
    assert refused(R.KIND_LAB, R.A_PSA, "0.001", "ng/mL") == R.ERR_PRECISION  # stored in 0.01 ng/mL
    assert refused(R.KIND_LAB, R.A_HCT, "45.25", "%") == R.ERR_PRECISION
    assert refused(R.KIND_LAB, R.A_HCT, "0.4525", "L/L") == R.ERR_PRECISION
    assert refused(R.KIND_LAB, R.A_BMD_T, "-2.55", "SD") == R.ERR_PRECISION
    assert refused(R.KIND_LAB, R.A_TT, "450.5", "ng/dL") == R.ERR_PRECISION
    assert refused(R.KIND_LAB, R.A_LH, "4.55", "IU/L") == R.ERR_PRECISION      # mIU/mL = IU/L, exactly
    assert refused(R.KIND_DOSE, R.D_ANASTROZOLE, "0.5", "ug") == R.ERR_PRECISION
    assert refused(R.KIND_DOSE, R.D_TESTOSTERONE, "0.0005", "mg") == R.ERR_PRECISION
    assert convert(R.KIND_LAB, R.A_PSA, "0.01", "ng/mL") == (1, False)
    assert convert(R.KIND_LAB, R.A_E2, "38.1", "pg/mL") == (381, False)
    # the precision each unit takes, in words (the CLI's refusal says it)
    assert units.precision_text(R.KIND_LAB, R.A_E2, "pg/mL") == "at most 1 decimal in pg/mL"
    assert units.precision_text(R.KIND_LAB, R.A_PSA, "ng/mL") == "at most 2 decimals in ng/mL"
    assert units.precision_text(R.KIND_LAB, R.A_TT, "ng/dL") == "whole ng/dL"
    assert units.precision_text(R.KIND_DOSE, R.D_TESTOSTERONE, "mg") == "at most 3 decimals in mg"
    assert units.precision_text(R.KIND_DOSE, R.D_ANASTROZOLE, "ug") == "whole ug"
    assert refused(R.KIND_LAB, R.ANALYTE_COUNT, "60", "pg/mL") == R.ERR_CODE
    assert refused(R.KIND_SYMPTOM, 0, "1", "mg") == R.ERR_KIND
    assert refused(R.KIND_LAB, R.A_E2, "999999999", "pmol/L") == R.ERR_RANGE
    assert R.error_message(R.ERR_UNIT) == "this unit is not accepted for this entry"
    assert catalog.error_name(R.ERR_FUTURE) == "ERR_FUTURE"


def test_intermediates_stay_below_small_int_limit():
    assert units.max_intermediate() < 2 ** 30
    # the largest mantissa still accepted converts without any intermediate reaching 2**30
    for table_kind, count in ((R.KIND_LAB, R.ANALYTE_COUNT), (R.KIND_DOSE, R.DRUG_COUNT)):
        for code in range(count):
            for index in range(len(units.units_for(table_kind, code))):
                for decimals in range(R.MAX_DECIMALS + 1):
                    try:
                        value, _ = units.convert_entry(table_kind, code, R.INT_LIMIT - 1, decimals, index)
                    except R.EntryError as exc:
                        assert exc.code in (R.ERR_RANGE, R.ERR_PRECISION)
                        continue
                    assert abs(value) < 2 ** 30


def check_lab(code, value, flags=0, day=100, today=100, tt=0):
    return validate.check_entry(R.KIND_LAB, code, value, flags, day, 0, today, tt)


def test_plausibility_bands_at_their_edges():
    # E2 reject 0-2000 pg/mL, confirm < 5 or > 200
    assert check_lab(R.A_E2, 20000, R.FLAG_CONFIRMED) == 0
    assert check_lab(R.A_E2, 20001, R.FLAG_CONFIRMED) == R.ERR_RANGE
    assert check_lab(R.A_E2, -1, R.FLAG_CONFIRMED) == R.ERR_RANGE
    assert check_lab(R.A_E2, 2000) == 0
    assert check_lab(R.A_E2, 2001) == R.ERR_CONFIRM
    assert check_lab(R.A_E2, 2001, R.FLAG_CONFIRMED) == 0
    assert check_lab(R.A_E2, 50) == 0
    assert check_lab(R.A_E2, 49) == R.ERR_CONFIRM
    # hematocrit 15-75 %, confirm < 30 or > 60
    assert check_lab(R.A_HCT, 149, R.FLAG_CONFIRMED) == R.ERR_RANGE
    assert check_lab(R.A_HCT, 150, R.FLAG_CONFIRMED) == 0
    assert check_lab(R.A_HCT, 601) == R.ERR_CONFIRM
    assert check_lab(R.A_HCT, 751, R.FLAG_CONFIRMED) == R.ERR_RANGE
    # BMD T-score is signed
    assert check_lab(R.A_BMD_T, -80) == 0
    assert check_lab(R.A_BMD_T, -81) == R.ERR_RANGE
    # free T at most 10 % of total T: 0.1 pg/mL units, FT_d <= 10 * TT
    assert check_lab(R.A_FT, 5000, 0, tt=500) == 0
    assert check_lab(R.A_FT, 5001, R.FLAG_CONFIRMED, tt=500) == R.ERR_FT_ABOVE_TT


def test_dates_method_and_qualifier():
    assert check_lab(R.A_E2, 300, 0, day=101, today=100) == R.ERR_FUTURE


def test_future_times_beyond_the_tolerance_are_refused():
    def at(day, minute, today, now_minute):
        now = -1 if now_minute < 0 else today * R.MINUTES_PER_DAY + now_minute
        return validate.check_entry(R.KIND_SYMPTOM, R.S_JOINT, 1, 0, day, minute, today, 0, 0, now)
    assert at(100, 600 + R.FUTURE_MINUTES, 100, 600) == 0
    assert at(100, 601 + R.FUTURE_MINUTES, 100, 600) == R.ERR_FUTURE
    assert at(100, 1439, 100, 540) == R.ERR_FUTURE                  # 23:59 entered at 09:00
    assert at(99, 1439, 100, 0) == 0                                 # yesterday evening
    assert at(101, 5, 100, 1439) == 0                                # just past midnight, within the tolerance
    assert at(101, 10, 100, 1439) == R.ERR_FUTURE
    assert at(100, 1439, 100, -1) == 0                               # no minute known: days only
    assert check_lab(R.A_E2, 300, 0, day=100, today=-1) == R.ERR_CLOCK
    assert validate.check_entry(R.KIND_LAB, R.A_E2, 300, 0, 100, 1440, 100) == R.ERR_DATE
    assert check_lab(R.A_E2, 240, R.METHOD_IMMUNOASSAY | R.FLAG_BELOW_LLOQ | R.FLAG_SI) == 0
    assert check_lab(R.A_E2, 240, R.METHOD_LCMS) == 0
    assert check_lab(R.A_E2, 240, 3) == R.ERR_FLAGS
    assert check_lab(R.A_E2, 240, 0x20) == R.ERR_FLAGS


def test_doses_and_symptoms():
    def dose(drug, amount, flags=0, week=0):
        return validate.check_entry(R.KIND_DOSE, drug, amount, flags, 10, 0, 10, 0, week)
    assert dose(R.D_ANASTROZOLE, 125) == 0
    assert dose(R.D_ANASTROZOLE, 124) == R.ERR_CONFIRM
    assert dose(R.D_ANASTROZOLE, 124, R.FLAG_CONFIRMED) == 0
    assert dose(R.D_ANASTROZOLE, 1001) == R.ERR_CONFIRM
    assert dose(R.D_ANASTROZOLE, 10001, R.FLAG_CONFIRMED) == R.ERR_RANGE
    assert dose(R.D_ANASTROZOLE, 0, R.FLAG_CONFIRMED) == 0 and dose(R.D_ANASTROZOLE, 0) == 0   # a STOP
    assert dose(R.D_ANASTROZOLE, 1000, 0, 6000) == 0
    assert dose(R.D_ANASTROZOLE, 1000, 0, 6001) == R.ERR_CONFIRM_WEEK
    assert dose(R.D_TESTOSTERONE, 200000, 0, 200000) == 0                      # µg: 400 mg a week
    assert dose(R.D_TESTOSTERONE, 200000, 0, 200001) == R.ERR_CONFIRM_WEEK
    assert dose(R.D_TESTOSTERONE, 1000) == 0                                   # 1 mg
    assert dose(R.D_TESTOSTERONE, 999, R.FLAG_CONFIRMED) == R.ERR_RANGE
    assert dose(R.D_TESTOSTERONE, 2000000, R.FLAG_CONFIRMED) == 0
    assert dose(R.D_TESTOSTERONE, 2000001, R.FLAG_CONFIRMED) == R.ERR_RANGE
    assert dose(2, 100) == R.ERR_CODE
    assert validate.check_entry(R.KIND_SYMPTOM, R.S_JOINT, 3, 0, 10, 0, 10) == 0
    assert validate.check_entry(R.KIND_SYMPTOM, R.S_JOINT, 4, 0, 10, 0, 10) == R.ERR_SEVERITY
    assert validate.check_entry(R.KIND_SYMPTOM, 13, 1, 0, 10, 0, 10) == R.ERR_CODE
    assert validate.check_entry(4, 0, 1, 0, 10, 0, 10) == R.ERR_KIND


def test_civil_dates_round_trip():
    assert dates.parse_day("2000-01-01") == 0
    assert dates.parse_day("2026-01-04") == 9500
    assert dates.format_day(9500) == "2026-01-04"
    assert dates.format_day(65535) == "2179-06-06"
    for n in range(0, 65536, 97):
        y, m, d = dates.civil_from_days(n)
        assert dates.days_from_civil(y, m, d) == n
        assert dates.year_of_day(n) == y
    for bad in ("2026-02-29", "2026-13-01", "2026-1-01", "1999-12-31", "abcd-ef-gh"):
        try:
            dates.parse_day(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    assert dates.parse_day("2024-02-29") == dates.parse_day("2024-02-28") + 1


def test_record_layout_round_trip():
    buf = bytearray(R.RECORD_SIZE)
    R.pack_record(buf, 0, 7, 9500, 61, R.KIND_LAB, R.A_BMD_T, -25, R.FLAG_SI)
    assert R.record_ok(buf)
    assert R.unpack_record(buf) == (7, 9500, 61, R.KIND_LAB, R.A_BMD_T, -25, R.FLAG_SI)


def test_a_host_cannot_set_flag_clinic():
    # Only the device marks an entry as the clinic's (monitor.app, a clinician session); from a host it is refused.
    day = 9000
    cases = ((R.KIND_LAB, R.A_E2, 100, R.FLAG_CONFIRMED), (R.KIND_DOSE, R.D_ANASTROZOLE, 500, 0),
             (R.KIND_SYMPTOM, R.S_GYNO, 1, 0))
    for kind, code, value, flags in cases:
        assert validate.check_entry(kind, code, value, flags, day, 600, day) == R.ERR_OK
        assert validate.check_entry(kind, code, value, flags | R.FLAG_CLINIC, day, 600, day) == R.ERR_FLAGS
