"""The central of the device memory bench: CPython, in its own process, with the host's own session code
(host_tools.host_crypto). It drives bench/upy_device_heap.py running on the MicroPython unix port over the
process's stdin/stdout, the radio of tests/upy_shadow/bluetooth.py (message format in that script), so
the device's heap holds the device alone.

    run_device(micropython, env, heap, args, launch=None) -> figures dict   (raises DeviceRunError)
"""
import json
import os
import struct
import subprocess

from host_tools import host_crypto
from host_tools.device_link import records_in_frame
from monitor import protocol

KEY = bytes(range(32))      # the bench device's key (upy_device_heap.KEY)
MTU = 247


class DeviceRunError(Exception):
    """The device process failed; the message is its last line of output."""


class _Link:
    def __init__(self, proc):
        self.proc = proc

    def send(self, kind, handle=0, payload=b""):
        self.proc.stdin.write(struct.pack("<BBH", ord(kind), handle, len(payload)) + payload)
        self.proc.stdin.flush()

    def receive(self):
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            raise EOFError
        if header[0] == 4:   # qemu's raw REPL failed before the driver ran: its error, up to the "\x04>" prompt
            while not header.endswith(b"\x04>"):
                byte = self.proc.stdout.read(1)
                if not byte:
                    break
                header += byte
            lines = header.decode(errors="replace").replace("\x04", "\n").rstrip(">").strip().splitlines()
            raise ValueError(lines[-1] if lines else "the device stopped")
        kind, handle, length = struct.unpack("<BBH", header)
        value = self.proc.stdout.read(length)
        self.last_raw = header + value   # not a message when the device printed an error instead
        return chr(kind), handle, value

    def take(self):
        """Ticks the device until nothing is in flight; returns [(handle, value)] in the order sent."""
        self.send("T")
        taken = []
        while True:
            kind, handle, value = self.receive()
            if kind == ".":
                return taken
            taken.append((handle, value))

    def figures(self):
        kind, _handle, value = self.receive()
        if kind != "F":   # e.g. a traceback: its last line says why
            lines = self.last_raw.decode(errors="replace").strip().splitlines()
            raise ValueError(lines[-1] if lines else "expected figures, got %r" % kind)
        return json.loads(value)


def _one_reply(link, what):
    """The one reply to a handshake step. None while the device runs means it holds its frames back: its
    free heap stays under device.ble_service.HEAP_FLOOR after a collection (a heap too small)."""
    replies = link.take()
    if len(replies) != 1:
        raise DeviceRunError("%d replies to the session %s, not 1%s" % (
            len(replies), what, "" if replies else ": the device holds frames back while its free heap is "
            "under ble_service.HEAP_FLOOR (heap too small?)"))
    return replies[0]


def _pull(link, handles, expected):
    """A clinician session, then a pull of every record; checks order and integrity of each record.
    Returns the records pulled and the ATT bytes that carried them (header and value of each)."""
    channel_of = {handle: int(channel) for channel, handle in handles.items()}
    auth = handles[str(protocol.CH_AUTH)]
    role = protocol.ROLE_CLINICIAN
    session = host_crypto.HostSession(host_crypto.role_key(KEY, role), role)
    link.send("C", 0, struct.pack("<H", MTU))
    link.send("W", auth, session.hello())
    reply = _one_reply(link, "hello")
    link.send("W", auth, session.answer_challenge(reply[1]))
    reply = _one_reply(link, "proof")
    if reply[1] != bytes((protocol.AUTH_OPEN, role)):
        raise DeviceRunError("session not opened: %r" % reply[1])
    link.send("W", handles[str(protocol.CH_CONTROL)],
              session.seal(protocol.CH_CONTROL, bytes((protocol.RACP_REPORT, protocol.OPERATOR_ALL))))
    next_seq, pulled, final, att_bytes = 1, 0, None, 0
    for handle, value in link.take():
        att_bytes += protocol.ATT_HEADER + len(value)
        channel = channel_of[handle]
        body = session.open(channel, value)
        if channel == protocol.CH_RECORDS:
            batch = records_in_frame(body, next_seq)    # the host's own check: intact and rising
            if batch[0][0] != next_seq or batch[-1][0] != next_seq + len(batch) - 1:
                raise DeviceRunError("records missing before %d" % batch[-1][0])
            next_seq += len(batch)
            pulled += len(batch)
        elif channel == protocol.CH_CONTROL:
            final = body
    if final != protocol.racp_response(protocol.RACP_REPORT, protocol.RSP_SUCCESS):
        raise DeviceRunError("pull did not end with success: %r" % (final,))
    if pulled != expected:
        raise DeviceRunError("pulled %d of %d records" % (pulled, expected))
    link.send("D")
    return pulled, att_bytes


def run_device(micropython, env, heap, args, launch=None):
    """Runs the device script with `args` under `-X heapsize=heap` on the unix port `micropython`, or
    started by launch(heap, args) (bench/qemu_device.launch); when it serves (no mode argument, "ui" or
    "speed") pulls every record as a clinician. Returns the device's figures (and the pull's); raises
    DeviceRunError."""
    if launch is not None:
        proc = launch(heap, args)
    else:
        proc = subprocess.Popen([micropython, "-X", "heapsize=" + heap, "-m", "_launch"] + list(args),
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    link = _Link(proc)
    try:
        figures = link.figures()
        if len(args) == 2 or args[2] in ("ui", "speed"):      # the device serves a pull
            figures["upy_pull_records"], figures["upy_pull_att_bytes"] = _pull(
                link, figures.pop("handles"), figures["upy_stored_records"])
            link.send("Q")
            figures.update(link.figures())
            for line in proc.stdout.read().decode().splitlines():
                if line.startswith("qstr pool:"):
                    # interned names (module, attribute, argument names...) of the whole run: never freed
                    fields = dict(item.strip().split("=") for item in line[len("qstr pool:"):].split(","))
                    figures["upy_qstr_count"] = int(fields["n_qstr"])
                    figures["upy_heap_qstr_bytes"] = int(fields["n_total_bytes"])
        proc.wait(timeout=120)
    except (EOFError, BrokenPipeError, ValueError) as exc:   # the device died: its last words say why
        proc.kill()
        out, err = proc.communicate()
        lines = (out.decode(errors="replace") + err.decode(errors="replace")).strip().splitlines()
        raise DeviceRunError(lines[-1] if lines else str(exc) or type(exc).__name__) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    if proc.returncode != 0:
        raise DeviceRunError("device exited with %d" % proc.returncode)
    return figures


def device_env(mpy_dir, shadow_dir):
    """MICROPYPATH for the device: the port's frozen modules, the firmware build, the stand-in radio."""
    return dict(os.environ, MICROPYPATH=".frozen:" + mpy_dir + ":" + shadow_dir)
