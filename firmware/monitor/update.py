# Receiving, checking and staging an update bundle (monitor/bundle.py) in the A/B slot beside the running
# version; update_boot switches to it at the next start.  monitor.endpoint loads this module only when a
# clinician sends an update request (monitor.protocol UPDATE_*), so none of it is resident otherwise.
#
#   u = Updater(app, fs=None, ota_dir=None)
#   u.request(plaintext) -> reply bytes          (one UPDATE_* request, monitor.protocol layout)
#
# What main.py hands down through the app (monitor.app.App): app.board_name, the board an update must be
# built for, and app.boot_selector(), which returns update_boot (main.py keeps that module loaded only while
# a version is on trial).  Once an update is staged, app.update_staged is True: the runner resets the board
# when the host has gone.
# What the resident code calls:
#   receive(endpoint, plaintext) -> reply      disconnected(endpoint)      proof(app): a session opened
#   trial_message(app): what the screen says once when a new version runs on trial, or None
#   percent: transfer progress for the screen, or None
#
# Slot directory while staging:  ID (bundle id, sizes, flags)  HEADER.part -> HEADER  then the payload
# files at their paths.  Every write is flushed before its reply, so what the device reports as stored is
# on flash; after a disconnect or a reboot the host's BEGIN with the same bundle id resumes from there.
# Checks, each refusing with its own code and leaving the running version and the boot state as they were:
# the header's hash (its id) and the publisher's signature (monitor/lms.py) as soon as the header is in;
# board, loadable code, the anti-rollback floor (no host flag passes it), release sequence (no downgrade unless
# the host allows one, logged) and free flash;
# every file's SHA-256 as it completes; and all of it again from flash before APPLY stages it.
import hashlib
import struct
import sys

from monitor import bundle
from monitor import protocol
from monitor.store_files import OsFiles

PUBLISHER_KEY_FILE = "publisher.pub"   # in the data directory, written with the firmware over USB
ID_FILE = "ID"
HEADER_FILE = "HEADER"
PART = ".part"
ID_FORMAT = "<32sIIB"
ID_SIZE = 41
BLOCK = 4096                 # a littlefs block: a file takes whole blocks
FLASH_RESERVE = 4 * BLOCK    # left free for the log and the boot state after staging
MAX_BUNDLE = 1 << 20         # larger than any board's flash for a slot: refused at BEGIN on every platform
READ_SIZE = 512

percent = None
_updater = [None]  # type: list  # the Updater of the connected host's transfer


def receive(endpoint, plaintext):
    if getattr(endpoint.app, "boot_selector", None) is None:
        # an app composed without the boot selector cannot switch versions: updates over the air are off
        return bundle.encode_update_reply(plaintext[0], protocol.ERR_UPDATE_NO_KEY, 0, 0, b"")
    if _updater[0] is None:
        _updater[0] = Updater(endpoint.app)
    return _updater[0].request(plaintext)


def disconnected(endpoint):
    if _updater[0] is not None:
        _updater[0]._show(None)
        _updater[0] = None


def _on_trial(app):
    """update_boot while this version runs on trial, else None (also for an app built without a selector)."""
    select = getattr(app, "boot_selector", None)
    if select is None:
        return None
    boot = select()
    return boot if boot.booted()[1] else None


def proof(app):
    """A version on trial (its self-test passed at boot, main.py) is kept once it has accepted a session."""
    boot = _on_trial(app)
    if boot is not None and boot.confirm():
        from monitor import records, version
        app.log_event(records.EVENT_UPDATE, version.SEQUENCE, boot.CONFIRMED)
        boot.raise_floor(getattr(version, "FLOOR", 0))


def trial_message(app):
    """What the screen shows once when a new version runs on trial, else None."""
    if _on_trial(app) is None:
        return None
    from monitor import version
    return "Updated to version " + version.VERSION


def flash_free(fs, path):
    """Free bytes on the file system holding path (statvfs), or the fault layer's own count."""
    free = getattr(fs, "free_bytes", None)
    if free is not None:
        return free(path)
    import os
    st = os.statvfs(path)
    return st[1] * st[4]   # fragment size x blocks available, on MicroPython and CPython alike


def bytes_needed(payload_size, files):
    """Flash a staged bundle takes: whole blocks per file, plus the header's."""
    return (payload_size + files * (BLOCK - 1)) // BLOCK * BLOCK + 2 * BLOCK


def loadable_codes():
    """What this interpreter can import: source everywhere, mpy-cross output on MicroPython."""
    if sys.implementation.name == "micropython":
        return ("py", "mpy")
    return ("py",)


def running_sequence():
    from monitor import version
    return version.SEQUENCE


def running_version():
    from monitor import version
    return version.VERSION


class Updater:
    def __init__(self, app, fs=None, ota_dir=None, public_key=None):
        self.app = app
        self.boot = app.boot_selector()   # update_boot, the A/B boot selector
        self.fs = fs if fs is not None else OsFiles()
        self.ota_dir = ota_dir or self.boot.read_dir()
        self._public_key = public_key
        self.slot = None
        self.total = 0
        self.header_size = 0
        self.bundle_id = None
        self.flags = 0
        self.stored = 0
        self.manifest = None

    # -- requests ------------------------------------------------------------------------------------------
    def request(self, plaintext):
        op = plaintext[0]
        try:
            if op == protocol.UPDATE_STATUS:
                return self._reply(op, protocol.STATUS_OK, self._status_extra())
            if op == protocol.UPDATE_BEGIN:
                if len(plaintext) != protocol.UPDATE_BEGIN_SIZE:
                    return self._reply(op, protocol.ERR_BAD_LENGTH)
                _op, total, header_size, bundle_id, flags = struct.unpack(bundle.UPDATE_BEGIN_FORMAT, plaintext)
                return self._reply(op, self.begin(total, header_size, bytes(bundle_id), flags))
            if op == protocol.UPDATE_CHUNK:
                if len(plaintext) <= protocol.UPDATE_CHUNK_HEADER:
                    return self._reply(op, protocol.ERR_BAD_LENGTH)
                offset = struct.unpack_from("<I", plaintext, 1)[0]
                return self._reply(op, self.chunk(offset, memoryview(plaintext)[protocol.UPDATE_CHUNK_HEADER:]))
            if op == protocol.UPDATE_APPLY:
                return self._reply(op, self.apply())
        except OSError as exc:
            from monitor.store_files import no_space
            self._show(None)
            return self._reply(op, protocol.ERR_UPDATE_SPACE if no_space(exc) else protocol.ERR_INTERNAL)
        return self._reply(op, protocol.ERR_BAD_OPCODE)

    def _reply(self, op, status, extra=b""):
        return bundle.encode_update_reply(op, status, self.stored, self.total, extra)

    def _status_extra(self):
        state = self.boot.read_state(self.ota_dir, self.fs)
        version = running_version().encode()[:32]
        note = state[4].encode()[:32]
        return (struct.pack("<BI", state[3], running_sequence()) + bytes((len(version),)) + version
                + bytes((len(note),)) + note)

    # -- paths -----------------------------------------------------------------------------------------------
    def _path(self, name):
        return self.ota_dir + "/" + self.slot + "/" + name

    def _mkdirs(self, rel):
        parts = rel.split("/")
        path = self.ota_dir
        for part in [None] + parts[:-1]:
            if part is not None:
                path = path + "/" + part
            try:
                self.fs.mkdir(path)
            except OSError:
                pass   # already there

    def _size(self, path):
        try:
            return self.fs.size(path)
        except OSError:
            return -1

    def _remove(self, path):
        try:
            self.fs.remove(path)
        except OSError:
            pass

    def _staging_slot(self):
        state = self.boot.read_state(self.ota_dir, self.fs)
        running = self.boot.booted()[0]
        for slot in self.boot.SLOTS:
            if slot != state[0] and slot != running:
                return slot
        return None

    # -- begin / resume --------------------------------------------------------------------------------------
    def begin(self, total, header_size, bundle_id, flags):
        self.manifest = None
        self.stored = 0
        self.total = 0
        if header_size < 12 or header_size > total or header_size > 12 + bundle.MAX_MANIFEST + bundle.MAX_SIGNATURE:
            return protocol.ERR_UPDATE_BUNDLE
        if total > MAX_BUNDLE:
            return protocol.ERR_UPDATE_SPACE
        if self._key() is None:
            return protocol.ERR_UPDATE_NO_KEY
        self.slot = self._staging_slot()
        if self.slot is None:
            return protocol.ERR_BUSY
        self._set(total, header_size, bundle_id, flags)
        if self._already_staged():
            self.stored = total              # the APPLY reply was lost: APPLY again stages the same
            return protocol.STATUS_OK
        if not self.boot.cancel(self.fs):    # a staged update not yet booted is replaced by this one
            return protocol.ERR_UPDATE_SPACE  # ... once its state says so: a staged slot is never wiped
        self._mkdirs(self.slot + "/" + ID_FILE)
        ident = struct.pack(ID_FORMAT, bundle_id, total, header_size, flags)
        if self._read(self._path(ID_FILE)) == ident:
            status = self._resume()
            if status == protocol.STATUS_OK:
                self._show(self.stored)
                return status
        self.wipe()
        self.total = 0
        # Before the first chunk: the whole bundle must fit, with room left for the log (the header's
        # file list, once in, tightens this by each file's partly used last block).
        if self._free() < bytes_needed(total, 0) + FLASH_RESERVE:
            return protocol.ERR_UPDATE_SPACE
        self._write_small(ID_FILE, ident)
        self.total = total
        self._show(0)
        return protocol.STATUS_OK

    def _already_staged(self):
        header = self._read(self._path(HEADER_FILE))
        return (self.boot.read_state(self.ota_dir, self.fs)[1] == self.slot and header is not None
                and hashlib.sha256(header).digest() == self.bundle_id and self._check_header(header) == 0)

    def _set(self, total, header_size, bundle_id, flags):
        self.total = total
        self.header_size = header_size
        self.bundle_id = bundle_id
        self.flags = flags

    def _resume(self):
        """Stored bytes from what is on flash; a slot that does not add up is wiped (returns an error)."""
        header = self._read(self._path(HEADER_FILE))
        if header is None:
            part = self._size(self._path(HEADER_FILE + PART))
            self.stored = max(0, min(part, self.header_size))
            if self.stored == self.header_size:
                return self._accept_header()   # cut after the header's last chunk, before it was accepted
            return protocol.STATUS_OK
        status = self._check_header(header)
        if status:
            return status
        self._touch_empty_files()
        self.stored = self.header_size
        for path, size, _digest in self.manifest.files:
            have = self._size(self._path(path))
            if have < 0:
                break
            if have > size:
                return protocol.ERR_UPDATE_HASH
            self.stored += have
            if have < size:
                break
        return protocol.STATUS_OK

    def wipe(self):
        """Empties the staging slot: the id first, the header (which lists the files) last."""
        self._remove(self._path(ID_FILE))
        manifest = self.manifest   # this slot's header, already checked: no second 2.5 KB read to refuse
        if manifest is None:
            header = self._read(self._path(HEADER_FILE))
            if header is not None:
                try:
                    manifest = bundle.Manifest(bundle.split_header(header)[0])
                except bundle.BundleError:
                    pass
        if manifest is not None:
            for path, _size, _digest in manifest.files:
                self._remove(self._path(path))
        self._remove(self._path(HEADER_FILE + PART))
        self._remove(self._path(HEADER_FILE))
        self.stored = 0

    def _refuse(self, status):
        self.wipe()
        self.total = 0
        self.slot = None
        self._show(None)
        return status

    # -- chunks ------------------------------------------------------------------------------------------------
    def chunk(self, offset, data):
        if self.slot is None or self.total == 0:
            return protocol.ERR_BAD_VALUE     # BEGIN first
        if offset != self.stored:
            return protocol.ERR_UPDATE_OFFSET
        if offset + len(data) > self.total:
            return protocol.ERR_BAD_VALUE
        at = 0
        while at < len(data):
            if self.stored < self.header_size:
                n = min(len(data) - at, self.header_size - self.stored)
                self._append(HEADER_FILE + PART, data[at:at + n])
                self.stored += n
                at += n
                if self.stored == self.header_size:
                    status = self._accept_header()
                    if status:
                        return self._refuse(status)
                continue
            index, into, path, size, digest = self._current_file()
            if index < 0:
                return self._refuse(protocol.ERR_UPDATE_BUNDLE)
            n = min(len(data) - at, size - into)
            self._append(path, data[at:at + n])
            self.stored += n
            at += n
            if into + n == size and self._file_hash(path) != digest:
                return self._refuse(protocol.ERR_UPDATE_HASH)
        self._show(self.stored)
        return protocol.STATUS_OK

    def _current_file(self):
        """(index, bytes of it stored, path, size, digest) of the file the next payload byte belongs to."""
        at = self.stored - self.header_size
        for i in range(len(self.manifest.files)):
            path, size, digest = self.manifest.files[i]
            if at < size:
                return i, at, path, size, digest
            at -= size
        return -1, 0, "", 0, b""

    def _append(self, rel, data):
        if rel != HEADER_FILE + PART and self._size(self._path(rel)) < 0:
            self._mkdirs(self.slot + "/" + rel)
        f = self.fs.open(self._path(rel), "ab")
        try:
            if len(data):
                f.write(data)
                self.fs.sync(f)
        finally:
            f.close()

    def _accept_header(self):
        header = self._read(self._path(HEADER_FILE + PART))
        if header is None or hashlib.sha256(header).digest() != self.bundle_id:
            return protocol.ERR_UPDATE_HASH
        status = self._check_header(header)
        if status:
            return status
        if self.header_size + self.manifest.payload_size != self.total:
            return protocol.ERR_UPDATE_BUNDLE
        if self.manifest.sequence < self._floor():
            return protocol.ERR_UPDATE_FLOOR     # whatever the host says
        if self.manifest.sequence < running_sequence():
            if not self.flags & protocol.UPDATE_FLAG_DOWNGRADE:
                return protocol.ERR_UPDATE_OLDER
            self._log(self.boot.NONE, 1)     # a downgrade the clinician allowed, on the record
        if self._free() < bytes_needed(self.manifest.payload_size,
                                                             len(self.manifest.files)) + FLASH_RESERVE:
            return protocol.ERR_UPDATE_SPACE
        self.fs.rename(self._path(HEADER_FILE + PART), self._path(HEADER_FILE))
        self._touch_empty_files()
        return protocol.STATUS_OK

    def _touch_empty_files(self):
        """Empty files (a package's __init__.py) carry no chunk: they are made once the header is in."""
        for path, size, _digest in self.manifest.files:
            if size == 0 and self._size(self._path(path)) < 0:
                self._append(path, b"")

    def _check_header(self, header):
        """Signature, then what the manifest says about this device; sets self.manifest."""
        from monitor import lms
        try:
            raw, signature = bundle.split_header(header)
        except bundle.BundleError:
            return protocol.ERR_UPDATE_BUNDLE
        key = self._key()
        if key is None:
            return protocol.ERR_UPDATE_NO_KEY
        if not lms.verify_hss(key, raw, signature):
            return protocol.ERR_UPDATE_SIGNATURE
        try:
            manifest = bundle.Manifest(raw)
        except bundle.BundleError:
            return protocol.ERR_UPDATE_BUNDLE
        if manifest.board != self.app.board_name or \
                manifest.code.split("-")[0] not in loadable_codes():
            return protocol.ERR_UPDATE_BOARD
        self.manifest = manifest
        return protocol.STATUS_OK

    # -- apply -------------------------------------------------------------------------------------------------
    def apply(self):
        if self.slot is None or self.total == 0 or self.stored != self.total:
            return protocol.ERR_BAD_VALUE
        header = self._read(self._path(HEADER_FILE))
        if header is None or hashlib.sha256(header).digest() != self.bundle_id:
            return self._refuse(protocol.ERR_UPDATE_HASH)
        status = self._check_header(header)
        if status:
            return self._refuse(status)
        if self.manifest.sequence < self._floor():
            return self._refuse(protocol.ERR_UPDATE_FLOOR)
        for path, size, digest in self.manifest.files:
            if self._size(self._path(path)) != size or self._file_hash(path) != digest:
                return self._refuse(protocol.ERR_UPDATE_HASH)
        self._remove(self._path(ID_FILE))
        self.boot.stage(self.slot, self.manifest.version, self.fs)
        self._log(self.boot.STAGED, 0)
        self.app.update_staged = True        # the runner restarts once the host has gone
        self._show(None)
        return protocol.STATUS_OK

    # -- helpers -------------------------------------------------------------------------------------------------
    def _free(self):
        room = flash_free(self.fs, self.ota_dir)
        size = getattr(self.app, "flash_bytes", 0)
        if size:           # a flash of a set size on a larger disk (the simulator's)
            from monitor.flash_room import used_bytes
            left = size - used_bytes(self.fs, self.app.data_dir, BLOCK)
            if left < room:
                room = left
        return room

    def _floor(self):
        """The lowest sequence this device installs: the running version's FLOOR or the one kept with the
        boot state (update_boot), which outlives a redeploy of an older copy."""
        from monitor import version
        running = getattr(version, "FLOOR", 0)
        kept = self.boot.floor(self.fs)
        return running if running > kept else kept

    def _key(self):
        if self._public_key is None:
            data_dir = getattr(self.app, "data_dir", "")
            self._public_key = self._read((data_dir + "/" if data_dir else "") + PUBLISHER_KEY_FILE)
        return self._public_key

    def _read(self, path):
        """The whole file in one buffer of its size (no growing reads on a fragmented heap); None if absent."""
        size = self._size(path)
        if size < 0:
            return None
        if size > READ_SIZE:
            import gc
            gc.collect()          # a header or key: the largest blocks this module asks for, once per update
        buf = bytearray(size)
        f = self.fs.open(path, "rb")
        try:
            got = f.readinto(buf) if size else 0
        finally:
            f.close()
        return buf if got == size else None

    def _write_small(self, rel, data):
        tmp = self._path(rel + ".tmp")
        f = self.fs.open(tmp, "wb")
        try:
            f.write(data)
            self.fs.sync(f)
        finally:
            f.close()
        self.fs.rename(tmp, self._path(rel))

    def _file_hash(self, rel):
        h = hashlib.sha256()
        buf = bytearray(READ_SIZE)
        f = self.fs.open(self._path(rel), "rb")
        try:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                h.update(memoryview(buf)[:n])
        finally:
            f.close()
        return h.digest()

    def _show(self, stored):
        """The patient's screen follows the transfer ("Updating 40 %...")."""
        global percent
        now = None if stored is None or not self.total else stored * 100 // self.total
        if now != percent:
            percent = now
            self.app.changed = getattr(self.app, "changed", 0) + 1   # the display task redraws

    def _log(self, outcome, downgrade):
        log_event = getattr(self.app, "log_event", None)
        if log_event is not None and self.manifest is not None:
            from monitor import records
            log_event(records.EVENT_UPDATE, self.manifest.sequence, outcome | (downgrade << 7))
