"""FHIR R4 export: one Bundle (type collection) with one Patient, one Device and
an Observation per lab result (LOINC code, UCUM unit, exact decimal value) and
per symptom report, plus a MedicationStatement per dose.

Codes, units and scales come from `monitor.records` through `host_tools.export.catalog`.
The JSON is written from templates, not built as dicts, so 100,000 records stay
fast; tests validate the result with the `fhir.resources` package.

- `write_bundle(db, device_id, out, tz=None) -> number of entries`
- `bundle_text(db, device_id, tz=None) -> str`
- `read_lab_values(bundle) -> [(loinc, effectiveDateTime, stored integer)]` (the round trip)
"""
import datetime
import io
import json
import uuid

from host_tools.export import catalog, iso_datetime, lab_method
from monitor import records, texts

NAMESPACE = uuid.UUID("6f1c2d1e-2a7e-4e2a-9d6b-e2a0a1f06d10")
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
SYMPTOM_SYSTEM = "urn:e2mon:symptom"
DRUG_SYSTEM = "urn:e2mon:drug"
DEVICE_SYSTEM = "urn:e2mon:device"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"


def _uuid(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def local_offset():
    """The host's UTC offset as +HH:MM (device days are local time)."""
    offset = datetime.datetime.now().astimezone().utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)


_LAB = (
    '{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"Observation","id":"%s","status":"final",'
    '"category":[{"coding":[{"system":"' + CATEGORY_SYSTEM + '","code":"laboratory"}]}],'
    '"code":{"coding":[{"system":"' + LOINC_SYSTEM + '","code":"%s","display":%s}],"text":%s},'
    '"subject":{"reference":"urn:uuid:%s"},"device":{"reference":"urn:uuid:%s"},'
    '"effectiveDateTime":"%s%s",'
    '"valueQuantity":{%s"value":%s,"unit":%s,"system":"' + UCUM_SYSTEM + '","code":%s}%s}}'
)
_SYMPTOM = (
    '{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"Observation","id":"%s","status":"final",'
    '"category":[{"coding":[{"system":"' + CATEGORY_SYSTEM + '","code":"survey"}]}],'
    '"code":{"coding":[{"system":"' + SYMPTOM_SYSTEM + '","code":"%s"}],"text":%s},'
    '"subject":{"reference":"urn:uuid:%s"},"device":{"reference":"urn:uuid:%s"},'
    '"effectiveDateTime":"%s%s","valueInteger":%d}}'
)
_DOSE = (
    '{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"MedicationStatement","id":"%s","status":"completed",'
    '"medicationCodeableConcept":{"coding":[{"system":"' + DRUG_SYSTEM + '","code":"%s"}],"text":"%s"},'
    '"subject":{"reference":"urn:uuid:%s"},"effectiveDateTime":"%s%s",'
    '"dosage":[{"doseAndRate":[{"doseQuantity":{"value":%s,"unit":"%s","system":"' + UCUM_SYSTEM
    + '","code":"%s"}}]}]}}'
)


def _resource_id(device_id, seq):
    # FHIR ids: [A-Za-z0-9-.]{1,64}
    safe = "".join(c if c.isalnum() or c in "-." else "-" for c in device_id)[:40]
    return "%s-%d" % (safe, seq)


def write_bundle(db, device_id, out, tz=None):
    """Streams the Bundle as JSON to out; returns the number of entries."""
    tz = tz or local_offset()
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
    if info.get("firmware"):
        device_resource["version"] = [{"value": info["firmware"]}]
    out.write(json.dumps({"fullUrl": "urn:uuid:" + patient, "resource": patient_resource}))
    out.write(",")
    out.write(json.dumps({"fullUrl": "urn:uuid:" + device, "resource": device_resource}))
    count = 2
    dumps = json.dumps
    lab_kind, symptom_kind, dose_kind = records.KIND_LAB, records.KIND_SYMPTOM, records.KIND_DOSE
    below = records.FLAG_BELOW_LLOQ
    format_decimal = texts.format_decimal
    for seq, day, minute, kind, code, value, flags in db.records(device_id):
        if kind == lab_kind:
            entry = catalog(kind, code)
            method = lab_method(flags)
            extra = (',"method":{"text":"%s"}' % method) if flags & records.METHOD_MASK else ""
            out.write(",")
            out.write(_LAB % (
                _uuid(device_id, seq), _resource_id(device_id, seq), entry.loinc, dumps(entry.name),
                dumps(entry.name), patient, device, iso_datetime(day, minute), tz,
                '"comparator":"<",' if flags & below else "", format_decimal(value, entry.decimals),
                dumps(entry.unit), dumps(entry.ucum), extra))
        elif kind == symptom_kind:
            entry = catalog(kind, code)
            out.write(",")
            out.write(_SYMPTOM % (
                _uuid(device_id, seq), _resource_id(device_id, seq), entry.name,
                dumps("Symptom: " + entry.name), patient, device, iso_datetime(day, minute), tz, value))
        elif kind == dose_kind:
            entry = catalog(kind, code)
            out.write(",")
            out.write(_DOSE % (
                _uuid(device_id, seq), _resource_id(device_id, seq), entry.name, entry.name, patient,
                iso_datetime(day, minute), tz, format_decimal(value, entry.decimals), entry.unit, entry.ucum))
        else:
            continue
        count += 1
    out.write("]}\n")
    return count


def bundle_text(db, device_id, tz=None):
    out = io.StringIO()
    write_bundle(db, device_id, out, tz)
    return out.getvalue()


def read_lab_values(bundle):
    """From a parsed Bundle (dict), each lab Observation as (loinc, effectiveDateTime, stored integer)."""
    by_loinc = {records.LOINC[code]: code for code in range(len(records.ANALYTES))}
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
