"""Power cuts on the update path (CPython only): staging, switching and confirming, on bench/powercut.py's
journaling FaultFS, with the device's own code (monitor/update.py, update_boot.py, monitor.store).

run_workload() journals three updates in a row on one flash, the patient logging entries between chunks:
base -> 1.1 (slot a) -> 1.2 (slot b) -> 1.3 (slot a again, wiping 1.1): each BEGIN, every chunk, APPLY, the
restart that boots it on trial and the session that confirms it. check_cut() takes the flash as a cut left it
and boots it: the version update_boot picks must be whole (its signed manifest verifies and every file matches
its hash; the deployed copy outside the slots always is), and so must the one picked after a second reset
before confirmation; every entry whose append returned before the cut is in the log, intact. With resume=True
the host then sends the same bundle again: it must stage and boot.

The cases beyond it, each journalled from the flash the three updates leave (or, for the full flash, from the
start): run_workload_full_flash() runs the same updates on a flash with a capacity, so the third one meets
ENOSPC, and check_cut(full_boot=True) also boots every cut state with no byte left (update_boot.select must
still pick a whole version); run_workload_trial_crash() stages a fourth version, boots it on trial and crashes
before the app (main.boot's rollback: the cuts fall inside that write); run_workload_cancel() stages a fourth
version and sends a fifth, whose BEGIN cancels and wipes it.
"""
import hashlib
import os
import random
import sys

from bench import powercut as pc
from monitor import bundle, lms, protocol, protocol_host
from monitor.store import Store

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "firmware"))
import update_boot  # noqa: E402  (firmware/update_boot.py: outside the monitor package, as on the board)

DATA = "/data"
OTA = DATA + "/ota"
BOARD = "pico_w"
CHUNK = 223            # what one write carries at MTU 247 (244 - 16 frame - 5 header)


class StubApp:
    """What monitor.update needs of the device app: its data dir, board, boot selector and the log for its
    events."""

    def __init__(self, store):
        self.data_dir = DATA
        self.board_name = BOARD
        self.boot_selector = lambda: update_boot
        self.store = store
        self.changed = 0
        self.appends = []

    def log_event(self, code, value, flags=0):
        return self.store.append(9600, 600, 3, code, value, flags & 0xFF)


def releases(key_name, rng, count=3):
    """count small signed bundles for BOARD ("py" code): (version, bundle bytes, header size)."""
    from host_tools import release
    out = []
    for n in range(count):
        version = "1.%d" % (n + 1)
        files = [("monitor/__init__.py", b""),
                 ("monitor/version.py", ("VERSION = %r\nSEQUENCE = %d\n" % (version, n + 1)).encode())]
        for name in ("monitor/rules.py", "device/app.py", "device/__init__.py"):
            size = 0 if name.endswith("__init__.py") else rng.randrange(200, 700)
            files.append((name, bytes(rng.randrange(32, 127) for _ in range(size))))
        data = release.make_bundle(files, BOARD, "py", version, n + 1, lambda m: release.sign(key_name, m))
        out.append((version, data, bundle.header_size(data)))
    return out


def _send(updater, data, header, start=0):
    ident = hashlib.sha256(data[:header]).digest()
    begin = protocol_host.encode_update_begin(len(data), header, ident)
    reply = updater.request(begin)
    _op, status, stored, _t, _ = protocol_host.decode_update_reply(reply)
    if status:
        return status
    offset = stored
    while offset < len(data):
        _op, status, offset, _t, _ = protocol_host.decode_update_reply(
            updater.request(protocol_host.encode_update_chunk(offset, data[offset:offset + CHUNK])))
        if status:
            return status
    _op, status, _s, _t, _ = protocol_host.decode_update_reply(updater.request(bytes((protocol.UPDATE_APPLY,))))
    return status


def run_workload(key_name, seed=3, capacity=None):
    """Journals the three updates; returns (journal, oracle, initial files, initial dirs, public key, bundles).
    capacity: the flash's size in bytes; an update that meets a full flash is given up, as a host would."""
    rng = random.Random(seed)
    with open(key_name + ".pub", "rb") as f:
        public_key = f.read()
    bundles = releases(key_name, rng)
    base = pc.FaultFS()
    base.mkdir(DATA)
    f = base.open(DATA + "/publisher.pub", "wb")
    f.write(public_key)
    f.close()
    store = Store(pc.DIRECTORY, fs=base)
    for i in range(20):
        store.append(9600, i, 2, i % 13, i % 4, 0)
    store.close()
    files, dirs = dict(base.files), set(base.dirs)
    journal = []
    fs = (pc.FaultFS if capacity is None else _Crowded)(files, dirs, journal=journal, capacity=capacity)
    update_boot.select(OTA, fs, path=[])
    run = _Run(fs, journal, rng)
    for version, data, header in bundles:
        if run.stage(version, data, header, public_key, full_ok=capacity is not None):
            run.boot_and_confirm(version, strict=capacity is None)
    run.store.close()
    return journal, {"appends": run.appends}, files, dirs, public_key, bundles


class _Crowded(pc.FaultFS):
    """A flash that said it had room at BEGIN (statvfs) and fills up while the update comes in (the log grows,
    littlefs's estimate is generous): the writes meet ENOSPC at its capacity."""

    def free_bytes(self, path):
        return 1 << 30


class _Run:
    """One journalled flash with the device's store and updater; appends: (seq, journal length) of every
    entry whose append returned."""

    def __init__(self, fs, journal, rng):
        self.fs, self.journal, self.rng = fs, journal, rng
        self.store = Store(pc.DIRECTORY, fs=fs)
        self.app = StubApp(self.store)
        self.appends = []

    def stage(self, version, data, header, public_key, full_ok=False):
        """Sends one bundle in chunks (the patient logging between them) and applies it; True if staged. With
        full_ok a refusal for space (or a store that cannot append) gives the update up instead of failing."""
        from monitor.update import Updater
        updater = Updater(self.app, fs=self.fs, ota_dir=OTA, public_key=public_key)
        ident = hashlib.sha256(data[:header]).digest()
        requests = [protocol_host.encode_update_begin(len(data), header, ident)]
        offset = 0
        while True:
            for request in requests:
                reply = protocol_host.decode_update_reply(updater.request(request))
                if reply[1] and full_ok and reply[1] == protocol.ERR_UPDATE_SPACE:
                    return False
                assert reply[1] == 0, (version, offset, reply)
                offset = reply[2]
            if offset >= len(data):
                break
            requests = [protocol_host.encode_update_chunk(offset, data[offset:offset + CHUNK])]
            if self.rng.random() < 0.3:          # the patient logs a symptom while the update comes in
                self._append(9600, 700, 2, self.rng.randrange(13), self.rng.randrange(4), 0, full_ok)
        reply = protocol_host.decode_update_reply(updater.request(bytes((protocol.UPDATE_APPLY,))))
        if reply[1] and full_ok and reply[1] in (protocol.ERR_UPDATE_SPACE, protocol.ERR_INTERNAL):
            return False
        assert reply[1] == 0, reply
        self.appends.append((self.store.next_seq - 1, len(self.journal)))     # the STAGED event
        return True

    def _append(self, day, minute, kind, code, value, flags, full_ok=False):
        try:
            seq = self.store.append(day, minute, kind, code, value, flags)
        except Exception:  # noqa: BLE001 - StoreFull or ENOSPC on a full flash: the entry is refused, not lost
            if not full_ok:
                raise
            return
        self.appends.append((seq, len(self.journal)))

    def restart(self):
        """The device restarts: the store mounts again after update_boot picked the version."""
        self.store.close()
        slot, trial = update_boot.select(OTA, self.fs, path=[])
        self.store = Store(pc.DIRECTORY, fs=self.fs)
        self.app.store = self.store
        return slot, trial

    def boot_and_confirm(self, version, strict=True):
        """The restart into the staged version on trial, and the session that confirms it (strict: both must
        happen; on a full flash either may not)."""
        _slot, trial = self.restart()
        confirmed = trial and update_boot.confirm(self.fs)     # self-test passed, a session accepted
        assert confirmed or not strict, version
        if confirmed:
            self._append(9600, 800, 3, 8, version.count("."), update_boot.CONFIRMED, not strict)


def _after(journal, files, dirs):
    """The flash a journal leaves."""
    files, dirs = dict(files), set(dirs)
    for op in journal:
        pc._apply(files, dirs, op)
    return files, dirs


def _continued(key_name, seed):
    """The flash the three updates leave, journalling from there; (run, files, dirs, public key, bundles,
    the two further bundles 1.4 and 1.5)."""
    journal0, _oracle, files0, dirs0, public_key, bundles = run_workload(key_name)
    files, dirs = _after(journal0, files0, dirs0)
    rng = random.Random(seed)
    further = releases(key_name, rng, count=5)[3:]
    journal = []
    fs = pc.FaultFS(files, dirs, journal=journal)
    update_boot.select(OTA, fs, path=[])
    return _Run(fs, journal, rng), files, dirs, public_key, bundles + further, further


def run_workload_full_flash(key_name, seed=3):
    """The three updates on a flash too small for the third: the same returns as run_workload."""
    probe = run_workload(key_name, seed)
    files, dirs = _after(probe[0], probe[2], probe[3])
    capacity = sum(len(v) for v in files.values()) - 3000   # the third update cannot finish
    return run_workload(key_name, seed, capacity)


def run_workload_trial_crash(key_name, seed=4):
    """A fourth version staged and booted on trial crashes before the app (main.boot rolls it back)."""
    run, files, dirs, public_key, bundles, further = _continued(key_name, seed)
    version, data, header = further[0]
    assert run.stage(version, data, header, public_key)
    _slot, trial = run.restart()
    assert trial
    update_boot.rollback(update_boot.NOT_CONFIRMED, run.fs)   # main.give_way, before the board resets
    slot, trial = run.restart()
    assert (slot, trial) == ("a", False), (slot, trial)       # the confirmed 1.3
    run.store.close()
    return run.journal, {"appends": run.appends}, files, dirs, public_key, bundles[:4]


def run_workload_cancel(key_name, seed=5):
    """A fourth version staged, then a fifth sent: its BEGIN cancels the fourth and wipes its slot."""
    run, files, dirs, public_key, bundles, further = _continued(key_name, seed)
    assert run.stage(*further[0], public_key)
    assert update_boot.read_state(OTA, run.fs)[1] == "b"
    version, data, header = further[1]
    assert run.stage(version, data, header, public_key)
    run.boot_and_confirm(version)
    run.store.close()
    return run.journal, {"appends": run.appends}, files, dirs, public_key, bundles


class Checker:
    def __init__(self, public_key, bundles):
        self.public_key = public_key
        self.bundles = bundles
        self._whole = {}

    def whole(self, fs, slot):
        """True if slot holds a complete version its signed manifest describes."""
        if not slot:
            return True            # the copy deployed over USB, outside the slots: never touched
        prefix = OTA + "/" + slot + "/"
        header = fs.files.get(prefix + "HEADER")
        if header is None:
            return False
        key = (slot, hashlib.sha256(header).digest(),
               tuple(sorted((p, len(v)) for p, v in fs.files.items() if p.startswith(prefix))))
        if key not in self._whole:
            self._whole[key] = self._check(fs, prefix, bytes(header))
        return self._whole[key]

    def _check(self, fs, prefix, header):
        try:
            raw, signature = bundle.split_header(header)
            manifest = bundle.Manifest(raw)
        except bundle.BundleError:
            return False
        if not lms.verify_hss(self.public_key, raw, signature):
            return False
        for path, size, digest in manifest.files:
            data = fs.files.get(prefix + path)
            if data is None or len(data) != size or hashlib.sha256(bytes(data)).digest() != digest:
                return False
        return True


def check_cut(files, dirs, oracle, op_index, checker, resume=False, full_boot=False):
    """(bricked 0/1, records lost, problems) for one cut state. full_boot: the cut state is also booted with
    the flash full (every write fails), first."""
    problems = []
    bricked = 0
    if full_boot:
        full = pc.FaultFS(files, dirs)
        full.capacity = full.bytes_used()
        bricked = _boots(full, op_index, checker, problems, "full ")
    fs = pc.FaultFS(files, dirs)
    bricked |= _boots(fs, op_index, checker, problems)
    store = Store(pc.DIRECTORY, fs=fs)
    present = {}
    for record in store.records(0):
        present[record[0]] = record
    lost = sum(1 for seq, at in oracle["appends"] if at <= op_index and seq not in present)
    if resume and not bricked:
        from monitor.update import Updater
        app = StubApp(store)
        version, data, header = checker.bundles[-1]
        updater = Updater(app, fs=fs, ota_dir=OTA, public_key=checker.public_key)
        status = _send(updater, data, header)
        if status not in (protocol.STATUS_OK, protocol.ERR_UPDATE_OLDER):
            problems.append("op %d: resending %s refused with 0x%02x" % (op_index, version, status))
        elif status == protocol.STATUS_OK:
            slot, trial = update_boot.select(OTA, fs, path=[])
            if not (trial and checker.whole(fs, slot)):
                problems.append("op %d: resent %s did not boot on trial" % (op_index, version))
    store.close()
    return bricked, lost, problems


def _boots(fs, op_index, checker, problems, what=""):
    """1 if the boot after the cut, or a reset before any confirmation, fails or picks a version that is not
    whole; else 0."""
    for boot in range(2):
        try:
            slot, _trial = update_boot.select(OTA, fs, path=[])
        except Exception as exc:  # noqa: BLE001 - a boot that fails is a brick
            problems.append("op %d %sboot %d: %r" % (op_index, what, boot, exc))
            return 1
        if not checker.whole(fs, slot):
            problems.append("op %d %sboot %d: slot %r is not a whole version" % (op_index, what, boot, slot))
            return 1
    return 0


def run_cuts(journal, oracle, files, dirs, checker, stride=1, offset=0, resume_every=0, full_boot=False):
    """Every stride-th cut point; returns (points, bricked, lost, problems). Resends that failed are among
    the problems (run_cuts.resume_failures counts them all)."""
    points = bricked = lost = 0
    run_cuts.resume_failures = 0
    problems = []
    for n, (op_index, _partial, cut_files, cut_dirs) in enumerate(
            pc.cut_states(journal, stride, offset, files, dirs)):
        b, n_lost, p = check_cut(cut_files, cut_dirs, oracle, op_index, checker,
                                 resume=bool(resume_every) and n % resume_every == 0, full_boot=full_boot)
        points += 1
        bricked += b
        lost += n_lost
        run_cuts.resume_failures += sum(1 for text in p if "resen" in text)
        problems += p[:3]
    return points, bricked, lost, problems[:20]
