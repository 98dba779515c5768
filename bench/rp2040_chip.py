# Runs on the Pico W image (safe mode, raw REPL; sent by bench/bench_rp2040.py with upy_history.py on the
# chip's flash): one rule evaluation, and the device's side of a pull through its real Endpoint (the store
# read from littlefs, the records sealed into notifications), timed with ticks_us. The emulated chip's
# timer counts simulated time, 8 ns a cycle at 125 MHz. Prints one line: FIGURES {json}.
import gc
import os
import time

from monitor import protocol, protocol_host
from monitor import session
from monitor.endpoint import Endpoint
from monitor.store import Store
from upy_history import build

EVALS = 200
PULL_RECORDS = 280           # 20 notifications of 14 records at MTU 247
KEY = bytes(range(32))
DIRECTORY = "/bench_store"

tracker, today = build(10)
tracker.evaluate(today)      # warm-up
gc.collect()
start = time.ticks_us()
for _ in range(EVALS):
    tracker.evaluate(today)
eval_us = time.ticks_diff(time.ticks_us(), start) / EVALS
tracker = None


class Device:
    """What the Endpoint asks of the app during a pull: its store."""

    def __init__(self, store):
        self.store = store


store = Store(DIRECTORY)      # on the chip's littlefs, blank at each emulator start
for i in range(PULL_RECORDS):
    store.append(9000 + i // 4, 600, 0, i % 16, 1000 + i, 0)
endpoint = Endpoint(Device(store), KEY, os.urandom)
endpoint.connected(protocol.MAX_MTU)
role = protocol.ROLE_CLINICIAN
host_nonce = os.urandom(protocol.NONCE_SIZE)
endpoint.receive(protocol.CH_AUTH, bytes((protocol.AUTH_HELLO, role)) + host_nonce)
challenge = endpoint.next_frame()[1]
device_nonce = challenge[1:1 + protocol.NONCE_SIZE]
rkey = session.role_key(KEY, role)
endpoint.receive(protocol.CH_AUTH, bytes((protocol.AUTH_PROOF,)) +
                 session.host_proof(rkey, role, host_nonce, device_nonce))
assert endpoint.next_frame()[1][0] == protocol.AUTH_OPEN
enc, mac = session.direction_keys(rkey, role, host_nonce, device_nonce, session.DIR_HOST_TO_DEVICE)
host = session.FrameCipher(enc, mac, session.DIR_HOST_TO_DEVICE)
request = protocol_host.racp_request(protocol.RACP_REPORT, protocol.OPERATOR_GE, 1)
endpoint.receive(protocol.CH_CONTROL, host.seal(protocol.CH_CONTROL, request))
frames = 0
gc.collect()
start = time.ticks_us()
while True:
    channel, frame = endpoint.next_frame()
    if channel != protocol.CH_RECORDS:
        break
    frames += 1
pull_us = time.ticks_diff(time.ticks_us(), start)
store.close()
gc.collect()
print("FIGURES {\"eval_us\": %.2f, \"pull_us\": %d, \"pull_frames\": %d, \"pull_records\": %d, "
      "\"mem_free\": %d}" % (eval_us, pull_us, frames, PULL_RECORDS, gc.mem_free()))
