"""The rule profile as a file a clinician can read and edit.

One `NAME = VALUE [UNIT]` per line, `#` starts a comment. Names are
monitor.param_names.PARAM_NAMES. Lab thresholds carry their unit and may be written
in any unit monitor.records accepts for that analyte (converted exactly, as an
entry would be); goal and rule levels are words; everything else is an integer
(days, months, years, tenths for TE_RATIO). A name left out keeps its value in `base`
(the device's profile for `profile set`, the defaults for `--replace` and `profile check`).

- `to_text(profile) -> str`   (every parameter, with the rule's source as a comment)
- `parse(text, name="profile", base=None) -> profile.Profile`   raises `ProfileFileError("name line N: ...")`
- `check(profile, name)`   the device's checks (bounds, ordered ladders) and the host's birth-year check
- `differences(old, new) -> [(NAME, old text, new text)]`
"""
import datetime

from host_tools.failures import clip
from monitor import profile as P
from monitor import catalog, dates, profile_codec, records, schedule, texts, units
from monitor.param_names import PARAM_NAMES


class ProfileFileError(ValueError):
    pass


# Parameters of older profile versions, with what replaced them (older profiles migrate on their own).
RETIRED = {"E2_ABOVE": "E2_ABOVE follows the top of the target band: set E2_TARGET_HIGH instead"}


def _value_text(i, value):
    name = PARAM_NAMES[i]
    if i >= P.P_LEVELS:
        return catalog.level_name(value)
    if i == P.P_GOAL:
        return catalog.GOALS[value] if 0 <= value < len(catalog.GOALS) else str(value)
    analyte = profile_codec.param_analyte(i)
    if analyte >= 0:
        return texts.format_value(records.KIND_LAB, analyte, value)
    if name == "FRACTURE_HISTORY":
        return "yes" if value else "no"
    return str(value)


def _comment(i):
    if i >= P.P_LEVELS:
        rule = i - P.P_LEVELS
        return "rule %s, source %s" % (catalog.RULES[rule], texts.RULE_SOURCES[rule])
    name = PARAM_NAMES[i]
    for r in range(schedule.REMINDER_COUNT):
        if name.startswith(catalog.REMINDERS[r] + "_") and name[len(catalog.REMINDERS[r]) + 1:] in (
                "DUE", "EARLY", "LATE"):
            return "days; reminder %s, source %s" % (catalog.REMINDERS[r], texts.REMINDER_SOURCES[r])
    if name.endswith("_DAYS") or name.endswith("_DUE"):
        return "days"
    if name.endswith("_MONTHS"):
        return "months"
    if name == "TE_RATIO":
        return "T (ng/dL) : E2 (pg/mL), in tenths"
    if name == "BIRTH_YEAR":
        return "0 = unknown"
    if name == "BIRTH_MONTH_DAY":
        return "MMDD, e.g. 615 for June 15; 0 = unknown"
    if name == "ACK_GRACE":
        return "days a drawn (Done) reminder stays muted while its result is awaited"
    if name == "DOSE_CHANGE_PCT":
        return "% change of the 14-day dose total that counts as a dose change"
    return ""


def to_text(profile):
    lines = ["# e2mon rule profile. Every value is a default the clinician may change;",
             "# the device flags and explains, it never suggests a dose.",
             "# Levels: off, info, discuss, urgent. Goal: %s." % ", ".join(catalog.GOALS)]
    for i in range(P.PARAM_COUNT):
        text = "%s = %s" % (PARAM_NAMES[i], _value_text(i, profile.params[i]))
        comment = _comment(i)
        lines.append("%-40s # %s" % (text, comment) if comment else text)
    return "\n".join(lines) + "\n"


def _decimal(text):
    """'38.5' -> (385, 1); '-2' -> (-2, 0); ValueError otherwise."""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    whole, _, frac = body.partition(".")
    if not (whole or frac) or not (whole or "0").isdigit() or (frac and not frac.isdigit()):
        raise ValueError("not a number")
    return sign * int((whole or "0") + frac), len(frac)


def _parse_value(i, words):
    name = PARAM_NAMES[i]
    if i >= P.P_LEVELS:
        word = " ".join(words).lower()
        if word == "off":
            return P.LEVEL_OFF
        if word in catalog.LEVELS:
            return catalog.LEVELS.index(word)
        raise ValueError("level must be off, %s" % ", ".join(catalog.LEVELS))
    if i == P.P_GOAL:
        word = " ".join(words).lower()
        if word in catalog.GOALS:
            return catalog.GOALS.index(word)
        raise ValueError("goal must be one of %s" % ", ".join(catalog.GOALS))
    if name == "FRACTURE_HISTORY" and len(words) == 1 and words[0].lower() in ("yes", "no"):
        return 1 if words[0].lower() == "yes" else 0
    analyte = profile_codec.param_analyte(i)
    if analyte >= 0:
        if len(words) != 2:
            raise ValueError("write a number and its unit, e.g. %s" % _value_text(i, P.Profile().params[i]))
        mantissa, decimals = _decimal(words[0])
        try:
            stored, _is_si = units.convert_entry(records.KIND_LAB, analyte, mantissa, decimals, words[1])
        except records.EntryError as exc:
            accepted = ", ".join(row[0] for row in units.units_for(records.KIND_LAB, analyte))
            raise ValueError("%s (units accepted: %s)" % (exc, accepted)) from None
        return stored
    if len(words) != 1:
        raise ValueError("write a whole number")
    mantissa, decimals = _decimal(words[0])
    if decimals:
        raise ValueError("write a whole number")
    return mantissa


def copy(profile):
    twin = P.Profile()
    twin.params[:] = profile.params
    return twin


def parse(text, name="profile", base=None, cross_check=True, base_label="the default profile"):
    """`base` (default: the defaults) with the file's NAME = VALUE lines applied, then checked
    (each value alone always; with cross_check, the whole profile: ladders, birth year). A fault with a
    parameter the file does not name says where that value comes from (`base_label`).

    A file that names no parameter is refused: it would change nothing, which is never what was meant."""
    profile = P.Profile() if base is None else copy(base)
    seen = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key = key.strip().upper()
        where = "%s line %d" % (name, number)
        if not sep or not value.strip():
            raise ProfileFileError("%s: expected NAME = VALUE, got %s" % (where, clip(raw.strip())))
        if key in RETIRED:
            raise ProfileFileError("%s: %s" % (where, RETIRED[key]))
        if key not in PARAM_NAMES:
            raise ProfileFileError("%s: unknown parameter %s" % (where, clip(key)))
        if key in seen:
            raise ProfileFileError("%s: %s already set on line %d" % (where, key, seen[key]))
        seen[key] = number
        i = PARAM_NAMES.index(key)
        try:
            parsed = _parse_value(i, value.split())
        except ValueError as exc:
            raise ProfileFileError("%s: %s: %s" % (where, key, exc)) from None
        low, high = profile_codec.param_bounds(i)
        if not low <= parsed <= high:   # in the units the file is written in, not the stored integers
            raise ProfileFileError("%s: %s = %s is outside %s to %s" % (
                where, key, _value_text(i, parsed), _value_text(i, low), _value_text(i, high)))
        profile.params[i] = parsed
    if not seen:
        raise ProfileFileError("%s sets no parameter: write NAME = VALUE lines (e2mon profile show --default "
                               "prints them all)" % name)
    if cross_check:
        check(profile, name, named={PARAM_NAMES.index(key) for key in seen}, base_label=base_label)
    return profile


OLDEST_PATIENT_YEARS = 110
YOUNGEST_PATIENT_YEARS = 18


def ladder_text(profile, name="profile", named=None, base_label="the default profile"):
    """The first threshold out of order, in words with the values ("E2_TARGET_HIGH = 14 pg/mL must be above
    E2_BONE = 26 pg/mL (from ..., not set in FILE)"), the file's own parameter first; "" if none is."""
    bad = profile_codec.ladder_fault(profile.params)
    if not bad:
        return ""
    low, high, strict = bad

    def said(i):
        text = "%s = %s" % (PARAM_NAMES[i], _value_text(i, profile.params[i]))
        return text if named is None or i in named else "%s (from %s, not set in %s)" % (text, base_label, name)
    first, second = (low, high) if named is None or low in named or high not in named else (high, low)
    relation = ("below" if strict else "at most") if first == low else ("above" if strict else "at least")
    return "%s must be %s %s" % (said(first), relation, said(second))


def check(profile, name="profile", this_year=None, named=None, base_label="the default profile"):
    """The device's own check (bounds, ladders in monitor.profile_codec) with the values in words,
    then the birth year against today's date, which only the host can check (the device's clock may
    be unset when it reads its profile at boot). named: the parameters the file sets (None: all); one it
    does not set is said to come from `base_label`."""
    fault = ladder_text(profile, name, named, base_label)
    if fault:
        raise ProfileFileError("%s: %s" % (name, fault))
    try:
        profile_codec.check(profile)
    except ValueError as exc:
        raise ProfileFileError("%s: %s" % (name, exc)) from None
    year = profile.params[P.P_BIRTH_YEAR]
    month_day = profile.params[P.P_BIRTH_MONTH_DAY]
    month, day = divmod(month_day, 100)
    if month_day and not (1 <= month <= 12 and 1 <= day <= dates.days_in_month(2000, month)):
        raise ProfileFileError("%s: BIRTH_MONTH_DAY = %d is not a month and day as MMDD (0 means unknown)" % (
            name, month_day))
    this_year = this_year or datetime.date.today().year
    if year and not (this_year - OLDEST_PATIENT_YEARS <= year <= this_year - YOUNGEST_PATIENT_YEARS):
        raise ProfileFileError("%s: BIRTH_YEAR = %d is not %d-%d years ago (0 means unknown)" % (
            name, year, YOUNGEST_PATIENT_YEARS, OLDEST_PATIENT_YEARS))


def differences(old, new):
    """Parameters whose value differs, in profile order: (NAME, old text, new text)."""
    return [(PARAM_NAMES[i], _value_text(i, old.params[i]), _value_text(i, new.params[i]))
            for i in range(P.PARAM_COUNT) if old.params[i] != new.params[i]]


def stored_profile(db, device_id):
    """The device's profile as last read into the host's database (older versions migrated), or the
    defaults when there is none the host can read."""
    info = db.device(device_id) or {}
    if info.get("profile"):
        try:
            return profile_codec.decode(bytes(info["profile"]))
        except ValueError:
            pass
    return P.Profile()


def birth_date_text(profile):
    """The birth date as far as the profile knows it: "1975-06-15", "1975" (year alone) or ""."""
    year = profile.params[P.P_BIRTH_YEAR]
    month_day = profile.params[P.P_BIRTH_MONTH_DAY]
    if not year:
        return ""
    return "%04d-%02d-%02d" % (year, month_day // 100, month_day % 100) if month_day else "%04d" % year


PATIENT_FIELDS = (P.P_BIRTH_YEAR, P.P_GOAL, P.P_FRACTURE_HISTORY, P.P_PLANNED_MONTHS, P.P_BIRTH_MONTH_DAY)


def patient_document(profile):
    """The patient's settings as a history file's "patient" object (host_tools.history)."""
    patient = {}
    birth = birth_date_text(profile)
    if len(birth) == 10:
        patient["birth_date"] = birth
    else:
        patient["birth_year"] = profile.params[P.P_BIRTH_YEAR]
    patient["planned_months"] = profile.params[P.P_PLANNED_MONTHS]
    goal = profile.params[P.P_GOAL]
    patient["goal"] = catalog.GOALS[goal] if 0 <= goal < len(catalog.GOALS) else goal
    patient["fracture_history"] = bool(profile.params[P.P_FRACTURE_HISTORY])
    return patient


def rules_document(profile):
    """Every rule parameter as a history file's "profile" object, in the units people read: lab
    thresholds as "55 pg/mL", rule levels as words, the T:E ratio as a decimal, days as integers."""
    out = {}
    for i in range(P.P_LEVELS):
        if i in PATIENT_FIELDS:
            continue
        value = profile.params[i]
        analyte = profile_codec.param_analyte(i)
        if analyte >= 0:
            value = texts.format_value(records.KIND_LAB, analyte, value)
        elif i == P.P_TE_RATIO:
            value = value // 10 if value % 10 == 0 else value / 10
        out[PARAM_NAMES[i]] = {"threshold": value}
    for rule in range(len(catalog.RULES)):   # a rule named like its threshold (E2_HIGH) gets both fields
        out.setdefault(catalog.RULES[rule], {})["level"] = catalog.level_name(profile.params[P.P_LEVELS + rule])
    return out


def to_document(profile):
    """The whole profile as JSON `profile set` (and `evaluate`) reads back: {"patient": ..., "profile": ...}."""
    return {"patient": patient_document(profile), "profile": rules_document(profile)}


def set_birth_date(profile, text):
    """Sets BIRTH_YEAR and BIRTH_MONTH_DAY from "YYYY-MM-DD"; ValueError for anything else."""
    if not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError("date must be YYYY-MM-DD")
    born = datetime.date.fromisoformat(text)
    profile_codec.set_param(profile, "BIRTH_YEAR", born.year)
    profile_codec.set_param(profile, "BIRTH_MONTH_DAY", born.month * 100 + born.day)


def param_names():
    return PARAM_NAMES
