"""Power cuts on the update path (CPython only): staging, switching and confirming, on bench/powercut.py's
journaling FaultFS, with the device's own code (monitor/update.py, update_boot.py, monitor.store).

run_workload() journals three updates in a row on one flash, the patient logging entries between chunks:
base -> 1.1 (slot a) -> 1.2 (slot b) -> 1.3 (slot a again, wiping 1.1): each BEGIN, every chunk, APPLY, the
restart that boots it on trial and the session that confirms it. check_cut() takes the flash as a cut left it
and boots it: the version update_boot picks must be whole (its signed manifest verifies and every file matches
its hash; the deployed copy outside the slots always is), and so must the one picked after a second reset
before confirmation; every entry whose append returned before the cut is in the log, intact. With resume=True
the host then sends the same bundle again: it must stage and boot.
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


def run_workload(key_name, seed=3):
    """Journals the three updates; returns (journal, oracle, initial files, initial dirs, public key, bundles)."""
    from monitor.update import Updater
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
    fs = pc.FaultFS(files, dirs, journal=journal)
    update_boot.select(OTA, fs, path=[])
    store = Store(pc.DIRECTORY, fs=fs)
    app = StubApp(store)
    appends = []
    for version, data, header in bundles:
        updater = Updater(app, fs=fs, ota_dir=OTA, public_key=public_key)
        ident = hashlib.sha256(data[:header]).digest()
        reply = protocol_host.decode_update_reply(updater.request(protocol_host.encode_update_begin(len(data), header, ident)))
        assert reply[1] == 0, reply
        offset = 0
        while offset < len(data):
            reply = protocol_host.decode_update_reply(
                updater.request(protocol_host.encode_update_chunk(offset, data[offset:offset + CHUNK])))
            assert reply[1] == 0, (version, offset, reply)
            offset = reply[2]
            if rng.random() < 0.3:          # the patient logs a symptom while the update comes in
                seq = store.append(9600, 700, 2, rng.randrange(13), rng.randrange(4), 0)
                appends.append((seq, len(journal)))
        reply = protocol_host.decode_update_reply(updater.request(bytes((protocol.UPDATE_APPLY,))))
        assert reply[1] == 0, reply
        appends.append((store.next_seq - 1, len(journal)))     # the STAGED event
        store.close()
        slot, trial = update_boot.select(OTA, fs, path=[])     # the restart: the new version on trial
        assert trial
        store = Store(pc.DIRECTORY, fs=fs)
        app.store = store
        assert update_boot.confirm(fs)                         # self-test passed, a session accepted
        seq = store.append(9600, 800, 3, 8, version.count("."), update_boot.CONFIRMED)
        appends.append((seq, len(journal)))
    store.close()
    return journal, {"appends": appends}, files, dirs, public_key, bundles


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


def check_cut(files, dirs, oracle, op_index, checker, resume=False):
    """(bricked 0/1, records lost, problems) for one cut state."""
    problems = []
    fs = pc.FaultFS(files, dirs)
    bricked = 0
    for boot in range(2):            # the boot after the cut, and a reset before any confirmation
        try:
            slot, _trial = update_boot.select(OTA, fs, path=[])
        except Exception as exc:  # noqa: BLE001 - a boot that fails is a brick
            problems.append("op %d boot %d: %r" % (op_index, boot, exc))
            bricked = 1
            break
        if not checker.whole(fs, slot):
            problems.append("op %d boot %d: slot %r is not a whole version" % (op_index, boot, slot))
            bricked = 1
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


def run_cuts(journal, oracle, files, dirs, checker, stride=1, offset=0, resume_every=0):
    """Every stride-th cut point; returns (points, bricked, lost, problems). Resends that failed are among
    the problems (run_cuts.resume_failures counts them all)."""
    points = bricked = lost = 0
    run_cuts.resume_failures = 0
    problems = []
    for n, (op_index, _partial, cut_files, cut_dirs) in enumerate(
            pc.cut_states(journal, stride, offset, files, dirs)):
        b, n_lost, p = check_cut(cut_files, cut_dirs, oracle, op_index, checker,
                            resume=bool(resume_every) and n % resume_every == 0)
        points += 1
        bricked += b
        lost += n_lost
        run_cuts.resume_failures += sum(1 for text in p if "resen" in text)
        problems += p[:3]
    return points, bricked, lost, problems[:20]
