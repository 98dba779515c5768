"""FHIR R4 export: one Bundle (type collection) with one Patient, one Device and
an Observation per lab result (LOINC code, UCUM unit, exact decimal value) and
per symptom report, plus a MedicationStatement per dose.

Codes, units and scales come from `monitor.records` through `host_tools.export.catalog`.
The JSON is written from templates, not built as dicts, so 100,000 records stay
fast; tests validate the result with the `fhir.resources` package.

- `write_bundle(db, device_id, out, tz=None) -> number of entries`: tz "+HH:MM" for every record, or None
  for each record's own date's offset in the host's time zone (a July entry in New York is -04:00, a
  December one -05:00)
- `bundle_text(db, device_id, tz=None) -> str`

An entry pushed from this host without a time of day has a date-only effectiveDateTime (FHIR allows it);
a lab value entered in SI units and stored converted carries the value as typed as a standard
`iso21090-PQ-translation` extension on its valueQuantity and a note saying the conversion happened.
- `read_lab_values(bundle) -> [(loinc, effectiveDateTime, stored integer)]` (the round trip)
"""
import datetime
import io
import json
import re
import uuid

from host_tools.export import catalog, corrections_of, day_date, day_text, lab_method
from monitor import records, texts, units
from monitor.catalog import ANALYTES, LOINC

NAMESPACE = uuid.UUID("6f1c2d1e-2a7e-4e2a-9d6b-e2a0a1f06d10")
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
SYMPTOM_SYSTEM = "urn:e2mon:symptom"
DRUG_SYSTEM = "urn:e2mon:drug"
DEVICE_SYSTEM = "urn:e2mon:device"
LABEL_SYSTEM = "urn:e2mon:clinic-label"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
SOURCE_SYSTEM = "urn:e2mon:source"
UNKNOWN_CODE_SYSTEM = "urn:e2mon:unknown-code"   # a code this host does not know (newer firmware): raw value
# An entry the patient made (the device's buttons or a patient-key push: records.FLAG_CLINIC unset): the
# patient is its performer (Observation) or informationSource (MedicationStatement), and a second category
# says so.
_PATIENT_CATEGORY = ',{"coding":[{"system":"%s","code":"patient-reported","display":"Patient-reported"}]}' % (
    SOURCE_SYSTEM)


def _uuid(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def offset_text(offset):
    minutes = int((offset or datetime.timedelta(0)).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)


def local_offset(day=None, minute=720):
    """The host's UTC offset as +HH:MM on a day (a day number; None: now): device days are local time, and
    a summer date keeps its summer offset whenever it is exported."""
    if day is None:
        return offset_text(datetime.datetime.now().astimezone().utcoffset())
    try:
        when = datetime.datetime.combine(day_date(day), datetime.time(minute // 60, minute % 60))
        return offset_text(when.astimezone().utcoffset())
    except (OverflowError, OSError, ValueError):   # beyond what the platform's time functions handle
        return offset_text(datetime.datetime.now().astimezone().utcoffset())


class _LocalOffsets:
    """local_offset per record, cached by day (by hour on a day the offset changes: a DST switch)."""

    def __init__(self):
        self.by_day = {}
        self.by_hour = {}

    def __call__(self, day, minute):
        text = self.by_day.get(day)
        if text:
            return text
        if text is None:
            first, last = local_offset(day, 0), local_offset(day, 1439)
            self.by_day[day] = first if first == last else ""
            if first == last:
                return first
        key = (day, minute // 60)
        text = self.by_hour.get(key)
        if text is None:
            text = self.by_hour[key] = local_offset(day, minute)
        return text


TRANSLATION_URL = "http://hl7.org/fhir/StructureDefinition/iso21090-PQ-translation"


def _as_typed_parts(as_typed, flags, entry):
    """(extension on valueQuantity, note) for a lab value entered in SI units and stored converted."""
    if not flags & records.FLAG_SI:
        return "", ""
    if as_typed is None:   # pushed from another host or entered on the device: only the fact is known
        note = ("entered in SI units and stored converted to %s; the value as entered was not recorded on this "
                "computer" % entry.unit)
        return "", ',"note":[{"text":%s}]' % json.dumps(note)
    value, unit = as_typed[0], as_typed[1]
    extension = ('"extension":[{"url":"%s","valueQuantity":{"value":%s,"unit":%s,"system":"%s","code":%s}}],'
                 % (TRANSLATION_URL, value, json.dumps(unit), UCUM_SYSTEM, json.dumps(units.ucum(unit))))
    note = "entered as %s %s; stored converted to %s (e2mon's exact integer conversion)" % (value, unit, entry.unit)
    return extension, ',"note":[{"text":%s}]' % json.dumps(note)


_ENTRY = (',{"fullUrl":"urn:uuid:%s%012x","resource":{"resourceType":"%s","id":"%s-%d",%s'
          '"effectiveDateTime":"%s",%s}}')
_MINUTES = tuple("T%02d:%02d:00" % (m // 60, m % 60) for m in range(1440))


def _static_parts(kind, code, refs, patient, clinic):
    """(resource type, the fields that depend only on the code and who entered it, catalog entry, unit
    fields)."""
    dumps = json.dumps
    entry = catalog(kind, code)
    unit = '"unit":%s,"system":"%s","code":%s' % (dumps(entry.unit), UCUM_SYSTEM, dumps(entry.ucum))
    by_patient = "" if clinic else _PATIENT_CATEGORY
    performer = "" if clinic else '"performer":[{"reference":"urn:uuid:%s"}],' % patient
    if not entry.known:
        fields = ('"status":"final"%s,"code":{"coding":[{"system":"%s","code":"%s-%d"}],"text":%s},%s%s'
                  % (',"category":[%s]' % by_patient[1:] if by_patient else "", UNKNOWN_CODE_SYSTEM,
                     records.KIND_NAMES[kind], code, dumps("%s (raw value)" % entry.name), refs, performer))
        return "Observation", fields, entry, unit
    if kind == records.KIND_LAB:
        fields = ('"status":"final","category":[{"coding":[{"system":"%s","code":"laboratory"}]}%s],'
                  '"code":{"coding":[{"system":"%s","code":"%s","display":%s}],"text":%s},%s%s'
                  % (CATEGORY_SYSTEM, by_patient, LOINC_SYSTEM, entry.loinc, dumps(entry.name), dumps(entry.name),
                     refs, performer))
        return "Observation", fields, entry, unit
    if kind == records.KIND_SYMPTOM:
        fields = ('"status":"final","category":[{"coding":[{"system":"%s","code":"survey"}]}%s],'
                  '"code":{"coding":[{"system":"%s","code":"%s"}],"text":%s},%s%s'
                  % (CATEGORY_SYSTEM, by_patient, SYMPTOM_SYSTEM, entry.name, dumps("Symptom: " + entry.name), refs,
                     performer))
        return "Observation", fields, entry, unit
    fields = ('"status":"completed","medicationCodeableConcept":{"coding":[{"system":"%s","code":"%s"}],'
              '"text":%s},"subject":{"reference":"urn:uuid:%s"},%s'
              % (DRUG_SYSTEM, entry.name, dumps(entry.name), patient,
                 "" if clinic else '"informationSource":{"reference":"urn:uuid:%s"},' % patient))
    return "MedicationStatement", fields, entry, unit


def _resource_id(device_id, seq):
    # FHIR ids: [A-Za-z0-9-.]{1,64}
    safe = "".join(c if c.isalnum() or c in "-." else "-" for c in device_id)[:40]
    return "%s-%d" % (safe, seq)


def write_bundle(db, device_id, out, tz=None):
    """Streams the Bundle as JSON to out; returns the number of entries."""
    offset = (lambda _day, _minute: tz) if tz else _LocalOffsets()
    typed = db.as_typed(device_id)
    info = db.device(device_id) or {}
    patient = _uuid(device_id, "patient")
    device = _uuid(device_id, "device")
    stamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    out.write('{"resourceType":"Bundle","id":"%s","type":"collection","timestamp":"%s","entry":['
              % (_uuid(device_id, "bundle", stamp), stamp))
    patient_resource = {"resourceType": "Patient", "id": _resource_id(device_id, 0) + "-patient",
                        "identifier": [{"system": DEVICE_SYSTEM, "value": device_id}]}
    device_resource = {"resourceType": "Device", "id": _resource_id(device_id, 0) + "-device",
                       "identifier": [{"system": DEVICE_SYSTEM, "value": device_id}],
                       "deviceName": [{"name": info.get("name") or "e2mon", "type": "user-friendly-name"}],
                       "patient": {"reference": "urn:uuid:" + patient}}
    if info.get("label"):   # the clinic's own name for the patient ("patient 12")
        patient_resource["identifier"].append({"system": LABEL_SYSTEM, "value": info["label"]})
        device_resource["deviceName"].append({"name": info["label"], "type": "other"})
    birth = _birth_date(info.get("profile"))
    if birth:
        patient_resource["birthDate"] = birth
    if info.get("firmware"):
        device_resource["version"] = [{"value": info["firmware"]}]
    out.write(json.dumps({"fullUrl": "urn:uuid:" + patient, "resource": patient_resource}))
    out.write(",")
    out.write(json.dumps({"fullUrl": "urn:uuid:" + device, "resource": device_resource}))
    count = 2
    # Per record only the number, time and value change: everything else is rendered once per code.
    url_prefix = _uuid(device_id, "entries")[:24]     # + 12 hex digits of the record number
    id_prefix = _resource_id(device_id, 0)[:-2]        # + "-<record number>"
    refs = '"subject":{"reference":"urn:uuid:%s"},"device":{"reference":"urn:uuid:%s"},' % (patient, device)
    static = {}
    values = {}
    lab_kind, symptom_kind, dose_kind = records.KIND_LAB, records.KIND_SYMPTOM, records.KIND_DOSE
    below, method_mask, clinic_bit = records.FLAG_BELOW_LLOQ, records.METHOD_MASK, records.FLAG_CLINIC
    fixes = corrections_of(db, device_id)
    corrected = _CorrectedWriter(out, fixes) if fixes else None   # only a log with corrections pays for it
    write = corrected.write if corrected else out.write
    for seq, day, minute, kind, code, value, flags in db.records(device_id):
        if kind not in (lab_kind, symptom_kind, dose_kind):
            continue
        if corrected:
            if fixes.amended(seq):
                continue   # its amendment, later in the log, takes its identity (status amended)
            target = fixes.replaces(seq)
            corrected.record(seq, target)
            if target is not None:
                seq = target
        key = (kind, code, flags & clinic_bit)
        parts = static.get(key)
        if parts is None:
            parts = static[key] = _static_parts(kind, code, refs, patient, flags & clinic_bit)
        as_typed = typed.get(seq)
        if as_typed is not None and not as_typed[2]:
            when = day_text(day)     # no time of day was entered: the date alone, nothing invented
        else:
            when = day_text(day) + _MINUTES[minute] + offset(day, minute)
        if kind == symptom_kind or not parts[2].known:
            write(_ENTRY % (url_prefix, seq, parts[0], id_prefix, seq, parts[1], when, '"valueInteger":%d' % value))
        elif kind == dose_kind and value == 0:   # a STOP: the drug is no longer taken
            write(_ENTRY % (url_prefix, seq, parts[0], id_prefix, seq,
                            parts[1].replace('"status":"completed"', '"status":"stopped"', 1), when,
                            '"note":[{"text":"stopped"}]'))
        else:
            text = values.get((kind, code, value))
            if text is None:
                text = values[(kind, code, value)] = texts.format_decimal(value, parts[2].decimals)
            if kind == lab_kind:
                extension, note = _as_typed_parts(as_typed, flags, parts[2])
                quantity = '"valueQuantity":{%s%s"value":%s,%s}%s%s' % (
                    extension, '"comparator":"<",' if flags & below else "", text, parts[3],
                    (',"method":{"text":"%s"}' % lab_method(flags)) if flags & method_mask else "", note)
            else:
                quantity = '"dosage":[{"doseAndRate":[{"doseQuantity":{"value":%s,%s}}]}]' % (text, parts[3])
            write(_ENTRY % (url_prefix, seq, parts[0], id_prefix, seq, parts[1], when, quantity))
        count += 1
    out.write("]}\n")
    return count


_STATUS = re.compile(r'"status":"[a-z-]+"')


class _CorrectedWriter:
    """Writes the entries of a log with corrections: a voided record's resource says entered-in-error; an
    amendment stands as the record it replaces (its id), status amended, with a note saying why."""

    def __init__(self, out, fixes):
        self.out, self.fixes = out, fixes
        self.seq = self.target = None

    def record(self, seq, target):
        self.seq, self.target = seq, target

    def write(self, text):
        fixes, seq = self.fixes, self.seq
        if seq is not None and fixes.voided(seq):
            text = _STATUS.sub('"status":"entered-in-error"', text, count=1)
            text = _add_note(text, fixes.note(seq))
        elif self.target is not None:
            # MedicationStatement has no "amended" status: it stays completed, with the note
            text = text.replace('"status":"final"', '"status":"amended"', 1)
            text = _add_note(text, "amended: %s (record %d replaces record %d)" % (
                fixes.reason(self.target), seq, self.target))
        self.out.write(text)


def _add_note(text, note):
    # one entry's JSON ending in "}}": the note joins the resource's notes, or starts them
    note = '{"text":%s}' % json.dumps(note)
    if '"note":[' in text:
        return text.replace('"note":[', '"note":[%s,' % note, 1)
    return text[:-2] + ',"note":[%s]}}' % note


def _birth_date(blob):
    # "YYYY-MM-DD" with the month and day known, "YYYY" with the year alone, "" without
    if not blob:
        return ""
    from host_tools.profile_file import birth_date_text
    from monitor import profile_codec
    try:
        return birth_date_text(profile_codec.decode(bytes(blob)))
    except ValueError:
        return ""


def bundle_text(db, device_id, tz=None):
    out = io.StringIO()
    write_bundle(db, device_id, out, tz)
    return out.getvalue()


def read_lab_values(bundle):
    """From a parsed Bundle (dict), each lab Observation as (loinc, effectiveDateTime, stored integer)."""
    by_loinc = {LOINC[code]: code for code in range(len(ANALYTES))}
    found = []
    for item in bundle["entry"]:
        res = item["resource"]
        if res["resourceType"] != "Observation":
            continue
        coding = res["code"]["coding"][0]
        if coding["system"] != LOINC_SYSTEM:
            continue
        code = by_loinc[coding["code"]]
        entry = catalog(records.KIND_LAB, code)
        quantity = res["valueQuantity"]
        assert quantity["code"] == entry.ucum, "unit %r is not the stored unit" % quantity["code"]
        from decimal import Decimal
        stored = Decimal(str(quantity["value"])).scaleb(entry.decimals)
        found.append((coding["code"], res["effectiveDateTime"], int(stored)))
    return found
