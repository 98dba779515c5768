"""The host's protocol client: a session with an e2mon device over any object with bleak's
BleakClient API (`write_gatt_char`, `start_notify`, `stop_notify`, `is_connected`, `mtu_size`).

    link = DeviceLink(client, role_key, "clinician")      # role_key = host_crypto.role_key(device_key, role)
    await link.open_session()
    n = await link.count(from_seq)                         # records >= from_seq
    result = await link.pull(from_seq, on_batch)           # on_batch(list of record tuples), sync or async
    await link.acknowledge(result.last_seq)                # host stored everything up to here
    seq = await link.push_entry(kind, code, value, flags, day, minute)   # patient
    await link.set_time(datetime) ; await link.get_time() -> (day, minute, second)
    blob = await link.get_profile() ; await link.set_profile(blob)       # set: clinician
    flags, reminders = await link.alerts()
    await link.abort()

Record tuples are monitor.records.unpack_record's (seq, day, minute, kind, code, value, flags).
A pull cut by a lost link raises LinkLost; what on_batch already received is whole and in order,
so the caller resumes with pull(last stored + 1): no duplicate, no gap.
Every refusal raises DeviceError with the device's code and its plain text (monitor.protocol).

Frames are opened in the order of their counters, not of their arrival: a stack may send queued
indications ahead of queued notifications (BTstack does), so the control point's reply can overtake the
records notifications sealed before it. A frame whose counter is ahead of the next expected one waits
(at most REORDER_WINDOW of them) until the frames before it have come; a replayed counter is refused.

Provisioning is USB only (physical access): `provision_over_serial(port, device_key)` with a pyserial-like
port (`write(bytes)`, `read(n)` returning b"" on timeout) sends the key in a COBS packet (monitor.framing).
"""
import time
import asyncio
import inspect
import os

from monitor import dates, framing, protocol, protocol_host, protocol_text, records
from monitor.session import SessionError

from host_tools import host_crypto, untrusted

ROLES = {"clinician": protocol.ROLE_CLINICIAN, "patient": protocol.ROLE_PATIENT}
REORDER_WINDOW = 32    # sealed frames held back while an earlier one is still on its way
# The longest wait for any answer of the device (a write, a reply, the next frame). E2MON_REPLY_TIMEOUT_S
# lengthens it for a device slower than a board: the Pico W image on the emulated RP2040 (tests/rp2040).
REPLY_TIMEOUT_S = float(os.environ.get("E2MON_REPLY_TIMEOUT_S", "10"))
_NOTIFIED = (protocol.CH_AUTH, protocol.CH_CONTROL, protocol.CH_RECORDS, protocol.CH_ENTRY,
             protocol.CH_ALERTS, protocol.CH_PROFILE, protocol.CH_TIME)


def notified_characteristics():
    """{characteristic UUID: its channel, or the tuple of channels sharing it (protocol.SHARED_CHANNELS)}."""
    out = {}
    for channel in _NOTIFIED:
        uuid = protocol_host.CHANNEL_UUIDS[channel]
        out[uuid] = (out[uuid] + (channel,)) if isinstance(out.get(uuid), tuple) else \
            ((out[uuid], channel) if uuid in out else channel)
    return out


_CHARACTERISTICS = notified_characteristics()


class DeviceError(Exception):
    """The device refused a request; .code is its error code."""

    def __init__(self, code, what=""):
        self.code = code
        text = protocol_text.error_text(code)
        Exception.__init__(self, "%s%s (code 0x%02x)" % (what + ": " if what else "", text, code))


class RacpFailed(DeviceError):
    def __init__(self, op, code):
        self.op = op
        self.code = code
        Exception.__init__(self, "control point op %d: %s (code 0x%02x)" % (
            op, protocol_text.RSP_NAMES.get(code, "reserved"), code))


class LinkLost(Exception):
    """The radio link went away mid-request."""


class PullResult:
    def __init__(self, count, first_seq, last_seq, aborted=False):
        self.aborted = aborted
        self.count = count
        self.first_seq = first_seq
        self.last_seq = last_seq

    def __repr__(self):
        return "PullResult(count=%d, first=%s, last=%s)" % (self.count, self.first_seq, self.last_seq)


def role_code(role):
    if role in ROLES:
        return ROLES[role]
    if role in protocol_host.ROLE_NAMES:
        return role
    raise ValueError("role must be one of %s" % ", ".join(ROLES))


def records_in_frame(data, expected):
    """Checks and unpacks a records frame; returns the records. Record numbers must rise from expected
    on: a frame lost in transit cannot happen unnoticed (frame counters), and a duplicate would not rise."""
    size = records.RECORD_SIZE
    if not data or len(data) % size:
        raise DeviceError(protocol.ERR_BAD_LENGTH, "records frame of %d bytes" % len(data))
    batch = []
    for offset in range(0, len(data), size):
        if not records.record_ok(data, offset):
            raise DeviceError(protocol.ERR_BAD_VALUE, "record failed its check")
        record = records.unpack_record(data, offset)
        if record[0] < expected:
            raise DeviceError(protocol.ERR_BAD_VALUE, "record %d after %d" % (record[0], expected - 1))
        expected = record[0] + 1
        batch.append(record)
    return batch


class DeviceLink:
    def __init__(self, client, key, role, timeout=None, random_bytes=None):
        self.client = client
        self.role = role_code(role)
        self.timeout = REPLY_TIMEOUT_S if timeout is None else timeout
        kwargs = {} if random_bytes is None else {"random_bytes": random_bytes}
        self._session = host_crypto.HostSession(bytes(key), self.role, **kwargs)
        self._crypto_open = False
        self._inbox = asyncio.Queue()
        self._held = {}           # counter -> (channel, frame) that arrived ahead of its turn
        self._subscribed = False
        self._silent = False      # a device that let a wait time out is not waited for again on closing
        self._lock = asyncio.Lock()
        self.frames_received = 0
        self.frames_reordered = 0     # frames that arrived ahead of their turn and waited
        self.round_trips = 0

    # -- notifications ----------------------------------------------------------------------------------
    async def _subscribe(self):
        if self._subscribed:
            return
        for uuid, channel in _CHARACTERISTICS.items():
            await self._in_time(self.client.start_notify(uuid, self._callback(channel)))
        self._subscribed = True

    async def _in_time(self, operation):
        """A GATT operation the device must answer (write with response, subscribe): TimeoutError if it is
        silent for self.timeout, so no command waits on a device for ever."""
        try:
            return await asyncio.wait_for(operation, self.timeout)
        except asyncio.TimeoutError:
            self._silent = True
            raise TimeoutError("device did not answer") from None

    def _callback(self, channel):
        def on_notify(_sender, data):
            self._inbox.put_nowait((channel, bytes(data)))
        return on_notify

    async def _next(self):
        """The next notification (channel, bytes); LinkLost if the link goes, TimeoutError if silent."""
        waited = 0.0
        step = 0.05
        while True:
            try:
                return await asyncio.wait_for(self._inbox.get(), step)
            except asyncio.TimeoutError:
                waited += step
                if not self.client.is_connected:
                    raise LinkLost("link lost") from None
                if waited >= self.timeout:
                    self._silent = True
                    raise TimeoutError("device did not answer") from None

    async def _reply(self, channel):
        """Decrypted plaintext of the next frame on `channel`; refusals become DeviceError."""
        while True:
            got, plaintext = await self._next_frame()
            if got == channel:
                return plaintext
            if got == protocol.CH_RECORDS:
                continue   # tail of an aborted pull
            raise DeviceError(protocol.ERR_BAD_OPCODE, "reply on channel %d, expected %d" % (got, channel))

    async def _write(self, channel, data):
        write_channel = getattr(self.client, "write_channel", None)   # USB: the channel byte leads the frame
        if write_channel is not None:
            await self._in_time(write_channel(channel, data))
        else:
            await self._in_time(self.client.write_gatt_char(protocol_host.CHANNEL_UUIDS[channel], data,
                                                            response=True))

    async def _request(self, channel, plaintext):
        if not self._crypto_open:
            raise DeviceError(protocol.ERR_NO_SESSION)
        self.round_trips += 1
        await self._write(channel, self._session.seal(channel, plaintext))
        return await self._reply(channel)

    # -- session ----------------------------------------------------------------------------------------
    async def open_session(self):
        async with self._lock:
            await self._subscribe()
            while not self._inbox.empty():
                self._inbox.get_nowait()
            self._held = {}
            session = self._session
            self._crypto_open = False
            await self._write(protocol.CH_AUTH, session.hello())
            challenge = await self._plain_auth()
            proof = session.answer_challenge(challenge)   # SessionError if the device is not genuine
            await self._write(protocol.CH_AUTH, proof)
            opened = await self._plain_auth()
            if len(opened) != 2 or opened[0] != protocol.AUTH_OPEN or opened[1] != self.role:
                raise DeviceError(protocol.ERR_BAD_PROOF, "session not opened")
            self._crypto_open = True
            self.round_trips += 2

    async def _plain_auth(self):
        while True:
            channel, data = await self._next()
            if channel != protocol.CH_AUTH:
                continue   # a stale frame of a previous session
            if len(data) == 2 and data[0] == protocol.AUTH_REFUSED:
                raise DeviceError(data[1])
            return data

    @property
    def is_open(self):
        return self._crypto_open

    async def close(self):
        if self._subscribed and self.client.is_connected and not self._silent:
            for uuid in _CHARACTERISTICS:
                try:
                    await self._in_time(self.client.stop_notify(uuid))
                except Exception:  # noqa: BLE001 - best effort, the link may be going
                    pass
        self._subscribed = False
        self._crypto_open = False

    # -- records ------------------------------------------------------------------------------------------
    async def count(self, from_seq=0):
        async with self._lock:
            reply = await self._request(protocol.CH_CONTROL, protocol_host.racp_request(
                protocol.RACP_REPORT_NUMBER, protocol.OPERATOR_GE, from_seq))
            return self._control_number(reply, protocol.RACP_REPORT_NUMBER)

    @staticmethod
    def _control_number(reply, op):
        kind, a, b = protocol_host.parse_racp_reply(reply)
        if kind == "number":
            return a
        raise RacpFailed(a, b)

    async def pull(self, from_seq, on_batch):
        """Pulls records >= from_seq in order; returns a PullResult (count 0: nothing new)."""
        async with self._lock:
            self.round_trips += 1
            request = protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_GE, from_seq)
            await self._write(protocol.CH_CONTROL, self._session.seal(protocol.CH_CONTROL, request))
            count = 0
            first = last = None
            while True:
                channel, data = await self._next_frame()
                if channel == protocol.CH_RECORDS:
                    batch = records_in_frame(data, from_seq if last is None else last + 1)
                    if first is None:
                        first = batch[0][0]
                    last = batch[-1][0]
                    count += len(batch)
                    result = on_batch(batch)
                    if inspect.isawaitable(result):
                        await result
                    continue
                if channel != protocol.CH_CONTROL:
                    raise DeviceError(protocol.ERR_BAD_OPCODE, "frame on channel %d during a pull" % channel)
                kind, op, code = protocol_host.parse_racp_reply(data)
                if kind == "response" and op == protocol.RACP_ABORT and code == protocol.RSP_SUCCESS:
                    return PullResult(count, first, last, aborted=True)
                if kind != "response" or op != protocol.RACP_REPORT:
                    raise DeviceError(protocol.ERR_BAD_OPCODE, "unexpected control point reply")
                if code == protocol.RSP_NO_RECORDS:
                    return PullResult(0, None, None)
                if code != protocol.RSP_SUCCESS:
                    raise RacpFailed(op, code)
                return PullResult(count, first, last)

    async def _next_in_order(self):
        """The next notification or indication in the device's sealing order (see REORDER_WINDOW)."""
        while True:
            if self._crypto_open:
                held = self._held.pop(self._session.incoming.counter, None)
                if held is not None:
                    return held
            got, data = await self._next()
            if got == protocol.CH_AUTH and len(data) == 2 and data[0] == protocol.AUTH_REFUSED:
                return got, data            # plain: not sealed, no counter
            if self._crypto_open and len(data) >= host_crypto.spec.COUNTER_SIZE:
                counter = int.from_bytes(data[:host_crypto.spec.COUNTER_SIZE], "little")
                if counter > self._session.incoming.counter:
                    if len(self._held) >= REORDER_WINDOW:
                        self._crypto_open = False
                        raise DeviceError(protocol.ERR_REPLAY, "%d frames ahead of a missing one" % len(self._held))
                    self._held[counter] = (got, data)
                    self.frames_reordered += 1
                    continue
            return got, data

    async def _next_frame(self):
        got, data = await self._next_in_order()
        if got == protocol.CH_AUTH and len(data) == 2 and data[0] == protocol.AUTH_REFUSED:
            self._crypto_open = False   # plain refusal: the device has no session for us any more
            raise DeviceError(data[1])
        if not self._crypto_open:
            raise DeviceError(protocol.ERR_NO_SESSION, "unexpected frame")
        if isinstance(got, tuple):    # a characteristic several channels share: the tag tells which
            got = next((c for c in got if self._session.incoming.tag_ok(c, data)), got[0])
        try:
            plaintext = self._session.open(got, data)
        except SessionError as exc:
            self._crypto_open = False
            raise DeviceError(exc.code, "frame from the device") from None
        self.frames_received += 1
        if got == protocol.CH_AUTH and len(plaintext) == 2 and plaintext[0] == protocol.AUTH_REFUSED:
            raise DeviceError(plaintext[1])
        return got, plaintext

    async def acknowledge(self, upto_seq):
        """Tells the device the host has stored every record up to upto_seq (its sync mark)."""
        async with self._lock:
            reply = await self._request(protocol.CH_CONTROL, protocol_host.racp_request(
                protocol.RACP_DELETE, protocol.OPERATOR_LE, upto_seq))
            self._expect_success(reply, protocol.RACP_DELETE)

    async def abort(self):
        """Stops a running pull (from another task); records already sent stay valid."""
        await self._write(protocol.CH_CONTROL, self._session.seal(
            protocol.CH_CONTROL, protocol_host.racp_request(protocol.RACP_ABORT)))

    @staticmethod
    def _expect_success(reply, op):
        kind, got_op, code = protocol_host.parse_racp_reply(reply)
        if kind != "response" or got_op != op or code != protocol.RSP_SUCCESS:
            raise RacpFailed(op, code if kind == "response" else protocol.RSP_NOT_COMPLETED)

    # -- entries, time, profile, alerts -------------------------------------------------------------------
    async def push_entry(self, kind, code, value, flags, day, minute, options=0):
        """Stores one entry (value in the stored integer unit); returns its record number. options:
        protocol.ENTRY_OPT_* the user confirmed. A refusal raises DeviceError; its .seq names the record
        already stored for ERR_DUPLICATE."""
        return await self._entry_request(protocol_host.encode_entry(kind, code, value, flags, day, minute, options),
                                         "entry refused")

    async def void_entry(self, target, reason):
        """Voids record `target` on the device (catalog.REASONS index); returns the EVENT_VOID's number."""
        return await self._entry_request(protocol_host.encode_void(target, reason), "void refused")

    async def amend_entry(self, target, reason, kind, code, value, flags, day, minute):
        """Replaces record `target` with this entry; returns the EVENT_AMEND's number (the entry is the one
        before it)."""
        return await self._entry_request(
            protocol_host.encode_amend(target, reason, kind, code, value, flags, day, minute), "amendment refused")

    async def _entry_request(self, payload, what):
        async with self._lock:
            reply = await self._request(protocol.CH_ENTRY, payload)
        status, seq = protocol_host.decode_entry_reply(reply)
        if status != protocol.STATUS_OK:
            error = DeviceError(status, what)
            error.seq = seq
            raise error
        return seq

    async def set_time(self, when, force=False):
        """Sets the device clock from a datetime (its wall-clock fields); clinician only. A day before the
        newest stored record's is refused (DeviceError ERR_CLOCK_BACK) unless force (logged by the device)."""
        day = dates.days_from_civil(when.year, when.month, when.day)
        payload = protocol.encode_cts(day, when.hour * 60 + when.minute, when.second)
        if force:
            payload += bytes((protocol.TIME_FORCE,))
        return await self._time(payload)

    async def get_time(self):
        return await self._time(b"")

    async def _time(self, payload):
        async with self._lock:
            reply = await self._request(protocol.CH_TIME, payload)
        if reply[0] != protocol.STATUS_OK:
            raise DeviceError(reply[0], "time")
        return protocol.decode_cts(reply[1:])

    async def _get_blob(self, channel):
        blob = bytearray()
        total = None
        while total is None or len(blob) < total:
            reply = await self._request(channel, protocol_host.encode_blob_get(len(blob)))
            status, total, offset, chunk = protocol_host.decode_blob_reply(reply)
            if status != protocol.STATUS_OK:
                raise DeviceError(status)
            if offset != len(blob) or (not chunk and len(blob) < total):
                raise DeviceError(protocol.ERR_BAD_VALUE, "blob chunk out of order")
            blob += chunk
        return bytes(blob)

    async def get_profile(self):
        async with self._lock:
            return await self._get_blob(protocol.CH_PROFILE)

    async def set_profile(self, blob):
        blob = bytes(blob)
        if len(blob) > protocol.MAX_BLOB:
            raise ValueError("profile larger than %d bytes" % protocol.MAX_BLOB)
        mtu = min(self.client.mtu_size, protocol.MAX_MTU)   # the device never buffers a larger write
        chunk = max(1, mtu - protocol.ATT_HEADER - host_crypto.spec.FRAME_OVERHEAD - protocol.BLOB_HEADER)
        async with self._lock:
            offset = 0
            while True:
                piece = blob[offset:offset + chunk]
                reply = await self._request(protocol.CH_PROFILE, protocol_host.encode_blob_put(len(blob), offset, piece))
                status, _total, have, _ = protocol_host.decode_blob_reply(reply)
                if status == records.ERR_PROFILE:
                    # the host checked it: a device refusing it runs firmware older than this profile version
                    raise DeviceError(status, "profile refused: the device cannot read this profile version "
                                              "(update the device firmware first)")
                if status != protocol.STATUS_OK:
                    raise DeviceError(status, "profile refused")
                offset += len(piece)
                if offset >= len(blob):
                    return
                if have != offset:
                    raise DeviceError(protocol.ERR_BAD_VALUE, "profile chunk lost")

    async def alerts(self):
        async with self._lock:
            payload = await self._get_blob(protocol.CH_ALERTS)
        return protocol_host.decode_alerts(payload)

    # -- updates (monitor/update.py on the device) --------------------------------------------------------
    async def _update(self, plaintext, op):
        reply = await self._request(protocol.CH_PROFILE, plaintext)
        got_op, status, stored, total, info = protocol_host.decode_update_reply(reply)
        if got_op != op:
            raise DeviceError(protocol.ERR_BAD_OPCODE, "update reply to op %d, expected %d" % (got_op, op))
        return status, stored, total, info

    async def update_status(self):
        """The running version and the last update's outcome (protocol_host.UpdateStatus)."""
        async with self._lock:
            status, _stored, _total, info = await self._update(bytes((protocol.UPDATE_STATUS,)),
                                                               protocol.UPDATE_STATUS)
        if status != protocol.STATUS_OK:
            raise DeviceError(status, "update status")
        info.version = untrusted.device_text(info.version)   # printed and stored by cmd_update
        info.note = untrusted.device_text(info.note, limit=200)
        return info

    def update_chunk_size(self):
        mtu = min(self.client.mtu_size, protocol.MAX_MTU)   # the device never buffers a larger write
        return mtu - protocol.ATT_HEADER - host_crypto.spec.FRAME_OVERHEAD - protocol.UPDATE_CHUNK_HEADER

    async def update_send(self, data, header_size, allow_downgrade=False, on_progress=None):
        """Sends a bundle from where the device's staging stands (a rerun resumes) and stages it; returns the
        offset the transfer started from. Every refusal raises DeviceError with the device's code."""
        import hashlib
        data = bytes(data)
        bundle_id = hashlib.sha256(data[:header_size]).digest()
        room = self.update_chunk_size()
        async with self._lock:
            status, stored, _total, _ = await self._update(
                protocol_host.encode_update_begin(len(data), header_size, bundle_id, allow_downgrade),
                protocol.UPDATE_BEGIN)
            if status != protocol.STATUS_OK:
                raise DeviceError(status, "update refused")
            started = offset = stored
            if on_progress is not None:
                on_progress(offset, len(data))
            while offset < len(data):
                piece = data[offset:offset + room]
                status, stored, _total, _ = await self._update(protocol_host.encode_update_chunk(offset, piece),
                                                               protocol.UPDATE_CHUNK)
                if status == protocol.ERR_UPDATE_OFFSET and stored < len(data):
                    offset = stored            # the device says where its flash stands
                    continue
                if status != protocol.STATUS_OK:
                    raise DeviceError(status, "update refused at byte %d" % offset)
                offset = stored
                if on_progress is not None:
                    on_progress(offset, len(data))
            status, _stored, _total, _ = await self._update(bytes((protocol.UPDATE_APPLY,)), protocol.UPDATE_APPLY)
            if status != protocol.STATUS_OK:
                raise DeviceError(status, "update not staged")
        return started


def provision_over_serial(port, device_key, timeout=5.0):
    """Sets the device's key over USB serial; raises DeviceError if the device refuses it."""
    device_key = bytes(device_key)
    if len(device_key) != host_crypto.spec.KEY_SIZE:
        raise ValueError("device key must be %d bytes" % host_crypto.spec.KEY_SIZE)
    port.write(framing.packet(protocol.CH_PROVISION, device_key))
    reader = framing.FrameReader()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for channel, frame in reader.feed(port.read(64) or b""):
            if channel == protocol.CH_PROVISION and frame == bytes((protocol.STATUS_OK,)):
                return
            if channel == protocol.CH_AUTH and len(frame) == 2 and frame[0] == protocol.AUTH_REFUSED:
                raise DeviceError(frame[1], "provisioning")
    raise TimeoutError("device did not confirm the key")
