"""Host-side costs for 100,000 records: pull (decode + decrypt + verify of the
frames the device would send, apart from air time), store into SQLite, export
a FHIR Bundle, render the report picture.

The log is a plausible therapy course compressed into many entries: daily
symptoms, doses, labs every few weeks. Times are wall-clock seconds of one run
on this machine (the pull's frames are sealed by the device-side session code
before the clock starts).
"""
import io
import os
import tempfile
import time

from monitor import catalog, records

N_RECORDS = 100_000
FIRST_DAY = 9500   # 2026-01-05


def therapy_log(count=N_RECORDS, first_day=FIRST_DAY):
    """(seq, day, minute, kind, code, value, flags) tuples, valid values only: a daily anastrozole dose
    (changed every 120 days), weekly testosterone, every symptom rated three times a day, and E2, TT and
    hematocrit every 4 weeks; 100,000 records span about six and a half years."""
    e2 = catalog.ANALYTES.index("E2")
    tt = catalog.ANALYTES.index("TT")
    hct = catalog.ANALYTES.index("HCT")
    n_symptoms = len(catalog.SYMPTOMS)
    out = []
    seq = 0
    day = first_day
    while seq < count:
        per_day = [(records.KIND_DOSE, 0, 500 if (day - first_day) // 120 % 2 == 0 else 250, 0)]
        if day % 7 == 0:
            per_day.append((records.KIND_DOSE, 1, 100000, 0))   # testosterone 100 mg, in µg
        for check_in in range(3):
            for code in range(n_symptoms):
                per_day.append((records.KIND_SYMPTOM, code, (day + code + check_in) % 4, 0))
        if day % 28 == 0:
            per_day.append((records.KIND_LAB, e2, 180 + (day * 37) % 500, 2))
            per_day.append((records.KIND_LAB, tt, 450 + (day * 53) % 600, 1))
            per_day.append((records.KIND_LAB, hct, 440 + (day * 11) % 120, 0))
        for minute, (kind, code, value, flags) in enumerate(per_day):
            if seq >= count:
                break
            out.append((seq, day, minute * 30 % 1440, kind, code, value, flags))
            seq += 1
        day += 1
    return out


def _time(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run():
    from host_tools import fhir, report
    from host_tools.db import HostDB

    log = therapy_log()
    figures = {}
    pull_s = _pull_seconds(log)
    if pull_s is not None:
        figures["host_pull_s_100k"] = round(pull_s, 3)
    with tempfile.TemporaryDirectory() as tmp:
        db = HostDB(os.path.join(tmp, "bench.sqlite"))
        db.ensure_device("bench-device", name="e2mon-bench")

        def store():
            for i in range(0, len(log), 2000):  # the pull commits per batch of this size
                db.store_records("bench-device", log[i:i + 2000])

        figures["host_store_s_100k"] = round(_time(store)[0], 3)
        assert db.count("bench-device") == N_RECORDS
        # each record's own offset in the host's zone, as `e2mon export --format fhir` writes it
        seconds, _ = _time(lambda: fhir.write_bundle(db, "bench-device", io.StringIO()))
        figures["host_export_fhir_s_100k"] = round(seconds, 3)
        out = os.path.join(tmp, "report.png")
        seconds, _ = _time(lambda: report.render(db, "bench-device", out, today=log[-1][1]))
        figures["host_report_s_100k"] = round(seconds, 3)
        db.close()
    return figures


class ReplayClient:
    """A BleakClient-shaped loopback: the device's session answers the handshake and the pull
    request, and the pull's notifications are frames the device session sealed beforehand, so the
    timed part is the host's alone (DeviceLink.pull: queue, decrypt, verify, unpack, store batches)."""

    mtu_size = 247
    is_connected = True

    def __init__(self, device_session, log):
        from monitor import protocol, protocol_host
        self.protocol = protocol
        self.channel_uuids = protocol_host.CHANNEL_UUIDS
        self.device = device_session
        self.log = log
        self.callbacks = {}
        self.frames = []

    async def start_notify(self, uuid, callback, **_kw):
        self.callbacks[uuid] = callback

    async def stop_notify(self, uuid):
        self.callbacks.pop(uuid, None)

    def _notify(self, channel, data):
        self.callbacks[self.channel_uuids[channel]](None, bytearray(data))

    def seal_log(self):
        """What the device would send for `records >= 0`: records frames, then the RACP success."""
        from monitor import records
        p = self.protocol
        per_frame = p.records_per_frame(self.mtu_size, _frame_overhead(), records.RECORD_SIZE)
        buf = bytearray(per_frame * records.RECORD_SIZE)
        for i in range(0, len(self.log), per_frame):
            chunk = self.log[i:i + per_frame]
            for j, r in enumerate(chunk):
                records.pack_record(buf, j * records.RECORD_SIZE, *r)
            body = bytes(buf[:len(chunk) * records.RECORD_SIZE])
            self.frames.append((p.CH_RECORDS, self.device.seal(p.CH_RECORDS, body)))
        self.frames.append((p.CH_CONTROL, self.device.seal(
            p.CH_CONTROL, p.racp_response(p.RACP_REPORT, p.RSP_SUCCESS))))

    async def write_gatt_char(self, uuid, data, response=True):
        p = self.protocol
        if uuid == self.channel_uuids[p.CH_AUTH]:
            reply = self.device.hello(data) if data[0] == p.AUTH_HELLO else self.device.proof(data)
            self._notify(p.CH_AUTH, reply)
            if data[0] == p.AUTH_PROOF:
                self.seal_log()
            return
        self.device.open(p.CH_CONTROL, data)   # the pull request
        for channel, frame in self.frames:
            self._notify(channel, frame)


def _frame_overhead():
    from monitor import session
    return session.FRAME_OVERHEAD


def _pull_seconds(log):
    """Host-side seconds to pull the log: DeviceLink.pull on pre-sealed frames, batches stored in memory."""
    import asyncio
    import os

    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink, role_code
    from monitor.session import DeviceSession

    key = bytes(range(32))
    client = ReplayClient(DeviceSession(key, os.urandom), log)
    link = DeviceLink(client, host_crypto.role_key(key, role_code("clinician")), "clinician")
    received = []

    async def pull():
        await link.open_session()   # the device seals every frame here (not timed)
        start = time.perf_counter()
        await link.pull(0, received.extend)
        return time.perf_counter() - start

    seconds = asyncio.run(pull())
    assert [r[0] for r in received] == list(range(len(log))), "pull lost or reordered records"
    return seconds
