"""Plays a therapy course (a JSON scenario) into the real device app on a SimDevice, in time warp, and
records every flag and reminder with the day it appeared and the day it cleared.

Scenario file (sim/scenarios/*.json):
    {"name": ..., "description": ..., "start": "YYYY-MM-DD", "days": 182,
     "profile": {"GOAL": "trt", "BIRTH_YEAR": 1974, ...},     # monitor.param_names names; optional
     "events": [
        {"day": 0, "dose": "anastrozole", "amount": "1", "unit": "mg", "every": 7, "until": 55},
        {"day": 28, "lab": "E2", "value": "11.5", "unit": "pg/mL", "method": "LC-MS/MS"},
        {"day": 30, "symptom": "JOINT", "severity": 2},
        {"day": 40, "buttons": "B C B B"},        # presses on the device ('B!' = hold)
        {"day": 41, "acknowledge": "first"},      # or "snooze": "first": the patient's answer to a reminder
        {"day": 60, "screenshot": "after-recheck"}]}
Day 0 is the start of therapy; the device is powered on the day before with its clock unset, and the
host sets the clock (as `e2mon time-sync` does) on day 0.

    device, player = play(scenario_path("trt_oversuppressed"), flash_dir)   # on a fresh SimDevice
    player.summary()
"""
import json
import os
import shutil

from monitor import catalog, dates, profile_codec, records, units
from sim import env

REPLY_MINUTE = 9 * 60   # events of a day happen at 09:00, the daily check at 20:00
CHECK_MINUTE = 20 * 60


class ScenarioError(ValueError):
    pass


def parse_decimal(text):
    """'12.5' -> (125, 1): the exact decimal the patient typed (no float on the way)."""
    if not isinstance(text, str):
        raise ScenarioError("values are strings of digits (exact decimals), got %r" % (text,))
    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    whole, _, frac = s.partition(".")
    if not (whole + frac).isdigit():
        raise ScenarioError("not a decimal number: %r" % text)
    return sign * int(whole + frac), len(frac)


def load(path):
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as exc:
            raise ScenarioError("%s: not JSON: %s" % (path, exc)) from exc
    for key in ("name", "start", "days", "events"):
        if key not in data:
            raise ScenarioError("%s: missing %r" % (path, key))
    data["start_day"] = dates.parse_day(data["start"])
    for i, ev in enumerate(data["events"]):
        if not isinstance(ev.get("day"), int) or not 0 <= ev["day"] <= data["days"]:
            raise ScenarioError("%s: event %d: day must be an integer in 0..%d" % (path, i, data["days"]))
    return data


def _code(table, name, what):
    try:
        return table.index(name)
    except ValueError:
        raise ScenarioError("unknown %s %r (known: %s)" % (what, name, ", ".join(table))) from None


def expand_events(scenario):
    """Events by day, with repeating doses ("every" N days "until" day) unrolled."""
    by_day = {}
    for ev in scenario["events"]:
        every = ev.get("every")
        if every:
            until = ev.get("until", scenario["days"])
            day = ev["day"]
            while day <= until:
                by_day.setdefault(day, []).append(ev)
                day += every
        else:
            by_day.setdefault(ev["day"], []).append(ev)
    return by_day


def entry_of(ev):
    """(kind, code, value, flags) of a lab, dose or symptom event, converted with monitor.records."""
    if "lab" in ev:
        code = _code(catalog.ANALYTES, ev["lab"], "lab")
        mantissa, decimals = parse_decimal(ev["value"])
        value, is_si = units.convert_entry(records.KIND_LAB, code, mantissa, decimals, ev["unit"],
                                           bool(ev.get("below_lloq")))
        flags = _code(catalog.METHODS, ev.get("method", "unknown"), "method")
        if is_si:
            flags |= records.FLAG_SI
        if ev.get("below_lloq"):
            flags |= records.FLAG_BELOW_LLOQ
        if ev.get("confirmed"):
            flags |= records.FLAG_CONFIRMED
        return records.KIND_LAB, code, value, flags
    if "dose" in ev:
        code = _code(catalog.DRUGS, ev["dose"], "drug")
        mantissa, decimals = parse_decimal(ev["amount"])
        value, _si = units.convert_entry(records.KIND_DOSE, code, mantissa, decimals, ev["unit"])
        return records.KIND_DOSE, code, value, records.FLAG_CONFIRMED if ev.get("confirmed") else 0
    if "symptom" in ev:
        return records.KIND_SYMPTOM, _code(catalog.SYMPTOMS, ev["symptom"], "symptom"), ev["severity"], 0
    return None


def course_records(scenario, first_day):
    """The course's lab, dose and symptom entries as host records (seq, day, minute, kind, code, value, flags)
    starting on day number `first_day`, without a device (labs as the clinic's entries): a host database
    with many patients for the clinic page's tests and bench."""
    rows = []
    by_day = expand_events(scenario)
    for rel in sorted(by_day):
        for ev in by_day[rel]:
            entry = entry_of(ev)
            if entry is not None:
                kind, code, value, flags = entry
                if kind == records.KIND_LAB:
                    flags |= records.FLAG_CLINIC
                rows.append((len(rows), first_day + rel, REPLY_MINUTE + len(rows) % 60, kind, code, value, flags))
    return rows


def profile_blob(settings):
    """The scenario's "profile" settings as a profile blob (monitor.profile_codec), for a host database."""
    from monitor import profile as P
    profile = P.Profile()
    for key, value in settings.items():
        if key == "GOAL" and isinstance(value, str):
            value = _code(catalog.GOALS, value, "goal")
        try:
            profile_codec.set_param(profile, key, value)
        except ValueError as exc:
            raise ScenarioError("profile: %s" % exc) from None
    return profile_codec.encode(profile)


def apply_profile(app, settings):
    """Sets profile parameters by their monitor.param_names names (GOAL may be a catalog.GOALS name)."""
    status = app.set_profile(profile_blob(settings))
    if status:
        raise ScenarioError("profile refused: %s" % app.status_text(status))


class Player:
    """Plays one scenario on a SimDevice; `timeline` lists what appeared and cleared, day by day."""

    def __init__(self, device, scenario, screenshot_dir=None, echo=None):
        self.device = device
        self.scenario = scenario
        self.screenshot_dir = screenshot_dir
        self.echo = echo or (lambda line: None)
        self.timeline = []
        self.entries = 0
        self.refused = []
        self.screenshots = []
        self.signals = []
        self.unset_clock = None
        self._active = {}

    def _note(self, rel_day, what, key, title, change, text=""):
        item = {"day": rel_day, "date": dates.format_day(self.scenario["start_day"] + rel_day),
                "type": what, "id": key, "title": title, "change": change, "text": text}
        self.timeline.append(item)
        self.echo("day %3d  %s  %-9s %-8s %-16s %s" % (rel_day, item["date"], change, what, title, text))

    def _observe(self, rel_day, signalled):
        """Notes flags that appeared or cleared and reminders that changed state since the last check."""
        from monitor import rules, schedule
        app = self.device.app
        seen = {}
        for f in app.flags_now():
            rule_id, text, source = app.flag_text(f)
            seen[("flag", rule_id)] = ("flag", "%s [%s]" % (rule_id, catalog.level_name(f[rules.F_LEVEL])),
                                       "%s (source: %s)" % (text, source), "appeared")
        for r in app.reminders_now():
            state = r[schedule.M_STATE]
            if state in (schedule.DUE, schedule.OVERDUE):
                name = catalog.REMINDERS[r[schedule.M_ID]]
                muted = ("", " (acknowledged)", " (snoozed)")[r[schedule.M_MUTED]]
                seen[("reminder", name)] = ("reminder", name, app.reminder_text(r) + muted,
                                            catalog.STATES[state])
        for key, (what, title, text, change) in seen.items():
            old = self._active.get(key)
            if old is None or old[3] != change:
                self._note(rel_day, what, key[1], title, change, text)
        for key, (what, title, _text, _change) in self._active.items():
            if key not in seen:
                self._note(rel_day, what, key[1], title, "cleared" if what == "flag" else "done")
        self._active = seen
        if signalled:
            self.signals.append(rel_day)
            self.echo("day %3d  buzzer/LED: %d reminder(s) newly due" % (rel_day, len(signalled)))

    def play(self):
        dev = self.device
        start = self.scenario["start_day"]
        # Powered on with the RTC at its epoch: the screen says SET TIME and nothing may fire.
        unset_fired = dev.runner.check_reminders()
        self.unset_clock = {"screen": dev.screen_lines()[0], "reminders_fired": len(unset_fired),
                            "reminders_listed": len(dev.app.reminders_now())}
        self.echo("power on, clock unset: screen shows %r, %d reminders fired"
                  % (self.unset_clock["screen"], len(unset_fired)))
        dev.set_clock(start - 1, REPLY_MINUTE)   # the host's time sync
        if self.scenario.get("profile"):
            apply_profile(dev.app, self.scenario["profile"])
        by_day = expand_events(self.scenario)
        for rel in range(self.scenario["days"] + 1):
            dev.advance_to(start + rel, REPLY_MINUTE)
            for ev in by_day.get(rel, ()):
                self._play_event(rel, ev)
            dev.advance_to(start + rel, CHECK_MINUTE)
            self._observe(rel, dev.runner.check_reminders())
        return self.timeline

    def _play_event(self, rel, ev):
        dev = self.device
        app = dev.app
        entry = entry_of(ev)
        if entry is not None:
            kind, code, value, flags = entry
            now = app.clock_now()
            status, _seq = app.submit_entry(kind, code, value, flags, now[0], now[1])
            if status:
                self.refused.append({"day": rel, "event": ev, "error": app.status_text(status)})
                self.echo("day %3d  entry refused: %s (%s)" % (rel, app.status_text(status), ev))
            else:
                self.entries += 1
        elif "buttons" in ev:
            dev.press_sequence(ev["buttons"])
        elif "acknowledge" in ev or "snooze" in ev:
            due = app.reminders_now()
            if due:
                rid = app.reminder_id(due[0])
                if "acknowledge" in ev:
                    app.acknowledge_reminder(rid)
                else:
                    app.snooze_reminder(rid)
        elif "screenshot" in ev and self.screenshot_dir:
            path = os.path.join(self.screenshot_dir, "%s.png" % ev["screenshot"])
            self.screenshots.append(dev.screenshot(path))
        elif "screenshot" not in ev:
            raise ScenarioError("event on day %d does nothing: %r" % (rel, ev))

    def summary(self):
        return {"scenario": self.scenario["name"], "days": self.scenario["days"], "entries": self.entries,
                "refused": self.refused, "unset_clock": self.unset_clock, "timeline": self.timeline,
                "signal_days": self.signals, "screenshots": self.screenshots}


def scenario_path(name):
    """A scenario file: `name` itself, else sim/scenarios/NAME(.json)."""
    if os.path.exists(name):
        return name
    candidate = os.path.join(env.ROOT, "sim", "scenarios", name if name.endswith(".json") else name + ".json")
    if os.path.exists(candidate):
        return candidate
    known = sorted(f[:-5] for f in os.listdir(os.path.join(env.ROOT, "sim", "scenarios")) if f.endswith(".json"))
    raise SystemExit("no scenario %r (known: %s)" % (name, ", ".join(known)))


def fresh_flash(path):
    """An empty flash directory at `path` (what was there is removed)."""
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


def play(scenario_file, flash_dir, screenshot_dir=None, echo=print, end_day=None):
    """Plays a scenario on a fresh simulated device; returns (device, player).

    end_day moves the whole course so that it ends on that day (the demo ends it today)."""
    from sim.device import SimDevice

    data = load(scenario_file)
    if end_day is not None:
        data["start_day"] = end_day - data["days"]
    device = SimDevice(fresh_flash(flash_dir))
    device.boot()
    player = Player(device, data, screenshot_dir=screenshot_dir, echo=echo)
    player.play()
    return device, player
