# Which firmware version boots: the deployed copy, or an update in an A/B slot directory on the flash.
# This module is never part of an update (like a bootloader): main.py runs it before any other firmware
# module loads, so the chosen slot's packages are the ones imported.  It imports nothing of the firmware.
#
#   select(ota_dir) -> (slot, on_trial)   puts OTA_DIR/<slot> first on sys.path ("" = the deployed copy)
#   stage(slot, version)                  the next boot tries slot (the update is verified and whole)
#   confirm()                             the running trial passed its self-test and a session: keep it
#   rollback(outcome)                     give up the trial: the previous version boots next
#   read_state() -> [confirmed, trial, tries, outcome, note]
#   floor() / raise_floor(sequence)       the anti-rollback floor: no release below it installs (monitor.update)
#
# State: one small text file, replaced by rename (atomic on littlefs), so a power cut leaves the old or
# the new state.  A trial boots once: select() counts the try before running it, so a trial that is
# reset before it confirms itself (watchdog, crash, power cut) boots the confirmed version next time.
import os
import sys


def _ota_dir():
    """Beside the boards' DATA_DIR ("/data"), which `e2mon deploy` keeps; on the unix port (the simulator,
    sim/upy/board.py) beside the host directory E2MON_FLASH names. The boards' `os` has no getenv."""
    getenv = getattr(os, "getenv", None)
    flash = getenv("E2MON_FLASH") if getenv is not None and sys.platform not in ("rp2", "esp32") else None
    return flash + "/ota" if flash else "/data/ota"


OTA_DIR = _ota_dir()
STATE = "state"
FLOOR = "floor"   # the highest anti-rollback floor a confirmed version carried (kept like the state)
SLOTS = ("a", "b")

# outcomes, reported to the host with the running version (monitor.update STATUS)
NONE = 0
STAGED = 1            # verified and waiting for the next boot
ON_TRIAL = 2          # running, not confirmed yet
CONFIRMED = 3
SELFTEST_FAILED = 4   # rolled back: the new version failed its self-test
NOT_CONFIRMED = 5     # rolled back: reset before the new version confirmed itself
CANCELLED = 6         # a staged update replaced or withdrawn before it booted

_booted = [None, False, OTA_DIR, None]   # slot, on trial, ota dir of this boot, the path entry it added


class _Files:
    def open(self, path, mode):
        return open(path, mode)

    def rename(self, src, dst):
        os.rename(src, dst)

    def sync(self, f):
        f.flush()


def _fs(fs):
    return _Files() if fs is None else fs


def read_state(ota_dir=None, fs=None):
    """[confirmed slot, trial slot, tries, outcome, note]; slots "" when none."""
    ota_dir = ota_dir or _booted[2]
    try:
        f = _fs(fs).open(ota_dir + "/" + STATE, "rb")
        try:
            parts = bytes(f.read(200)).decode().split("|")
        finally:
            f.close()
        if len(parts) == 6 and parts[0] == "E2B1" and parts[1] in SLOTS + ("",) and parts[2] in SLOTS + ("",):
            return [parts[1], parts[2], int(parts[3]), int(parts[4]), parts[5]]
    except (OSError, ValueError):
        pass
    return ["", "", 0, NONE, ""]


def write_state(state, ota_dir=None, fs=None):
    ota_dir = ota_dir or _booted[2]
    fs = _fs(fs)
    path = ota_dir + "/" + STATE
    f = fs.open(path + ".tmp", "wb")
    try:
        f.write(("E2B1|%s|%s|%d|%d|%s" % tuple(state)).encode())
        fs.sync(f)
    finally:
        f.close()
    fs.rename(path + ".tmp", path)


def _write(state, ota_dir=None, fs=None):
    """write_state; False when the flash refuses the write (full, worn): the old state stays whole."""
    try:
        write_state(state, ota_dir, fs)
        return True
    except OSError:
        return False


def select(ota_dir=OTA_DIR, fs=None, path=None):
    """Decides this boot's version, counts a trial's try, and puts its slot first on path (sys.path)."""
    path = sys.path if path is None else path
    if _booted[3] in path:   # a soft reset keeps sys.path: the last boot's slot goes
        path.remove(_booted[3])
    _booted[2] = ota_dir
    _booted[3] = None
    state = read_state(ota_dir, fs)
    confirmed, trial, tries = state[0], state[1], state[2]
    on_trial = False
    slot = confirmed
    if trial:
        if tries == 0:
            state[2] = 1
            state[3] = ON_TRIAL
            # counted before it runs: a reset from here on rolls back; a try that cannot be counted (a full
            # flash) is not run, the confirmed version boots and the next boot tries again
            if _write(state, ota_dir, fs):
                slot = trial
                on_trial = True
        else:
            _write([confirmed, "", 0, NOT_CONFIRMED, state[4]], ota_dir, fs)
    _booted[0] = slot
    _booted[1] = on_trial
    if slot:
        _booted[3] = ota_dir + "/" + slot
        path.insert(0, _booted[3])
    return slot, on_trial


def read_dir():
    """The slots' directory this boot chose from."""
    return _booted[2]


def booted():
    """(slot, on trial) of this boot; slot "" or None: the deployed copy."""
    return _booted[0] or "", _booted[1]


def stage(slot, version, fs=None):
    state = read_state(None, fs)
    write_state([state[0], slot, 0, STAGED, version], None, fs)


def cancel(fs=None):
    """Withdraws an update that is staged but not running (its slot is about to be reused); False if the
    state could not be written."""
    state = read_state(None, fs)
    if state[1] and not (_booted[1] and _booted[0] == state[1]):
        return _write([state[0], "", 0, CANCELLED, state[4]], None, fs)
    return True


def confirm(fs=None):
    state = read_state(None, fs)
    if _booted[1] and state[1] == _booted[0] and _write([state[1], "", 0, CONFIRMED, state[4]], None, fs):
        _booted[1] = False
        return True
    return False


def rollback(outcome, fs=None):
    """Gives up the trial; False if the state could not be written (the trial was counted at select, so the
    next boot runs the confirmed version anyway)."""
    state = read_state(None, fs)
    written = _write([state[0], "", 0, outcome, state[4]], None, fs) if state[1] else True
    _booted[1] = False
    return written


def floor(fs=None):
    """The kept anti-rollback floor, 0 if none."""
    try:
        f = _fs(fs).open(_booted[2] + "/" + FLOOR, "rb")
        try:
            return int(bytes(f.read(12)).decode())
        finally:
            f.close()
    except (OSError, ValueError):
        return 0


def raise_floor(sequence, fs=None):
    """Keeps sequence as the floor if it is higher (tmp + rename); False if the flash refused the write (the
    running version's own floor still holds while it runs)."""
    if sequence <= floor(fs):
        return True
    fs = _fs(fs)
    path = _booted[2] + "/" + FLOOR
    try:
        f = fs.open(path + ".tmp", "wb")
        try:
            f.write(str(sequence).encode())
            fs.sync(f)
        finally:
            f.close()
        fs.rename(path + ".tmp", path)
        return True
    except OSError:
        return False
