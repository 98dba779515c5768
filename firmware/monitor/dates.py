# Calendar dates as day numbers: days since 2000-01-01 (the record layout's u16 day).
# Integer civil-from-days algorithm (H. Hinnant), every intermediate far below 2**30.
DAY_MAX = 65535          # u16 in the record; 2179-06-06
EPOCH_SHIFT = 730425     # days from 0000-03-01 to 2000-01-01 in the proleptic Gregorian calendar


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year, month, day):
    # Day number of a calendar date; raises ValueError outside 2000-01-01..DAY_MAX.
    if not (1 <= month <= 12) or not (1 <= day <= days_in_month(year, month)):
        raise ValueError("no such date")
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    n = era * 146097 + doe - EPOCH_SHIFT
    if not (0 <= n <= DAY_MAX):
        raise ValueError("date outside 2000-01-01..2179-06-06")
    return n


def _split(n):
    # (year, month, day) without bounds checks; n may be any day number >= -EPOCH_SHIFT
    z = n + EPOCH_SHIFT
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def civil_from_days(n):
    # (year, month, day) of a day number.
    return _split(n)


def year_of_day(n):
    # Calendar year of a day number, without building a tuple (used in evaluation).
    z = n + EPOCH_SHIFT
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return yoe + era * 400 + (1 if mp >= 10 else 0)


def month_day_of_day(n):
    # Month and day of a day number as MMDD (1231 for December 31), without building a tuple.
    z = n + EPOCH_SHIFT
    doe = z - (z // 146097) * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return (mp + 3 if mp < 10 else mp - 9) * 100 + doy - (153 * mp + 2) // 5 + 1


def weekday(n):
    # 0 = Monday, as machine.RTC and time.localtime count (2000-01-01 was a Saturday).
    return (n + 5) % 7


def format_day(n):
    y, m, d = _split(n)
    return "%04d-%02d-%02d" % (y, m, d)


def parse_day(text):
    # 'YYYY-MM-DD' -> day number; raises ValueError with a plain message.
    if not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError("date must be YYYY-MM-DD")
    parts = (text[0:4], text[5:7], text[8:10])
    for p in parts:
        for ch in p:
            if ch < "0" or ch > "9":
                raise ValueError("date must be YYYY-MM-DD")
    return days_from_civil(int(parts[0]), int(parts[1]), int(parts[2]))
