"""Turning stored records into what people read: rows with units, CSV and JSON.

Every name, unit, LOINC code and scale comes from `monitor.records`; the
functions below only look them up (`catalog`). A stored integer becomes an
exact `Decimal` in the stored unit (`display_value`).

- `catalog(kind, code) -> Entry` (name, unit, ucum, loinc, decimals, known); a code this host does not know
  (newer firmware) gets an Entry with known False: its record is exported with its raw value, said so
- `display_value(kind, code, value) -> Decimal`
- `rows(db, device_id) -> iterator of dicts` (one per record, events included; an event's value in words,
  `event_text`; a lab result below the lab's limit of quantitation has comparator "<" and shown "<24 pg/mL";
  an SI entry pushed from this host has entered_as "150 pmol/L" next to the stored value)
- `Window(db, since, until)`: the database seen through a date range (`export --since/--until`); every
  writer takes it in place of the database
- `write_csv(db, device_id, out)`, `write_json(db, device_id, out)`
- `write_history(db, device_id, out)`: the log as an `e2mon evaluate` history file (host_tools.history's
  format: exact values with their units, the patient settings and every rule parameter of the device's
  profile), for what-if review
"""
import csv
import datetime
import json
from decimal import Decimal

from monitor import dates, profile_codec, protocol_host, records, schedule, texts, units
from monitor.catalog import (
    ANALYTES, DOSE_DECIMALS, DRUGS, GOALS, LAB_DECIMALS, LOINC, METHODS, REMINDERS, RULES, SYMPTOMS,
)

EPOCH = datetime.date(2000, 1, 1)
# comparator: "<" for a lab result below the lab's limit of quantitation (value is that limit; FHIR's
# valueQuantity.comparator), else empty; shown: the value as people read it ("<24 pg/mL"); status: final,
# entered-in-error (voided), amended (a later record replaces it) or amendment (it replaces one), and the
# correction in words with its reason (host_tools.corrections); entered_as: an SI value as typed on this host.
CSV_FIELDS = ("device_id", "label", "seq", "date", "time", "kind", "code", "name", "comparator", "value", "unit",
              "shown", "method", "below_lloq", "confirmed", "entered_si", "entered_by", "unknown_code", "raw_value",
              "raw_flags", "status", "correction", "entered_as")
CODE_COUNTS = {records.KIND_LAB: len(ANALYTES), records.KIND_DOSE: len(DRUGS), records.KIND_SYMPTOM: len(SYMPTOMS),
               records.KIND_EVENT: len(records.EVENT_NAMES)}


class Entry:
    __slots__ = ("kind", "code", "name", "unit", "ucum", "loinc", "decimals", "known")

    def __init__(self, kind, code, name, unit, ucum, loinc, decimals, known=True):
        self.kind, self.code, self.name, self.unit = kind, code, name, unit
        self.ucum, self.loinc, self.decimals, self.known = ucum, loinc, decimals, known


def known(kind, code):
    """True if this host knows what (kind, code) means (a newer firmware may log codes it does not)."""
    return 0 <= code < CODE_COUNTS.get(kind, 0)


def unknown_note(count):
    return ("%d record%s with codes this version of e2mon does not know (written by newer firmware?): exported "
            "with their raw values, left out of the picture and the flags; update e2mon"
            % (count, "" if count == 1 else "s"))


_CATALOG = {}


def catalog(kind, code):
    """What a (kind, code) means, from monitor.records (known False for a code this host does not know)."""
    key = (kind, code)
    entry = _CATALOG.get(key)
    if entry is None:
        entry = _CATALOG[key] = _lookup(kind, code)
    return entry


def _lookup(kind, code):
    if not known(kind, code):
        kind_name = records.KIND_NAMES[kind] if 0 <= kind < len(records.KIND_NAMES) else "record"
        return Entry(kind, code, "unknown %s code %d" % (kind_name, code), "", "", None, 0, known=False)
    if kind == records.KIND_LAB:
        unit = units.units_for(kind, code)[0][0]   # the conventional unit the value is stored in
        return Entry(kind, code, ANALYTES[code], unit, units.ucum(unit), LOINC[code],
                     LAB_DECIMALS[code])
    if kind == records.KIND_DOSE:
        unit = units.units_for(kind, code)[0][0]
        return Entry(kind, code, DRUGS[code], unit, units.ucum(unit), None, DOSE_DECIMALS[code])
    if kind == records.KIND_SYMPTOM:
        return Entry(kind, code, SYMPTOMS[code], "severity 0-3", "{score}", None, 0)
    if kind == records.KIND_EVENT:
        return Entry(kind, code, records.EVENT_NAMES[code], "", "", None, 0)
    raise KeyError("unknown record kind %r" % (kind,))


def display_value(kind, code, value):
    """The stored integer as an exact decimal in the stored unit (e.g. 385 -> 38.5 pg/mL)."""
    decimals = catalog(kind, code).decimals
    return Decimal(value).scaleb(-decimals) if decimals else Decimal(value)


def day_date(day):
    return EPOCH + datetime.timedelta(days=day)


_DAY_TEXT = {}


def day_text(day):
    """'YYYY-MM-DD' of a day number (monitor.dates, cached: logs repeat days)."""
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = dates.format_day(day)
    return text


def iso_datetime(day, minute):
    return "%sT%02d:%02d:00" % (day_text(day), minute // 60, minute % 60)


def lab_method(flags):
    return METHODS[flags & records.METHOD_MASK]


def entered_by(kind, flags):
    """"clinic" for a lab, dose or symptom entered in a clinician's session (the device's
    records.FLAG_CLINIC), "patient" for the rest (buttons, patient-key pushes, firmware before the bit);
    "device" for the device's own events."""
    if kind == records.KIND_EVENT:
        return "device"
    return "clinic" if flags & records.FLAG_CLINIC else "patient"


def corrections_of(db, device_id):
    """The device's corrections (host_tools.corrections), whatever dates a Window shows: a record in the window
    may be voided by a correction made after it."""
    from host_tools.corrections import Corrections
    whole = db.db if isinstance(db, Window) else db
    return Corrections.of(whole.records(device_id, records.KIND_EVENT))


class Window:
    """A HostDB whose records() yields only those dated from `since` to `until` (day numbers, inclusive)."""

    def __init__(self, db, since=None, until=None):
        self.db, self.since, self.until = db, since, until

    def __getattr__(self, name):
        return getattr(self.db, name)

    def records(self, device_id, kind=None):
        for row in self.db.records(device_id, kind):
            if (self.since is None or row[1] >= self.since) and (self.until is None or row[1] <= self.until):
                yield row


LONG_JUMP_SECONDS = 30 * 365 * 86400   # the device clamps a jump of about 34 years (monitor.clock)


def _duration(seconds):
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    parts = ["%d day%s" % (days, "" if days == 1 else "s")] if days else []
    if hours or days:
        parts.append("%d h" % hours)
    parts.append("%d min" % (rest // 60))
    return " ".join(parts[:2])


UPDATE_WORDS = {   # an UPDATE event's outcome (monitor.update logs the release's sequence as its value)
    protocol_host.UPDATE_STAGED: "update to release %d staged",
    protocol_host.UPDATE_CONFIRMED: "update to release %d confirmed",
    protocol_host.UPDATE_SELFTEST_FAILED: "update to release %d rolled back (self-test failed)",
    protocol_host.UPDATE_NOT_CONFIRMED: "update to release %d rolled back (not confirmed)",
    protocol_host.UPDATE_CANCELLED: "update to release %d cancelled",
}
UPDATE_DOWNGRADE = 0x80   # monitor.update: the outcome | downgrade << 7


def update_text(value, flags, running):
    """An UPDATE event in words: to which release, what became of it, from which (running: the release last
    confirmed earlier in the log, None if none was: the copy deployed over USB)."""
    outcome = flags & ~UPDATE_DOWNGRADE
    if flags & UPDATE_DOWNGRADE:
        text = "downgrade to release %d allowed by the clinician" % value
    else:
        text = UPDATE_WORDS.get(outcome, "update to release %%d: outcome %d" % outcome) % value
    return "%s, from %s" % (text, "release %d" % running if running is not None
                            else "the version deployed over USB")


def event_text(day, minute, code, value, flags, running=None, seq=0):
    """A device event's value in words and dates (the raw integer stays in raw_value); running: the release
    confirmed before it, for an UPDATE event; seq: the event's own record number (a correction's)."""
    if code in (records.EVENT_VOID, records.EVENT_AMEND):
        from host_tools import corrections
        return corrections.event_text(code, value, flags, seq)
    if code == records.EVENT_UPDATE:
        return update_text(value, flags, running)
    if code == records.EVENT_CLOCK_SET:
        if abs(value) > LONG_JUMP_SECONDS:
            return "clock set to %s; it moved %s by more than 30 years" % (
                iso_datetime(day, minute).replace("T", " ")[:16], "forward" if value > 0 else "back")
        then = datetime.datetime.combine(day_date(day), datetime.time(minute // 60, minute % 60))
        before = then - datetime.timedelta(seconds=value)
        return "clock set to %s; it moved %s %s (it read %s)" % (
            then.strftime("%Y-%m-%d %H:%M"), "forward" if value >= 0 else "back", _duration(value),
            before.strftime("%Y-%m-%d %H:%M") if before.year >= EPOCH.year else "before 2000")
    if code == records.EVENT_PROFILE_SET:
        return "rule profile set (CRC %08x)" % value
    if code == records.EVENT_SYNC_MARK:
        return "host acknowledged records up to %d" % value
    if code == records.EVENT_GOAL:
        return "goal: %s" % (GOALS[value] if 0 <= value < len(GOALS) else value)
    if code == records.EVENT_TAPER_START:
        return "step-down started"
    if code == records.EVENT_TAPER_END:
        return "step-down ended"
    if code in (records.EVENT_ACK, records.EVENT_SNOOZE):
        from monitor.ingest import ACK_RULE_BASE
        if value >= ACK_RULE_BASE and value - ACK_RULE_BASE < len(RULES):
            what = "flag %s" % RULES[value - ACK_RULE_BASE]
        elif 0 <= value < len(REMINDERS):
            what = "reminder %s" % REMINDERS[value]
        else:
            what = "item %d" % value
        if code == records.EVENT_ACK:
            if value < len(REMINDERS) and value != schedule.M_FERTILITY_REVIEW:
                return "%s: drawn, waiting for the result" % what
            return "%s acknowledged" % what
        if flags > schedule.SNOOZE_MAX:
            return "%s snoozed for %d days (counts as %d)" % (what, flags, schedule.SNOOZE_MAX)
        return "%s snoozed for %d days" % (what, flags)
    return str(value)


def rows(db, device_id):
    """One dict per stored record, in record-number order (each with the clinic's label for the device)."""
    kind_names = records.KIND_NAMES
    label = db.label(device_id) or ""
    typed = db.as_typed(device_id)   # what was typed on this host for an entry pushed from it
    running = None    # the release last confirmed (UPDATE events say where they came from)
    fixes = corrections_of(db, device_id)
    for seq, day, minute, kind, code, value, flags in db.records(device_id):
        entry = catalog(kind, code)
        if not entry.known:
            row = dict(_unknown_row(device_id, seq, day, minute, kind, code, value, flags, entry), label=label,
                       entered_as="")
            row.update(status=fixes.status(seq), correction=fixes.note(seq))
            yield row
            continue
        lab = kind == records.KIND_LAB
        below = lab and bool(flags & records.FLAG_BELOW_LLOQ)
        event = kind == records.KIND_EVENT
        stop = kind == records.KIND_DOSE and value == 0   # a STOP: no amount, no unit
        value_text = (event_text(day, minute, code, value, flags, running, seq) if event
                      else "stopped" if stop else texts.format_decimal(value, entry.decimals))
        if event and code == records.EVENT_UPDATE and flags == protocol_host.UPDATE_CONFIRMED:
            running = value
        yield {
            "device_id": device_id,
            "label": label,
            "seq": seq,
            "date": day_text(day),
            "time": "%02d:%02d" % (minute // 60, minute % 60),
            "kind": kind_names[kind],
            "code": code,
            "name": entry.name,
            "comparator": "<" if below else "",
            "value": value_text,
            "unit": "" if stop else entry.unit,
            "shown": value_text if event else texts.format_value(kind, code, value, flags),
            "method": lab_method(flags) if lab else "",
            "below_lloq": below,
            "confirmed": bool(flags & records.FLAG_CONFIRMED) if lab else False,
            "entered_si": bool(flags & records.FLAG_SI) if lab else False,
            "entered_by": entered_by(kind, flags),
            "unknown_code": False,
            "raw_value": value,
            "raw_flags": flags,
            "status": fixes.status(seq),
            "correction": fixes.note(seq),
            "entered_as": _as_typed_text(typed.get(seq), flags) if lab else "",
        }


def _as_typed_text(as_typed, flags):
    """"150 pmol/L" for a value entered in SI units on this host and stored converted, else ""."""
    if as_typed is None or not flags & records.FLAG_SI or not as_typed[0]:
        return ""
    return "%s %s" % (as_typed[0], as_typed[1])


def _unknown_row(device_id, seq, day, minute, kind, code, value, flags, entry):
    """A record whose code this host does not know: its raw value, said so (no unit, no qualifier read)."""
    return {"device_id": device_id, "seq": seq, "date": day_text(day), "time": "%02d:%02d" % (minute // 60, minute % 60),
            "kind": records.KIND_NAMES[kind], "code": code, "name": entry.name, "comparator": "", "value": str(value),
            "unit": "", "shown": "%d (raw value of an unknown code)" % value, "method": "", "below_lloq": False,
            "confirmed": False, "entered_si": False, "entered_by": entered_by(kind, flags), "unknown_code": True,
            "raw_value": value, "raw_flags": flags}


def write_csv(db, device_id, out):
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows(db, device_id):
        writer.writerow(row)
        count += 1
    return count


def write_json(db, device_id, out):
    info = db.device(device_id) or {}
    items = list(rows(db, device_id))
    json.dump({"device": {"device_id": device_id, "label": info.get("label"), "name": info.get("name"),
                          "firmware": info.get("firmware")},
               "records": items}, out, indent=1)
    out.write("\n")
    return len(items)


def history_entry(day, minute, kind, code, value, flags):
    """One record as a history-file entry, or None for the device's own bookkeeping events and for a code
    this host does not know."""
    if not known(kind, code):
        return None
    entry = {"date": day_text(day), "time": "%02d:%02d" % (minute // 60, minute % 60)}
    if kind != records.KIND_EVENT:
        entry["entered_by"] = entered_by(kind, flags)
    if kind == records.KIND_LAB:
        e = catalog(kind, code)
        entry.update(kind="lab", analyte=e.name, value="%s %s" % (texts.format_decimal(value, e.decimals), e.unit),
                     method=lab_method(flags))
        if flags & records.FLAG_BELOW_LLOQ:
            entry["below_lloq"] = True
        if flags & records.FLAG_CONFIRMED:
            entry["confirmed"] = True
        return entry
    if kind == records.KIND_DOSE:
        e = catalog(kind, code)
        if value == 0:
            entry.update(kind="dose", drug=e.name, stop=True)
            return entry
        entry.update(kind="dose", drug=e.name, value="%s %s" % (texts.format_decimal(value, e.decimals), e.unit))
        if flags & records.FLAG_CONFIRMED:
            entry["confirmed"] = True
        return entry
    if kind == records.KIND_SYMPTOM:
        entry.update(kind="symptom", code=SYMPTOMS[code], severity=value)
        return entry
    from host_tools.history import EVENT_KINDS
    names = {number: name for name, number in EVENT_KINDS.items()}
    if kind != records.KIND_EVENT or code not in names:
        return None   # clock set, sync mark, profile set: the device's bookkeeping, not therapy history
    entry.update(kind="event", event=names[code])
    if code == records.EVENT_GOAL:
        entry["goal"] = GOALS[value]
    elif code in (records.EVENT_ACK, records.EVENT_SNOOZE):
        from monitor.ingest import ACK_RULE_BASE
        if value >= ACK_RULE_BASE:
            entry["rule"] = RULES[value - ACK_RULE_BASE]
        else:
            entry["reminder"] = REMINDERS[value]
        if code == records.EVENT_SNOOZE:
            entry["days"] = flags
    return entry


def write_history(db, device_id, out):
    """The log as a history file with the device's profile (its "patient" and "profile" objects), so
    `e2mon evaluate` of the file applies the device's own thresholds and levels."""
    info = db.device(device_id) or {}
    document = {"device_id": device_id}
    if info.get("label"):
        document["label"] = info["label"]
    if info.get("profile"):
        try:
            profile = profile_codec.decode(bytes(info["profile"]))
        except ValueError:
            profile = None
        if profile is not None:
            from host_tools.profile_file import to_document
            document.update(to_document(profile))
    fixes = corrections_of(db, device_id)   # a voided or amended entry is no longer the patient's history
    document["entries"] = [e for e in (history_entry(*r[1:]) for r in db.records(device_id) if fixes.counts(r[0]))
                           if e is not None]
    json.dump(document, out, indent=1, ensure_ascii=False)
    out.write("\n")
    return len(document["entries"])
