# The device side of the sync protocol, free of any transport: frames in on a
# channel, frames out of one ordered queue.  device/ble_service.py maps channels to
# characteristics; monitor/framing.py carries the same frames over USB serial.
#
#   ep = Endpoint(app, key, random_bytes, allow_provision=False, key_path=None)
#   ep.connected(mtu) / ep.disconnected() / ep.set_mtu(mtu)
#   ep.receive(channel, data)          # one write from the peer; replies are queued
#   ep.next_frame() -> (channel, bytes) or None   # the next frame to send, in counter order
#   ep.requeue(channel, frame)         # the transport could not send it: it goes out first next time
#
# Frames are sealed when queued, so the order of the queue is the order of the
# counters; records frames are only made when the queue is empty, so at most
# MAX_QUEUED replies plus one records frame exist at a time (the memory cap).
from micropython import const

import gc
import sys

from monitor import protocol
from monitor import session as sessions
from monitor.records import RECORD_SIZE

MAX_QUEUED = const(8)
# While a pull runs the heap is collected only when full (or by a transport's heap check), not by the
# board's policy of a collection every few KB (device.memory): a pull's garbage is frames and hashes of a
# few sizes, and a collection every 3-4 frames was a third of the device's time per record (qemu
# Cortex-M3). The policy is back when the pull ends, however it ends.
_threshold = getattr(gc, "threshold", None)   # MicroPython; CPython manages its own heap


class Endpoint:
    def __init__(self, app, key, random_bytes, allow_provision=False, key_path=None):
        self.app = app
        self._random = random_bytes
        self.allow_provision = allow_provision
        self.key_path = key_path
        self.session = sessions.DeviceSession(key, random_bytes)
        self._key = key
        self.mtu = protocol.DEFAULT_MTU
        self._queue = []
        self._pull_next = -1          # next record number to send, -1 when no pull is running
        self._pull_sent = 0
        self._gc_every = None         # the heap policy a running pull set aside (gc.threshold)
        self._records_buf = None
        self._alerts = None           # alerts snapshot served in chunks
        self._profile_in = None       # profile being received: bytearray of the announced size
        self._profile_have = 0
        self.refusals = 0             # frames refused since boot (for the screen and the tests)

    # -- link events --------------------------------------------------------------------------------
    def connected(self, mtu=protocol.DEFAULT_MTU):
        self.disconnected()
        self.mtu = min(mtu, protocol.MAX_MTU)

    def disconnected(self):
        self.session.close()
        self._queue = []
        self._end_pull()
        self._alerts = None
        self._profile_in = None
        self.mtu = protocol.DEFAULT_MTU
        self._records_buf = None
        updating = sys.modules.get("monitor.update")
        if updating is not None:        # what is staged stays on flash; the next BEGIN resumes it
            updating.disconnected(self)

    def set_mtu(self, mtu):
        self.mtu = min(mtu, protocol.MAX_MTU)
        self._records_buf = None

    @property
    def pulling(self):
        return self._pull_next >= 0

    def set_key(self, key):
        """A new device key (provisioned over USB) ends any session made with the old one."""
        if key == self._key:
            return
        self._key = key
        self.session = sessions.DeviceSession(key, self._random)
        self._end_pull()

    @property
    def has_key(self):
        return self._key is not None

    # -- output -----------------------------------------------------------------------------------
    def pending(self):
        return len(self._queue) > 0 or self._pull_next >= 0

    def next_frame(self):
        if self._queue:
            return self._queue.pop(0)
        if self._pull_next >= 0 and self.session.outgoing is not None:   # is_open, without a property call a frame
            return self._next_records_frame()
        return None

    def requeue(self, channel, frame):
        self._queue.insert(0, (channel, frame))

    def _plain(self, channel, data):
        self._queue.append((channel, data))

    def _sealed(self, channel, plaintext):
        self._queue.append((channel, self.session.seal(channel, plaintext)))

    def _refuse(self, code):
        """A plain refusal on the auth channel: the peer has no (valid) session."""
        self.refusals += 1
        self._queue.append((protocol.CH_AUTH, protocol.encode_refusal(code)))

    def _end_pull(self):
        self._pull_next = -1
        if self._gc_every is not None:
            _threshold(self._gc_every)   # pyright: ignore[reportOptionalCall]  (set only where it exists)
            self._gc_every = None

    def _next_records_frame(self):
        buf = self._records_buf       # sized for the MTU (None again when it changes)
        if buf is None:
            buf = self._records_buf = bytearray(
                protocol.records_per_frame(self.mtu, sessions.FRAME_OVERHEAD, RECORD_SIZE) * RECORD_SIZE)
        count, next_seq = self.app.store.read_into(self._pull_next, buf)
        if count == 0:
            self._end_pull()
            return protocol.CH_CONTROL, self.session.seal(protocol.CH_CONTROL, protocol.racp_response(
                protocol.RACP_REPORT, protocol.RSP_SUCCESS if self._pull_sent else protocol.RSP_NO_RECORDS))
        self._pull_next = next_seq
        self._pull_sent += count
        size = count * RECORD_SIZE
        body = buf if size == len(buf) else memoryview(buf)[:size]
        return protocol.CH_RECORDS, self.session.outgoing.seal(protocol.CH_RECORDS, body)

    # -- input ------------------------------------------------------------------------------------
    def receive(self, channel, data):
        if len(self._queue) >= MAX_QUEUED:
            # The peer writes faster than it reads replies: end the session rather than grow.
            self.session.close()
            self._end_pull()
            self._queue = []
            self._refuse(protocol.ERR_BUSY)
            return
        if channel == protocol.CH_AUTH:
            self._auth(data)
            return
        if channel == protocol.CH_PROVISION:
            self._provision(data)
            return
        if channel not in (protocol.CH_CONTROL, protocol.CH_ENTRY, protocol.CH_ALERTS,
                           protocol.CH_PROFILE, protocol.CH_TIME):
            self._refuse(protocol.ERR_BAD_OPCODE)
            return
        try:
            plaintext = self.session.open(channel, data)
        except sessions.SessionError as exc:
            self._end_pull()
            self._refuse(exc.code)
            return
        try:
            self._request(channel, plaintext)
        except sessions.SessionError as exc:   # counter exhausted: the session ends
            self.session.close()
            self._refuse(exc.code)

    def _auth(self, data):
        if len(data) < 1:
            self._refuse(protocol.ERR_BAD_LENGTH)
            return
        op = data[0]
        try:
            if op == protocol.AUTH_HELLO:
                self._end_pull()
                if self.mtu < protocol.MIN_MTU:
                    self.session.close()
                    raise sessions.SessionError(protocol.ERR_MTU)
                self._plain(protocol.CH_AUTH, self.session.hello(data))
            elif op == protocol.AUTH_PROOF:
                self._plain(protocol.CH_AUTH, self.session.proof(data))
                if "update_boot" in sys.modules:   # there only while a new version is on trial (main.py)
                    from monitor import update
                    update.proof(self.app)        # its first accepted session confirms it
            else:
                raise sessions.SessionError(protocol.ERR_BAD_OPCODE)
        except sessions.SessionError as exc:
            self._refuse(exc.code)

    def _provision(self, data):
        # Only a USB endpoint allows this: physical access is the authority to set the key. A new key over
        # one in use erases the log (and the profile) first, and only when the host says so (the flag byte
        # PROVISION_ERASE after the key): a cable never gives a new key to the history kept under the old one.
        if not self.allow_provision:
            self._refuse(protocol.ERR_ROLE)
            return
        size = sessions.KEY_SIZE
        try:
            key = sessions.check_key(bytes(data[:size]))
        except ValueError:
            self._refuse(protocol.ERR_BAD_LENGTH)
            return
        if len(data) > size + 1:
            self._refuse(protocol.ERR_BAD_LENGTH)
            return
        if self._key is not None and key != self._key:
            if len(data) == size or data[size] != protocol.PROVISION_ERASE:
                held = self.app.store.count_from(0)
                self._plain(protocol.CH_PROVISION, bytes((protocol.ERR_KEY_HELD,)) + held.to_bytes(4, "little"))
                return
            self.app.wipe()            # first: a power cut leaves the old key with an empty log, never
        if self.key_path is not None:  # the new key with the old log
            sessions.save_key(self.key_path, key)
        self.set_key(key)
        self._plain(protocol.CH_PROVISION, bytes((protocol.STATUS_OK,)))

    def _permitted(self, op):
        if protocol.role_may(self.session.role, op):
            return True
        self.refusals += 1
        self._sealed(protocol.CH_AUTH, protocol.encode_refusal(protocol.ERR_ROLE))
        return False

    def _request(self, channel, plaintext):
        if channel == protocol.CH_CONTROL:
            self._control(plaintext)
        elif channel == protocol.CH_ENTRY:
            if self._permitted("entry"):
                self._entry(plaintext)
        elif channel == protocol.CH_ALERTS:
            if self._permitted("alerts"):
                self._alerts_request(plaintext)
        elif channel == protocol.CH_PROFILE:
            self._profile_request(plaintext)
        else:
            if self._permitted("time"):
                self._time(plaintext)

    # -- control point (RACP) --------------------------------------------------------------------------
    def _control(self, plaintext):
        reply = protocol.CH_CONTROL
        try:
            op, _operator, operand = protocol.parse_racp(plaintext)
        except protocol.RacpError as exc:
            self._sealed(reply, protocol.racp_response(exc.op, exc.code))
            return
        if op == protocol.RACP_ABORT:
            if self._permitted("abort"):
                self._end_pull()
                self._sealed(reply, protocol.racp_response(op, protocol.RSP_SUCCESS))
            return
        if op == protocol.RACP_DELETE:
            if self._permitted("acknowledge"):
                status = self.app.acknowledge_sync(operand)
                code = protocol.RSP_SUCCESS if status == 0 else protocol.RSP_INVALID_OPERAND
                self._sealed(reply, protocol.racp_response(op, code))
            return
        if not self._permitted("count" if op == protocol.RACP_REPORT_NUMBER else "pull"):
            return
        if self._pull_next >= 0:
            self._sealed(reply, protocol.racp_response(op, protocol.RSP_BUSY))
            return
        start = 0 if operand is None else operand
        if start >= 0x40000000:
            self._sealed(reply, protocol.racp_response(op, protocol.RSP_INVALID_OPERAND))
            return
        if op == protocol.RACP_REPORT_NUMBER:
            self._sealed(reply, protocol.racp_number(self.app.store.count_from(start)))
        else:
            # No count first (a CRC pass over the log): a pull that finds nothing ends with NO_RECORDS.
            self._pull_next = start
            if _threshold is not None and self._gc_every is None:
                self._gc_every = _threshold()
                _threshold(-1)
            self._pull_sent = 0

    # -- entries ---------------------------------------------------------------------------------------
    def _entry(self, plaintext):
        try:
            if plaintext and plaintext[0] >= protocol.CORRECT_VOID:
                status, seq = self.app.correct(plaintext, self.session.role)
            else:
                kind, code, value, flags, day, minute = protocol.decode_entry(plaintext)
                # the options byte after the entry, if any (protocol.ENTRY_OPT_*)
                status, seq = self.app.submit_entry(kind, code, value, flags, day, minute, self.session.role,
                                                    plaintext[-1] if len(plaintext) > protocol.ENTRY_SIZE else 0)
        except protocol.ProtocolError as exc:
            self._sealed(protocol.CH_ENTRY, protocol.encode_entry_reply(exc.code, 0))
            return
        self._sealed(protocol.CH_ENTRY, protocol.encode_entry_reply(status, seq if seq is not None else 0))

    # -- blobs: alerts (read) and profile (read, clinician write) --------------------------------------
    def _chunk_size(self):
        return self.mtu - protocol.ATT_HEADER - sessions.FRAME_OVERHEAD - protocol.BLOB_HEADER

    def _serve_chunk(self, channel, blob, offset):
        if offset > len(blob):
            self._sealed(channel, protocol.encode_blob_reply(protocol.ERR_BAD_VALUE, len(blob), offset))
            return
        chunk = blob[offset:offset + self._chunk_size()]
        self._sealed(channel, protocol.encode_blob_reply(protocol.STATUS_OK, len(blob), offset, chunk))

    def _alerts_request(self, plaintext):
        try:
            op, offset, _total, _chunk = protocol.decode_blob_request(plaintext)
            if op != protocol.BLOB_GET:
                raise protocol.ProtocolError(protocol.ERR_BAD_OPCODE)
        except protocol.ProtocolError as exc:
            self._sealed(protocol.CH_ALERTS, protocol.encode_blob_reply(exc.code, 0, 0))
            return
        if offset == 0 or self._alerts is None:
            self._alerts = self.app.alerts_payload()   # one consistent snapshot per read
        self._serve_chunk(protocol.CH_ALERTS, self._alerts, offset)

    def _profile_request(self, plaintext):
        channel = protocol.CH_PROFILE
        if len(plaintext) and plaintext[0] >= protocol.UPDATE_STATUS:
            if self._permitted("update"):
                from monitor import update   # loaded only while updating (names here are interned at boot)
                self._sealed(channel, update.receive(self, plaintext))
            return
        try:
            op, offset, total, chunk = protocol.decode_blob_request(plaintext)
        except protocol.ProtocolError as exc:
            self._sealed(channel, protocol.encode_blob_reply(exc.code, 0, 0))
            return
        if op == protocol.BLOB_GET:
            if self._permitted("profile_get"):
                self._serve_chunk(channel, self.app.profile_blob(), offset)
            return
        if not self._permitted("profile_set"):
            return
        if offset == 0:
            self._profile_in = bytearray(total)
            self._profile_have = 0
        if self._profile_in is None or len(self._profile_in) != total or offset != self._profile_have:
            self._profile_in = None
            self._sealed(channel, protocol.encode_blob_reply(protocol.ERR_BAD_VALUE, total, offset))
            return
        self._profile_in[offset:offset + len(chunk)] = chunk
        self._profile_have = offset + len(chunk)
        status = protocol.STATUS_OK
        if self._profile_have == total:
            blob = bytes(self._profile_in)
            self._profile_in = None
            status = self.app.set_profile(blob)
        self._sealed(channel, protocol.encode_blob_reply(status, total, self._profile_have))

    # -- time (CTS format inside a frame) --------------------------------------------------------------
    def _time(self, plaintext):
        channel = protocol.CH_TIME
        status = protocol.STATUS_OK
        if len(plaintext):
            if not self._permitted("set_clock"):
                return
            flag = 0
            if len(plaintext) == protocol.CTS_SIZE + 1:
                flag = plaintext[protocol.CTS_SIZE] & protocol.TIME_FORCE
                plaintext = plaintext[:protocol.CTS_SIZE]
            try:
                day, minute, second = protocol.decode_cts(plaintext)
            except protocol.ProtocolError as exc:
                self._sealed(channel, bytes((exc.code,)))
                return
            status = self.app.set_clock(day, minute, second, flag) or protocol.STATUS_OK
        now = self.app.clock_now()
        if now is None:
            self._sealed(channel, bytes((protocol.ERR_CLOCK_UNSET,)))
            return
        self._sealed(channel, bytes((status,)) + protocol.encode_cts(now[0], now[1], now[2]))

