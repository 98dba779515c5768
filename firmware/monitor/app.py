"""The device app: the store, the tracker (derived state), the clock and the rule profile, in one object.

Everything that changes the log goes through here, from the buttons (device.ui) and from BLE
(device.ble_service.BleService(ble, app)):

    app = App(store, clock, data_dir, battery=None, board_name=None, boot_selector=None, flash_bytes=0)
        # store: monitor.store.Store; clock: monitor.clock.Clock; from main.py for updates (monitor.update):
        # the board's NAME, a function returning update_boot, the A/B boot selector, and a simulated
        # flash's size (the simulator's board.FLASH_BYTES; 0 on a board: the file system's own free space)
    app.boot()                              # profile from flash, tracker from the snapshot + log replay
    app.submit_entry(kind, code, value, flags, day, minute, role=0, options=0) -> (status, seq)   # 0 = stored
        # options: protocol.ENTRY_OPT_* a host confirmed (an exact duplicate, an unusual date: entry_checks)
    app.correct(request, role) -> (status, seq)   # a host's void or amend (monitor.corrections; the menu
        # calls monitor.corrections.correct)
        # role: 0 = the device's own buttons, else the session role of the host that pushed it
    app.clock_now() -> (day, minute, second) or None      # None: clock unset, no reminder fires
    app.set_clock(day, minute, second, flag=0) -> status  # a jump >= 5 min is logged as EVENT_CLOCK_SET;
        # a day before the newest record's is refused (protocol.ERR_CLOCK_BACK) unless flag TIME_FORCE
    app.room() -> int                                     # records hosts may still push; 0: "SYNC NEEDED"
    app.profile_blob() -> bytes ; app.set_profile(blob) -> status
    app.alerts_payload() -> bytes                         # monitor.protocol's alerts encoding
    app.acknowledge_sync(upto_seq)                        # host stored everything up to upto_seq
    app.battery_percent() -> int or None
    app.flags_now() / app.reminders_now()                 # the tracker's integer tuples for today
    app.acknowledge_reminder(reminder) / app.snooze_reminder(reminder, days)   # -> seq, None if store full
    app.update_staged                                     # True once an update waits for the next boot

No machine or bluetooth here: this runs unchanged on CPython, the unix port and the boards.
"""
import os
import struct

from monitor import protocol
from monitor import records
from monitor import rules
from monitor import profile as P
from monitor import schedule
from monitor.store import StoreFull
from monitor.tracker import Tracker

from micropython import const

from monitor.clock import JUMP_LOG_SECONDS
from monitor.records import NO_DAY
from monitor.profile import P_PUSH_DAY_BUDGET

SNAPSHOT_EVERY = const(64)        # records between snapshots: bounds the replay at boot
PROFILE_FILE = "profile.bin"
# The app's own part of the snapshot, ahead of the tracker's blob: last sync day, newest record day (of the
# current clock epoch), last sync record number, day the clock was last forced back (NO_DAY: never), and
# the patient's push budget: its day (NO_DAY: none) and the pushes counted that day.
APP_STATE_FORMAT = "<HHIHHH"
APP_STATE_SIZE = const(14)
CLOCK_FORCED = const(1)   # EVENT_CLOCK_SET flags: set back before the newest record by a clinician's --force


def _join(directory, name):
    return directory + "/" + name if directory else name


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class App:
    def __init__(self, store, clock, data_dir, battery=None, snapshot_every=SNAPSHOT_EVERY, board_name=None,
                 boot_selector=None, flash_bytes=0):
        self.store = store
        self.clock = clock
        self.data_dir = data_dir
        self.battery = battery
        self.snapshot_every = snapshot_every
        self.board_name = board_name
        self.boot_selector = boot_selector
        self.flash_bytes = flash_bytes   # a simulated flash's size (the board's FLASH_BYTES), else 0: statvfs
        self.update_staged = False     # set by monitor.update; the runner then resets the board
        self._empty()
        self.changed = 0               # bumped on every stored record: the UI and BLE redraw/notify on change
        # [day, count] of entries the patient's host pushed (profile PUSH_DAY_BUDGET); RAM only: a reboot
        # needs the board in hand. (Names reuse interned ones: README, Performance, the qstr table.)
        self._budget = [-1, 0]

    def _empty(self):
        """The state of a device with no log and the default profile."""
        self.profile = P.Profile()
        self.tracker = Tracker(self.profile)
        self.last_sync_day = NO_DAY
        self.last_sync_seq = 0
        self.newest_day = 0
        # Entries dated before floor_day are refused: the day of the last forced set-back (a new clock epoch).
        self.floor_day = NO_DAY
        self.since_snapshot = 0
        self.changed = 0               # bumped on every stored record: the UI and BLE redraw/notify on change
        # [day, count] of entries the patient's host pushed (profile PUSH_DAY_BUDGET); kept in the snapshot,
        # so a reboot does not renew it. (Names reuse interned ones: README, Performance, the qstr table.)
        self._budget = [-1, 0]
        self._replaying = False
        self._corrected = False        # a correction seen since boot's replay began (boot re-evaluates)

    # -- boot -------------------------------------------------------------------------------------------
    def boot(self):
        """Profile from flash, then the tracker from the snapshot plus every record after it."""
        self._load_profile()
        start = 0
        snap = self.store.load_snapshot()
        if snap is not None:
            upto, blob = snap
            if self._load_snapshot_blob(blob):
                start = upto + 1
        self._replaying = start > 0   # after a snapshot: its records count against the push budget
        self._corrected = False       # set by _observe: a correction after the snapshot
        replayed = self._replay(start)
        self._replaying = False
        if self._corrected:
            # a correction the snapshot does not cover (the power went before its own was saved): its
            # target was applied above; evaluate the log again without it
            from monitor.corrections import rebuild
            rebuild(self)
            self.save_snapshot()
        self.clock.trust_after(self.newest_day)
        return replayed

    def _load_profile(self):
        # An older version's profile is migrated as it is read (every clinician value kept) and left on flash
        # as written: firmware rolled back after a failed update still reads it. The next profile a
        # clinician sends is stored in this version's format.
        path = _join(self.data_dir, PROFILE_FILE)
        if not _exists(path):
            return
        with open(path, "rb") as f:
            blob = f.read()
        from monitor import profile_codec
        try:
            self.profile = profile_codec.decode(blob)
        except ValueError:
            # A damaged profile file: keep the defaults; the clinician sees PROFILE_SET missing and re-sends.
            self.profile = P.Profile()
        self.tracker = Tracker(self.profile)

    def _load_snapshot_blob(self, blob):
        if len(blob) < APP_STATE_SIZE:
            return False
        sync_day, newest, sync_seq, epoch, budget_day, budget_count = struct.unpack_from(APP_STATE_FORMAT, blob, 0)
        try:
            self.tracker.load(memoryview(blob)[APP_STATE_SIZE:])
        except ValueError:
            self.tracker = Tracker(self.profile)   # rebuild from the whole log instead
            return False
        self.last_sync_day = sync_day
        self.newest_day = newest
        self.last_sync_seq = sync_seq
        self.floor_day = epoch
        # the records after the snapshot are counted too (the log does not say which a patient pushed: the
        # count may only be too high, never too low)
        self._budget = [-1 if budget_day == NO_DAY else budget_day, budget_count]
        return True

    def _replay(self, start):
        return self.store.replay(start, self._observe)

    def _observe(self, seq, day, minute, kind, code, value, flags):
        self.tracker.apply(seq, day, minute, kind, code, value, flags)
        if self._replaying and kind != records.KIND_EVENT:
            self._budget[1] += 1
        if day > self.newest_day:
            self.newest_day = day
        if kind == records.KIND_EVENT:
            if code == records.EVENT_SYNC_MARK:
                self.last_sync_day = day
                self.last_sync_seq = value
            elif code == records.EVENT_CLOCK_SET and flags & CLOCK_FORCED:
                # a new clock epoch: the records before it carry the old clock's dates
                self.newest_day = day
                self.floor_day = day
            elif code == records.EVENT_VOID or code == records.EVENT_AMEND:
                self._corrected = True

    def wipe(self):
        """Erases the log and the profile (a new device key over USB, monitor.endpoint): the app starts as
        a new device does. The clock stays: it is the device's, not the patient's."""
        self.store.wipe()
        path = _join(self.data_dir, PROFILE_FILE)
        if _exists(path):
            os.remove(path)
        self._empty()
        self.changed += 1

    # -- writing ----------------------------------------------------------------------------------------
    def _append(self, day, minute, kind, code, value, flags):
        seq = self.store.append(day, minute, kind, code, value, flags)
        self._observe(seq, day, minute, kind, code, value, flags)
        self.changed += 1
        self.since_snapshot += 1
        if self.since_snapshot >= self.snapshot_every:
            self.save_snapshot()
        return seq

    def save_snapshot(self):
        last = self.tracker.last_seq
        if last is None or last < 0:
            return
        from monitor.snapshot import SIZE
        # one buffer for the app's part and the tracker's: on a fragmented heap each ~0.8 KB block counts
        blob = bytearray(APP_STATE_SIZE + SIZE)
        budget = self._budget
        struct.pack_into(APP_STATE_FORMAT, blob, 0, self.last_sync_day, self.newest_day, self.last_sync_seq,
                         self.floor_day, NO_DAY if budget[0] < 0 else budget[0], budget[1])
        self.tracker.dump_into(memoryview(blob)[APP_STATE_SIZE:])
        self.store.save_snapshot(last, blob)
        self.since_snapshot = 0

    def submit_entry(self, kind, code, value, flags, day, minute, role=0, options=0):
        """Validates and stores one lab, dose or symptom; returns (status, seq) with seq None unless stored
        (ERR_DUPLICATE: seq is the record already stored). role 0: the device's buttons (may use the
        reserve); else the role of the host that pushed it, whose options (protocol.ENTRY_OPT_*) confirm an
        exact duplicate or an unusual date (monitor.entry_checks)."""
        if kind == records.KIND_EVENT:
            return records.ERR_KIND, None   # events are the device's own records
        now = self.clock.now()
        if now is None:
            status = self.tracker.check(kind, code, value, flags, day, minute, -1)
        else:
            status = self.tracker.check(kind, code, value, flags, day, minute, now[0],
                                        now[0] * records.MINUTES_PER_DAY + now[1])
        if status:
            return status, None
        if self.floor_day != NO_DAY and day < self.floor_day:
            return records.ERR_BEFORE_CLOCK, None
        both = protocol.ENTRY_OPT_DUPLICATE | protocol.ENTRY_OPT_DATE
        if role and options & both != both:   # a host's push not confirmed both ways: entry_checks may refuse
            from monitor.entry_checks import check
            status = check(self, kind, code, value, flags, day, minute, options)
            if status:
                return status
        budget = self._budget
        if role:
            if self.room() <= 0:
                return protocol.ERR_STORE_FULL, None   # the rest is the buttons' reserve
            if role == protocol.ROLE_PATIENT:
                if budget[0] != now[0]:
                    budget[0] = now[0]
                    budget[1] = 0
                if budget[1] >= self.profile.params[P_PUSH_DAY_BUDGET]:
                    return records.ERR_BUDGET, None
        if role == protocol.ROLE_CLINICIAN:
            flags |= records.FLAG_CLINIC    # after validation, which refuses the bit from any host
        try:
            seq = self._append(day, minute, kind, code, value, flags)
        except StoreFull:
            return protocol.ERR_STORE_FULL, None   # nothing unsynced is evicted: the patient is told to sync
        if role == protocol.ROLE_PATIENT:
            budget[1] += 1
            if budget[1] >= self.profile.params[P_PUSH_DAY_BUDGET]:
                self.save_snapshot()   # spent: kept across a reboot
        return 0, seq

    def correct(self, request, role):
        """A host's correction request (monitor.corrections.decode_correction) -> (status, seq), as submit_entry."""
        from monitor.corrections import request as correct
        return correct(self, request, role)

    def room(self):
        """Records hosts may still push; the last segment's worth is kept for the device's own buttons and
        events. 0: the screen shows SYNC NEEDED."""
        return max(0, self.store.room() - self.store.segment_records)

    def log_event(self, code, value, flags=0):
        """Logs a device event at the current time (or day 0 while the clock is unset); None if the store
        is full."""
        now = self.clock.now()
        day, minute = (now[0], now[1]) if now is not None else (0, 0)
        try:
            return self._append(day, minute, records.KIND_EVENT, code, value, flags)
        except StoreFull:
            return None

    # -- clock --------------------------------------------------------------------------------------------
    def clock_now(self):
        return self.clock.now()

    def set_clock(self, day, minute, second, flag=0):
        """Sets the wall clock; returns 0, records.ERR_DATE for an impossible time, or protocol.ERR_CLOCK_BACK
        for a day before the newest stored record's (such a clock would read as unset). flag TIME_FORCE sets it
        anyway, starts a new clock epoch and logs the jump with CLOCK_FORCED."""
        if not self.clock.check(day, minute, second):
            return records.ERR_DATE
        back = day < self.newest_day
        if back and not flag & protocol.TIME_FORCE:
            return protocol.ERR_CLOCK_BACK
        was_set, jump = self.clock.set(day, minute, second)
        if back or not was_set or jump >= JUMP_LOG_SECONDS or jump <= -JUMP_LOG_SECONDS:
            self.log_event(records.EVENT_CLOCK_SET, jump, CLOCK_FORCED if back else 0)
        return 0

    def today(self):
        now = self.clock.now()
        return None if now is None else now[0]

    # -- profile ------------------------------------------------------------------------------------------
    def profile_blob(self):
        from monitor import profile_codec
        return profile_codec.encode(self.profile)

    def set_profile(self, blob):
        from monitor import profile_codec
        try:
            profile = profile_codec.decode(bytes(blob))
        except ValueError:
            return records.ERR_PROFILE
        path = _join(self.data_dir, PROFILE_FILE)
        tmp = path + ".new"
        with open(tmp, "wb") as f:
            f.write(blob)
        os.rename(tmp, path)   # atomic on littlefs: the old profile stays until the new one is whole
        self.profile = profile
        # Derived state depends on the profile: rebuild it from the log (the log is the truth), without the
        # entries corrections took back.
        from monitor.corrections import rebuild
        rebuild(self, False)
        self.log_event(records.EVENT_PROFILE_SET, profile.crc() & 0x7FFFFFFF)
        self.save_snapshot()
        return 0

    # -- alerts -------------------------------------------------------------------------------------------
    def flags_now(self):
        """Lab and symptom flags; with the clock unset the date-based rules stay quiet."""
        today = self.today()
        return self.tracker.flags(-1 if today is None else today)

    def reminders_now(self):
        """Every reminder with its state (upcoming, due, overdue, done); none while the clock is unset."""
        today = self.today()
        return () if today is None else self.tracker.reminders(today)

    def alerts_payload(self):
        return protocol.encode_alerts(self.flags_now(), self.reminders_now())

    def acknowledge_reminder(self, reminder):
        return self.log_event(records.EVENT_ACK, reminder)

    def snooze_reminder(self, reminder, days=schedule.SNOOZE_MAX):
        return self.log_event(records.EVENT_SNOOZE, reminder, days)

    # -- sync ---------------------------------------------------------------------------------------------
    def acknowledge_sync(self, upto_seq):
        if not 0 <= upto_seq < self.store.next_seq:
            return records.ERR_RANGE
        if upto_seq <= self.store.acked:
            return 0               # already known: no new sync mark
        self.store.acknowledge(upto_seq)
        self.log_event(records.EVENT_SYNC_MARK, upto_seq)
        self.save_snapshot()       # acknowledged segments are freed only once snapshots cover them
        self.store.reclaim()
        return 0

    def unsynced_count(self):
        return self.store.count_from(self.store.acked + 1)

    def status_text(self, status):
        """Plain words for a status from submit_entry / set_profile (records or protocol codes)."""
        from monitor import protocol_text
        return protocol_text.error_text(status)

    def battery_percent(self):
        return None if self.battery is None else self.battery.percent()

    # -- words for the screen: plain text from monitor.texts, names from monitor.catalog, loaded only when a
    # screen or host asks (not through rules/schedule, whose helpers would load the host's tools too) ------
    def due_reminders(self):
        """Reminders the patient should act on now: due or overdue, not acknowledged or snoozed."""
        out = []
        for r in self.reminders_now():
            if r[schedule.M_STATE] in (schedule.DUE, schedule.OVERDUE) and r[schedule.M_MUTED] == schedule.MUTED_NO:
                out.append(r)
        return out

    def reminder_id(self, reminder):
        return reminder[schedule.M_ID]

    def reminder_title(self, reminder):
        from monitor import texts
        return texts.reminder_text(reminder[schedule.M_ID], self.profile.params)

    def reminder_text(self, reminder):
        from monitor import texts
        return texts.describe_reminder(reminder[schedule.M_ID], reminder[schedule.M_STATE],
                                       reminder[schedule.M_DUE], self.profile.params)

    def flag_text(self, flag):
        """(rule ID, plain text ending in "discuss with your clinician", source tag) of a flag tuple."""
        from monitor import catalog, texts
        rule = flag[rules.F_RULE]
        return (catalog.RULES[rule],
                texts.message(rule, flag[rules.F_VALUE], flag[rules.F_VALUE2], flag[rules.F_STATUS],
                              self.profile.params),
                texts.RULE_SOURCES[rule])
