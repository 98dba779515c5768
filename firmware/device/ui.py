"""The patient's interface on a 128x64 screen (16 columns x 8 lines of the 8x8 font) with three buttons.

A: up / previous, C: down / next, B: select; holding B goes back home. Logging a symptom from home is
B (Log symptom), A/C to the symptom, B, A/C to the severity, B.
Screens draw on any framebuf.FrameBuffer-like object (fill, text, fill_rect, hline); display may be None.
"""
import sys

from monitor import records
from monitor import rules
from monitor import profile as P
from monitor import schedule

from micropython import const

from device import buttons as btn
from monitor import catalog   # the names of the codes, rules and reminders
from monitor.dates import format_day as format_date

COLS = const(16)
ROWS = const(8)

HOME = const(0)
SYMPTOM = const(1)
SEVERITY = const(2)
REMINDERS = const(3)
REMINDER_ACTION = const(4)
FLAGS = const(5)
FLAG_DETAIL = const(6)
STATUS = const(7)
MESSAGE = const(8)
STOP_DRUG = const(9)
STOP_CONFIRM = const(10)
UNDO = const(11)
UNDO_CONFIRM = const(12)

HOME_ITEMS = ("Log symptom", "Reminders", "Flags", "Status", "Stop a drug", "Undo an entry")
# "Drawn": the sample was taken, the result is awaited (FERTILITY_REVIEW, no sample: "Done")
REMINDER_ACTIONS = ("Drawn", "Snooze 7 days", "Back")
SEVERITY_WORDS = ("none", "mild", "moderate", "severe")

# Names that fit a 14-character list line, by the IDs in monitor.catalog.RULES / REMINDERS
# (the full plain-language text comes from those modules on the detail screens).
SHORT_FLAG = {
    "E2_ABOVE": "E2 above range", "E2_MILD": "E2 mildly high", "E2_HIGH": "E2 high", "E2_SEVERE": "E2 very high",
    "E2_BONE": "E2 bone watch", "E2_LOW": "E2 low", "E2_LOW_SYMPT": "E2 low", "E2_CRITICAL": "E2 very low",
    "TE_RATIO": "T:E2 ratio low", "TT_LOW": "T low", "TT_BELOW_TARGET": "T below range",
    "TT_ABOVE_TARGET": "T above range", "HCT_WARN": "Hematocrit warn", "C1": "Over-suppress?",
    "C2": "Low E2+symptom", "C3": "E2 v.low+sympt", "C4": "E2 low: DEXA", "C5": "E2 excess?",
    "C6": "E2 recheck", "C7": "E2 mild on TRT", "C8": "T:E2 fertility", "C9": "Hematocrit",
    "C11": "Other causes?", "C12": "Recheck labs", "C14": "Mood/thinking", "C15": "T & fertility",
    "BMD_OSTEOPENIA": "Osteopenia", "BMD_OSTEOPOROSIS": "Osteoporosis",
}
SHORT_REMINDER = {
    "RECHECK": "E2+T recheck", "RECHECK_SEVERE": "E2 recheck", "CBC": "Blood count", "LIPIDS": "Lipids",
    "DEXA_BASELINE": "DEXA scan", "DEXA_REPEAT": "Repeat DEXA", "SEMEN": "Semen test",
    "FERTILITY_REVIEW": "Course review", "TAPER_LABS": "Taper labs",
}


def _symptom_words():
    from monitor import texts   # plain words load only when a screen shows them
    return texts.SYMPTOM_WORDS


def wrap(text, width=COLS):
    """Splits text into lines of at most width characters, at spaces where possible."""
    lines = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            while len(word) > width:
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:width])
                word = word[width:]
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line = line + " " + word
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


class UI:
    def __init__(self, app, display=None):
        self.app = app
        self.display = display
        self.screen = HOME
        self.cursor = 0
        self.top = 0
        self.symptom = 0
        self.severity = 1
        self.drug = 0
        self.selected = None      # the reminder, flag or entry tuple a detail screen is about
        self.undoable = []        # the patient's own entries of today (monitor.corrections.own_today)
        self.message = None
        self.dirty = True
        self.pressed = 0          # button presses handled, for the simulator's counters
        self.radio = "off"        # Bluetooth as the runner last found it: "on", "off", "unavailable"

    # -- input ---------------------------------------------------------------------------------------------
    def on_button(self, button, gesture):
        self.pressed += 1
        self.dirty = True
        if gesture == btn.HOLD and button == btn.BUTTON_B:
            self._go(HOME)
            return
        if gesture != btn.PRESS:
            return
        if button == btn.BUTTON_A:
            self._move(-1)
        elif button == btn.BUTTON_C:
            self._move(1)
        else:
            self._select()

    def _go(self, screen, cursor=0):
        self.screen = screen
        self.cursor = cursor
        self.top = 0

    def _item_count(self):
        s = self.screen
        if s == HOME:
            return len(HOME_ITEMS)
        if s == SYMPTOM:
            return len(catalog.SYMPTOMS)
        if s == SEVERITY:
            return 4
        if s == REMINDERS:
            return max(1, len(self.app.due_reminders()))
        if s == REMINDER_ACTION:
            return len(REMINDER_ACTIONS)
        if s == FLAGS:
            return max(1, len(self.app.flags_now()))
        if s == FLAG_DETAIL:
            return max(1, len(self._flag_lines()) - (ROWS - 1) + 1)
        if s == STOP_DRUG:
            return len(catalog.DRUGS) + 1
        if s == STOP_CONFIRM or s == UNDO_CONFIRM:
            return 2
        if s == UNDO:
            return max(1, len(self.undoable))
        return 1

    def _move(self, step):
        if self.screen == SEVERITY:
            self.severity = (self.severity + step) % 4
            return
        n = self._item_count()
        self.cursor = (self.cursor + step) % n
        if self.screen == FLAG_DETAIL:
            self.top = self.cursor

    def _select(self):
        s = self.screen
        app = self.app
        if s == HOME:
            if self.cursor in (0, 4, 5) and app.clock_now() is None:
                self.show_message("Clock not set.\nSync with the\nhost first.")
            elif self.cursor == 0:
                self._go(SYMPTOM)
            elif self.cursor == 5:
                from monitor.corrections import own_today
                self.undoable = own_today(app)
                self._go(UNDO)
            else:
                self._go((REMINDERS, FLAGS, STATUS, STOP_DRUG)[self.cursor - 1])
        elif s == UNDO:
            if not self.undoable:
                self._go(HOME, 5)
                return
            self.selected = self.undoable[self.cursor % len(self.undoable)]
            self._go(UNDO_CONFIRM, 1)   # "No" first
        elif s == UNDO_CONFIRM:
            if self.cursor != 0:
                self._go(UNDO)
                return
            # voided in the open: the entry stays in the log, a correction says it no longer counts
            from monitor.corrections import correct
            status, _seq = correct(app, self.selected[0], 0)
            self.show_message("Not voided:\n" + app.status_text(status) if status else
                              "Voided:\n%s\nIt no longer\ncounts." % self._entry_name(self.selected))
        elif s == SYMPTOM:
            self.symptom = self.cursor
            self.severity = 1
            self._go(SEVERITY)
        elif s == SEVERITY:
            now = app.clock_now()
            if now is None:
                self.show_message("Clock not set.")
                return
            status, _seq = app.submit_entry(records.KIND_SYMPTOM, self.symptom, self.severity, 0, now[0], now[1])
            if status:
                self.show_message("Not saved:\n" + app.status_text(status))
            else:
                self.show_message("Saved:\n%s\n%s" % (_symptom_words()[self.symptom], SEVERITY_WORDS[self.severity]))
        elif s == REMINDERS:
            due = app.due_reminders()
            if not due:
                self._go(HOME, 1)
                return
            self.selected = due[self.cursor % len(due)]
            self._go(REMINDER_ACTION)
        elif s == REMINDER_ACTION:
            reminder = app.reminder_id(self.selected)
            if self.cursor == 2:
                self._go(REMINDERS)
                return
            if self.cursor == 0:
                seq = app.acknowledge_reminder(reminder)
                done = "Marked done." if reminder == schedule.M_FERTILITY_REVIEW else \
                    "Drawn: waiting\nfor the result.\nLog it when it\ncomes."
            else:
                seq = app.snooze_reminder(reminder)
                done = "Snoozed 7 days."
            self.show_message(done if seq is not None else "Not saved:\nstorage full,\nsync now.")
        elif s == FLAGS:
            flags = app.flags_now()
            if not flags:
                self._go(HOME, 2)
                return
            self.selected = flags[self.cursor % len(flags)]
            self._go(FLAG_DETAIL)
        elif s == FLAG_DETAIL:
            self._go(FLAGS)
        elif s == STOP_DRUG:
            if self.cursor >= len(catalog.DRUGS):
                self._go(HOME, 4)
                return
            self.drug = self.cursor
            self._go(STOP_CONFIRM, 1)   # "No" first: a stop is never one press away
        elif s == STOP_CONFIRM:
            now = app.clock_now()
            if self.cursor != 0 or now is None:
                self._go(STOP_DRUG, self.drug)
                return
            # a STOP is a dose of 0 (clinical-rules §2): a dose change, the recheck starts again
            status, _seq = app.submit_entry(records.KIND_DOSE, self.drug, 0, 0, now[0], now[1])
            if status:
                self.show_message("Not saved:\n" + app.status_text(status))
            else:
                self.show_message("Saved:\n%s stopped.\nDiscuss it with\nyour clinician." % catalog.DRUGS[self.drug])
        else:
            self._go(HOME)

    def show_message(self, text):
        self.message = text
        self._go(MESSAGE)

    # -- output --------------------------------------------------------------------------------------------
    def _flag_lines(self):
        _rule_id, text, source = self.app.flag_text(self.selected)
        return [self._flag_name(self.selected)] + wrap(text) + wrap("Source: " + source)

    def _flag_name(self, flag):
        rule_id = catalog.RULES[flag[rules.F_RULE]]
        mark = "!" if flag[rules.F_LEVEL] >= P.LEVEL_URGENT else ""
        return mark + SHORT_FLAG.get(rule_id, rule_id)

    def _entry_name(self, entry):
        _seq, minute, kind, code, value = entry
        if kind == records.KIND_SYMPTOM:
            what = "%s %d" % (catalog.SYMPTOMS[code], value)
        elif kind == records.KIND_DOSE:
            what = catalog.DRUGS[code] + (" stop" if value == 0 else "")
        else:
            what = catalog.ANALYTES[code]
        return "%02d:%02d %s" % (minute // 60, minute % 60, what)

    def _reminder_name(self, reminder):
        reminder_id = catalog.REMINDERS[self.app.reminder_id(reminder)]
        mark = "!" if reminder[schedule.M_STATE] == schedule.OVERDUE else ""
        return mark + SHORT_REMINDER.get(reminder_id, reminder_id)

    def lines(self):
        """The screen as up to 8 strings (also what the simulator prints); a leading '>' marks the cursor."""
        s = self.screen
        app = self.app
        updating = sys.modules.get("monitor.update")
        if updating is not None and updating.percent is not None:   # an update arriving over BLE
            return ["Update", "", "Updating %d %%..." % updating.percent, "", "Keep the device", "near the host."]
        if s == HOME:
            now = app.clock_now()
            head = "SET TIME" if now is None else format_date(now[0])
            out = [head, "SYNC NEEDED" if app.room() <= 0 else ""]
            counts = ("", " (%d)" % len(app.due_reminders()), " (%d)" % len(app.flags_now()), "", "", "")
            for i in range(len(HOME_ITEMS)):
                out.append(("> " if i == self.cursor else "  ") + HOME_ITEMS[i] + counts[i])
            return out
        if s == SYMPTOM:
            return self._list("Symptom:", list(_symptom_words()))
        if s == SEVERITY:
            return [_symptom_words()[self.symptom][:COLS], "", "Severity:", "  < %d %s >" % (self.severity, SEVERITY_WORDS[self.severity]),
                    "", "B: save", "hold B: cancel"]
        if s == REMINDERS:
            due = app.due_reminders()
            if not due:
                return ["Reminders", "", "Nothing due.", "", "B: back"]
            return self._list("Due:", [self._reminder_name(r) for r in due])
        if s == REMINDER_ACTION:
            first = "Done" if app.reminder_id(self.selected) == schedule.M_FERTILITY_REVIEW else REMINDER_ACTIONS[0]
            return self._list(self._reminder_name(self.selected)[:COLS], [first] + list(REMINDER_ACTIONS[1:]))
        if s == FLAGS:
            flags = app.flags_now()
            if not flags:
                return ["Flags", "", "No active flag.", "", "B: back"]
            return self._list("Flags:", [self._flag_name(f) for f in flags])
        if s == FLAG_DETAIL:
            lines = self._flag_lines()
            return lines[self.top:self.top + ROWS]
        if s == STOP_DRUG:
            return self._list("Stop a drug:", list(catalog.DRUGS) + ["Back"])
        if s == STOP_CONFIRM:
            return self._list(("Stop %s?" % catalog.DRUGS[self.drug])[:COLS], ["Yes, stopped", "No"])
        if s == UNDO:
            if not self.undoable:
                return ["Undo an entry", "", "Nothing of yours", "from today.", "", "B: back"]
            return self._list("Void which?", [self._entry_name(e) for e in self.undoable])
        if s == UNDO_CONFIRM:
            return self._list(self._entry_name(self.selected)[:COLS], ["Yes, void it", "No"])
        if s == STATUS:
            now = app.clock_now()
            out = ["Clock: " + ("SET TIME" if now is None else "set"),
                   format_date(now[0]) + " %02d:%02d" % (now[1] // 60, now[1] % 60) if now else "no reminders",
                   "Sync: " + ("never" if app.last_sync_day == 0xFFFF else format_date(app.last_sync_day)),
                   "Stored: %d" % app.store.count_from(0),
                   "Unsynced: %d" % app.unsynced_count()]
            from monitor import version
            out.append("Version: " + version.VERSION)
            pct = app.battery_percent()
            out.append("Battery: " + ("n/a" if pct is None else "%d%%" % pct))
            out.append("BLE: " + self.radio)
            return out
        return wrap(self.message or "")[:ROWS - 1] + ["B: ok"]

    def _list(self, title, items):
        visible = ROWS - 1
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + visible:
            self.top = self.cursor - visible + 1
        out = [title]
        for i in range(self.top, min(len(items), self.top + visible)):
            out.append(("> " if i == self.cursor else "  ") + items[i][:COLS - 1])
        return out

    def render(self):
        """Redraws the screen if anything changed; returns True when it drew."""
        if not self.dirty:
            return False
        self.dirty = False
        d = self.display
        if d is None:
            return False
        d.fill(0)
        y = 0
        for line in self.lines()[:ROWS]:
            if line.startswith("> "):          # the cursor's line, inverted
                d.fill_rect(0, y, 128, 8, 1)
                d.text(line[2:COLS + 1], 8, y, 0)
            elif line.startswith("  "):        # other items of a list, indented like the cursor's
                d.text(line[2:COLS + 1], 8, y, 1)
            else:
                d.text(line[:COLS], 0, y, 1)
            y += 8
        d.show()
        return True
