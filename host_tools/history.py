"""A therapy history file (JSON) read into the core's integer entries.

Parsing only: every conversion and validation is monitor.records / monitor.units (one copy). Numbers
are read exactly (json with parse_float=Decimal) and become (mantissa, decimals) pairs; "55 pg/mL"
strings carry their unit. Structural problems raise HistoryError naming the entry and field; an entry
the core refuses raises records.EntryError (the caller lists it as rejected, and the rest go on).

File: {"at": "YYYY-MM-DD" (optional), "patient": {...}, "profile": {...}, "entries": [...]}
- patient: birth_year or birth_date (YYYY-MM-DD), goal (trt | fertility | estrogen_control), fracture_history
  (bool), planned_months.
- profile (optional), by rule, band or reminder ID: {"E2_HIGH": {"threshold": "55 pg/mL"}} (lab thresholds
  need a unit, SI accepted), {"E2_TARGET": {"low": "20 pg/mL", "high": "35 pg/mL"}},
  {"C1": {"level": "info" | "discuss" | "urgent" | "off"}}, {"TE_RATIO": {"threshold": 8}},
  {"RECHECK": {"due_days": 21, "early_days": 7, "late_days": 14}}, {"E2_PERSIST_DAYS": {"threshold": 21}}.
- entries, each with "date" (and optional "time" HH:MM):
  lab: analyte (catalog.ANALYTES), value + unit or "value": "65 pg/mL", method (unknown | immunoassay |
  LC-MS/MS), below_lloq (the value is the lab's limit), confirmed (an unusual value was checked);
  dose: drug (anastrozole | testosterone), amount + unit, confirmed, or "stop": true (the drug stopped);
  symptom: code (catalog.SYMPTOMS), severity 0-3; event: "event" TAPER_START | TAPER_END | GOAL (+ "goal") |
  ACK (+ "reminder" or "rule") | SNOOZE (+ "reminder", "days" 1-7). A lab, dose or symptom may say "entered_by": "clinic" (the default) or
  "patient" (flags resting on it say so, as the device's do).
"""
import decimal
import json

from host_tools.profile_file import RETIRED, ladder_text, set_birth_date
from monitor import catalog, dates, profile_codec, records, schedule, units
from monitor import profile as P
from monitor.param_names import PARAM_NAMES


class HistoryError(ValueError):
    pass


def load(text, name="history"):
    try:
        doc = json.loads(text, parse_float=decimal.Decimal)
    except json.JSONDecodeError as exc:
        raise HistoryError("%s: not valid JSON (%s)" % (name, exc)) from None
    except RecursionError:
        raise HistoryError("%s: nested too deeply to be a history file" % name) from None
    if not isinstance(doc, dict):
        raise HistoryError("%s: the top level must be an object" % name)
    if not isinstance(doc.get("entries"), list):
        raise HistoryError("%s: field 'entries' must be a list" % name)
    return doc


def exact(number, where):
    """A JSON number (int or Decimal) or numeric string -> (mantissa, decimals), exactly."""
    if isinstance(number, bool) or not isinstance(number, (int, decimal.Decimal, str)):
        raise HistoryError("%s must be a number" % where)
    try:
        d = decimal.Decimal(number) if not isinstance(number, decimal.Decimal) else number
    except decimal.InvalidOperation:
        raise HistoryError("%s must be a number, not %r" % (where, number)) from None
    if not d.is_finite():
        raise HistoryError("%s must be a finite number" % where)
    sign, digits, exponent = d.as_tuple()
    mantissa = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent >= 0:
        return mantissa * 10 ** exponent, 0
    return mantissa, -exponent


def value_and_unit(entry, where, default_unit=None):
    """(mantissa, decimals, unit) from "value": 55 with "unit", or "value": "55 pg/mL"."""
    if "value" not in entry and "amount" not in entry:
        raise HistoryError("%s: field 'value' is missing" % where)
    key = "value" if "value" in entry else "amount"
    raw = entry[key]
    unit = entry.get("unit", default_unit)
    if isinstance(raw, str) and " " in raw.strip():
        number, unit = raw.strip().split(None, 1)
        raw = number
    if not isinstance(unit, str):
        raise HistoryError("%s: field 'unit' is missing" % where)
    mantissa, decimals = exact(raw, "%s: field '%s'" % (where, key))
    return mantissa, decimals, unit


def day_of(text, where):
    try:
        return dates.parse_day(text)
    except ValueError as exc:
        raise HistoryError("%s: %s (got %r)" % (where, exc, text)) from None


def _name_index(names, value, where, what):
    if not isinstance(value, str):
        raise HistoryError("%s: field '%s' must be a string" % (where, what))
    for i, n in enumerate(names):
        if n.lower() == value.lower():
            return i
    return -1


def build_profile(doc, name="history", base=None, base_label="the default profile"):
    """A profile.Profile from the file's "patient" and "profile" objects (`base`, else defaults, for the rest;
    a threshold out of order that the file left alone is said to come from `base_label`)."""
    profile = P.Profile()
    if base is not None:
        profile.params[:] = base.params
    patient = doc.get("patient", {})
    if not isinstance(patient, dict):
        raise HistoryError("%s: 'patient' must be an object" % name)
    settings = (("birth_year", "BIRTH_YEAR"), ("planned_months", "PLANNED_MONTHS"))
    for key, param in settings:
        if key in patient:
            if not isinstance(patient[key], int) or isinstance(patient[key], bool):
                raise HistoryError("%s: patient field '%s' must be an integer" % (name, key))
            _set(profile, param, patient[key], "%s: patient field '%s'" % (name, key))
    if "birth_date" in patient:
        try:
            set_birth_date(profile, patient["birth_date"])
        except (ValueError, TypeError):
            raise HistoryError("%s: patient field 'birth_date' must be a date YYYY-MM-DD" % name) from None
    if "fracture_history" in patient:
        if not isinstance(patient["fracture_history"], bool):
            raise HistoryError("%s: patient field 'fracture_history' must be true or false" % name)
        profile_codec.set_param(profile, "FRACTURE_HISTORY", int(patient["fracture_history"]))
    if "goal" in patient:
        goal = _name_index(catalog.GOALS, patient["goal"], name + ": patient", "goal")
        if goal < 0:
            raise HistoryError("%s: patient field 'goal' must be one of %s" % (name, ", ".join(catalog.GOALS)))
        profile_codec.set_param(profile, "GOAL", goal)
    overrides = doc.get("profile", {})
    if not isinstance(overrides, dict):
        raise HistoryError("%s: 'profile' must be an object" % name)
    for key, spec in overrides.items():
        _override(profile, key, spec, "%s: profile '%s'" % (name, key))
    start = base.params if base is not None else P.Profile().params
    changed = {i for i in range(P.PARAM_COUNT) if profile.params[i] != start[i]}
    fault = ladder_text(profile, name, changed, base_label)   # in words, as a profile file's check gives them
    if fault:
        raise HistoryError("%s: %s" % (name, fault))
    try:
        profile_codec.check(profile)
    except ValueError as exc:
        raise HistoryError("%s: %s" % (name, exc)) from None
    return profile


def _convert(kind, code, mantissa, decimals, unit, limit=False):
    # units.convert_entry; a refused precision says what the unit takes (as `e2mon push` does)
    try:
        return units.convert_entry(kind, code, mantissa, decimals, unit, limit)
    except records.EntryError as exc:
        if exc.code == records.ERR_PRECISION:
            exc.detail = units.precision_text(kind, code, unit)
        raise


def _set(profile, param, value, where):
    try:
        profile_codec.set_param(profile, param, value)
    except ValueError as exc:
        raise HistoryError("%s: %s" % (where, exc)) from None


def _threshold(profile, param, raw, where):
    i = profile_codec.param_index(param)
    analyte = profile_codec.param_analyte(i)
    if analyte >= 0:
        if not isinstance(raw, str) or " " not in raw.strip():
            raise HistoryError("%s: give the threshold with its unit, e.g. \"55 pg/mL\"" % where)
        number, unit = raw.strip().split(None, 1)
        mantissa, decimals = exact(number, where)
        try:
            value, _ = units.convert_entry(records.KIND_LAB, analyte, mantissa, decimals, unit)
        except records.EntryError as exc:
            raise HistoryError("%s: %s" % (where, exc)) from None
    elif param == "TE_RATIO":
        mantissa, decimals = exact(raw, where)
        value = mantissa * 10 // 10 ** decimals if decimals <= 1 else None
        if value is None or mantissa * 10 % 10 ** decimals:
            raise HistoryError("%s: the ratio takes at most one decimal" % where)
    else:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise HistoryError("%s must be an integer" % where)
        value = raw
    _set(profile, param, value, where)


def _override(profile, key, spec, where):
    if not isinstance(spec, dict):
        raise HistoryError("%s must be an object" % where)
    for field, raw in spec.items():
        here = "%s field '%s'" % (where, field)
        if key in RETIRED and field != "level":   # E2_ABOVE the rule keeps its level
            raise HistoryError("%s: %s" % (where, RETIRED[key]))
        if field == "threshold":
            if key not in PARAM_NAMES:
                raise HistoryError("%s: no threshold named %s" % (here, key))
            _threshold(profile, key, raw, here)
        elif field in ("low", "high"):
            param = "%s_%s" % (key, field.upper())
            if param not in PARAM_NAMES:
                raise HistoryError("%s: %s has no band" % (here, key))
            _threshold(profile, param, raw, here)
        elif field == "level":
            if key not in catalog.RULES:
                raise HistoryError("%s: no rule named %s" % (here, key))
            levels = list(catalog.LEVELS) + ["off"]
            if raw not in levels:
                raise HistoryError("%s must be one of %s" % (here, ", ".join(levels)))
            level = levels.index(raw) if raw != "off" else P.LEVEL_OFF
            _set(profile, "LEVEL_" + key, level, here)
        elif field in ("due_days", "early_days", "late_days"):
            param = "%s_%s" % (key, field[:-5].upper())
            if param not in PARAM_NAMES:
                raise HistoryError("%s: no reminder named %s" % (here, key))
            _threshold(profile, param, raw, here)
        else:
            raise HistoryError("%s: unknown field" % here)


EVENT_KINDS = {"TAPER_START": records.EVENT_TAPER_START, "TAPER_END": records.EVENT_TAPER_END,
               "GOAL": records.EVENT_GOAL, "ACK": records.EVENT_ACK, "SNOOZE": records.EVENT_SNOOZE}


def _entered_by(entry, where):
    """records.FLAG_CLINIC unless the entry says "entered_by": "patient" (an export of a device's log says
    who entered each record; a history written by hand is the clinician's)."""
    by = entry.get("entered_by", "clinic")
    if by not in ("clinic", "patient"):
        raise HistoryError("%s: field 'entered_by' must be clinic or patient" % where)
    return records.FLAG_CLINIC if by == "clinic" else 0


def parse_entry(entry, index):
    """One entry -> (day, kind, code, mantissa, decimals, unit, flags) or (day, kind, code, value, flags)
    as a dict; raises HistoryError for structure, records.EntryError for a refused value."""
    where = "entry %d" % index
    if not isinstance(entry, dict):
        raise HistoryError("%s: must be an object" % where)
    kind = entry.get("kind")
    if "date" not in entry:
        raise HistoryError("%s: field 'date' is missing" % where)
    day = day_of(entry["date"], "%s: field 'date'" % where)
    minute = 0
    if "time" in entry:
        t = entry["time"]
        if not isinstance(t, str) or len(t) != 5 or t[2] != ":" or not (t[:2] + t[3:]).isdigit():
            raise HistoryError("%s: field 'time' must be HH:MM" % where)
        minute = int(t[:2]) * 60 + int(t[3:])
    if kind == "lab":
        code = _name_index(catalog.ANALYTES, entry.get("analyte"), where, "analyte")
        if code < 0:
            raise records.EntryError(records.ERR_CODE)
        mantissa, decimals, unit = value_and_unit(entry, where)
        value, is_si = _convert(records.KIND_LAB, code, mantissa, decimals, unit, entry.get("below_lloq") is True)
        flags = records.FLAG_SI if is_si else 0
        method = entry.get("method", "unknown")
        m = _name_index(catalog.METHODS, method, where, "method")
        if m < 0:
            raise HistoryError("%s: field 'method' must be one of %s" % (where, ", ".join(catalog.METHODS)))
        flags |= m
        for key, bit in (("below_lloq", records.FLAG_BELOW_LLOQ), ("confirmed", records.FLAG_CONFIRMED)):
            if key in entry:
                if not isinstance(entry[key], bool):
                    raise HistoryError("%s: field '%s' must be true or false" % (where, key))
                if entry[key]:
                    flags |= bit
        return day, minute, records.KIND_LAB, code, value, flags | _entered_by(entry, where)
    if kind == "dose":
        code = _name_index(catalog.DRUGS, entry.get("drug"), where, "drug")
        if code < 0:
            raise records.EntryError(records.ERR_CODE)
        flags = records.FLAG_CONFIRMED if entry.get("confirmed") is True else 0
        if "stop" in entry:
            if entry["stop"] is not True or "value" in entry or "amount" in entry:
                raise HistoryError("%s: field 'stop' must be true, with no amount (the drug was stopped)" % where)
            return day, minute, records.KIND_DOSE, code, 0, _entered_by(entry, where)
        mantissa, decimals, unit = value_and_unit(entry, where)
        value, _ = _convert(records.KIND_DOSE, code, mantissa, decimals, unit)
        if value == 0:
            raise HistoryError("%s: a dose of 0: write \"stop\": true for a drug stopped" % where)
        return day, minute, records.KIND_DOSE, code, value, flags | _entered_by(entry, where)
    if kind == "symptom":
        code = _name_index(catalog.SYMPTOMS, entry.get("code"), where, "code")
        if code < 0:
            raise records.EntryError(records.ERR_CODE)
        severity = entry.get("severity")
        if not isinstance(severity, int) or isinstance(severity, bool):
            raise HistoryError("%s: field 'severity' must be an integer 0-3" % where)
        return day, minute, records.KIND_SYMPTOM, code, severity, _entered_by(entry, where)
    if kind == "event":
        name = entry.get("event")
        if name not in EVENT_KINDS:
            raise HistoryError("%s: field 'event' must be one of %s" % (where, ", ".join(EVENT_KINDS)))
        code = EVENT_KINDS[name]
        value = flags = 0
        if name == "GOAL":
            value = _name_index(catalog.GOALS, entry.get("goal"), where, "goal")
            if value < 0:
                raise HistoryError("%s: field 'goal' must be one of %s" % (where, ", ".join(catalog.GOALS)))
        elif name in ("ACK", "SNOOZE"):
            if "reminder" in entry:
                try:
                    value = catalog.reminder_index(entry["reminder"])
                except ValueError:
                    raise HistoryError("%s: field 'reminder' is not a reminder ID" % where) from None
            elif name == "ACK" and "rule" in entry:
                try:
                    value = 64 + catalog.rule_index(entry["rule"])
                except ValueError:
                    raise HistoryError("%s: field 'rule' is not a rule ID" % where) from None
            else:
                raise HistoryError("%s: field 'reminder' is missing" % where)
            if name == "SNOOZE":
                days = entry.get("days")
                if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= schedule.SNOOZE_MAX:
                    raise HistoryError("%s: field 'days' must be an integer 1-%d (a snooze lasts a week at most)"
                                       % (where, schedule.SNOOZE_MAX))
                flags = days
        return day, minute, records.KIND_EVENT, code, value, flags
    raise HistoryError("%s: field 'kind' must be lab, dose, symptom or event" % where)
