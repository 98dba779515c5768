"""A dense, real-looking pulled log for looking at the report: 15 months of anastrozole and testosterone with
frequent dose changes, labs every two to four weeks (some E2 results below the lab's limit), hematocrit near
the action level, a dozen symptoms with every severity, clock and firmware-update events. Deterministic
(a fixed seed), so a test can name what it expects."""
import random

from monitor import dates, protocol_host, records

DEVICE = "C0:E2:00:00:00:42"
START = dates.days_from_civil(2025, 9, 1)
DAYS = 460
FLAG_CLINIC = records.FLAG_CLINIC


def dense_rows(seed=20):
    rng = random.Random(seed)
    rows = []

    def add(day, minute, kind, code, value, flags=FLAG_CLINIC):
        rows.append((len(rows), day, minute, kind, code, value, flags))

    add(START, 480, records.KIND_EVENT, records.EVENT_CLOCK_SET, 3600, 0)
    anastrozole = 500
    testosterone = 100000
    add(START, 490, records.KIND_DOSE, records.D_ANASTROZOLE, anastrozole, FLAG_CLINIC | records.FLAG_CONFIRMED)
    add(START, 491, records.KIND_DOSE, records.D_TESTOSTERONE, testosterone, FLAG_CLINIC | records.FLAG_CONFIRMED)
    day = START
    next_lab = START + 14
    next_change = START + 18
    e2 = 320
    while day < START + DAYS:
        day += 1
        if day >= next_change:   # a change every two to four weeks: amount or frequency
            anastrozole = rng.choice([250, 500, 750, 1000, 250, 500])
            add(day, 500, records.KIND_DOSE, records.D_ANASTROZOLE, anastrozole, FLAG_CLINIC | records.FLAG_CONFIRMED)
            if rng.random() < 0.35:
                testosterone = rng.choice([80000, 100000, 125000, 150000])
                add(day, 501, records.KIND_DOSE, records.D_TESTOSTERONE, testosterone,
                    FLAG_CLINIC | records.FLAG_CONFIRMED)
            next_change = day + rng.randint(12, 28)
        if day >= next_lab:
            e2 = max(30, min(900, e2 + rng.randint(-180, 160) - (anastrozole - 500) // 3))
            if e2 < 80:   # below the lab's limit: stored as the limit, flagged
                add(day, 540, records.KIND_LAB, records.A_E2, 50, FLAG_CLINIC | records.FLAG_BELOW_LLOQ | 1)
            else:
                add(day, 540, records.KIND_LAB, records.A_E2, e2, FLAG_CLINIC | records.METHOD_LCMS)
            add(day, 541, records.KIND_LAB, records.A_TT, rng.randint(380, 1150), FLAG_CLINIC)
            if rng.random() < 0.6:
                add(day, 542, records.KIND_LAB, records.A_HCT, rng.choice([488, 505, 521, 533, 544, 551]),
                    FLAG_CLINIC | records.FLAG_CONFIRMED)
            next_lab = day + rng.randint(14, 30)
        if rng.random() < 0.12:   # the patient's own symptom entries, every kind, every severity
            code = rng.choice([records.S_JOINT, records.S_LIBIDO, records.S_FATIGUE, records.S_MOOD, records.S_ED,
                               records.S_HOTFLASH, records.S_WELLBEING, records.S_COGNITION, records.S_BREAST,
                               records.S_FLUID, records.S_HEADACHE, records.S_NIPPLE])
            add(day, 1200, records.KIND_SYMPTOM, code, rng.randint(0, 3), 0)
        if day == START + 200:
            add(day, 600, records.KIND_EVENT, records.EVENT_UPDATE, 3, protocol_host.UPDATE_CONFIRMED, )
    return rows


def dense_db(path, label="patient 12"):
    from host_tools.db import HostDB

    db = HostDB(str(path))
    db.ensure_device(DEVICE, firmware="1.3.0")
    db.store_records(DEVICE, dense_rows())
    db.set_label(DEVICE, label)
    return db


def today():
    return START + DAYS + 3
