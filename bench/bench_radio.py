"""Simulator radio figures: a MicroPython-style peripheral (tests/ble_echo_peripheral.py) on the
`bluetooth` shadow, received through bleak's BleakClient on the bumble backend.

radio_notify_per_s / radio_payload_kib_per_s   in-process burst of 244-byte notifications (MTU 247)
radio_enomem_per_1000                            NimBLE-style refusals per 1000 notifications sent
radio_connect_discover_ms                        connect (waits for the next 100 ms advertisement)
                                                  + MTU exchange + full discovery, mean
radio_link_loss_runs / _misordered / _reconnect_failures
                                                  bursts cut by a forced link loss at a random point:
                                                  every prefix must arrive in order, every reconnect work
radio_tcp_notify_per_s                           the same burst between two processes over TCP
"""
import asyncio
import os
import random
import struct
import subprocess
import sys
import time

import sim.bluetooth

sys.modules.setdefault("bluetooth", sim.bluetooth)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import ble_echo_peripheral as echo  # noqa: E402
from host_tools import sim_link  # noqa: E402
from sim import radio  # noqa: E402

BURST = 5000
SIZE = 244
CONNECTS = 20
LINK_LOSS_RUNS = 100


async def _wait(predicate, timeout=60.0):
    async def poll():
        while not predicate():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), timeout)


async def _burst(client, count, size):
    received = []
    await client.start_notify(echo.TX_UUID, lambda _c, data: received.append(bytes(data)))
    started = time.perf_counter()
    await client.write_gatt_char(echo.RX_UUID, b"burst %d %d" % (count, size), response=True)
    await _wait(lambda: len(received) >= count)
    elapsed = time.perf_counter() - started
    await client.stop_notify(echo.TX_UUID)
    seqs = [struct.unpack_from("<I", p)[0] for p in received]
    assert seqs == list(range(count)), "notifications lost or reordered"
    return elapsed


async def _in_process():
    figures = {}
    async with radio.InProcessLink() as link:
        device = echo.EchoPeripheral(link.peripheral_ble())
        await device.ble.sim_settle()
        async with link.client() as client:
            elapsed = await _burst(client, BURST, SIZE)
        figures["radio_notify_per_s"] = round(BURST / elapsed)
        figures["radio_payload_kib_per_s"] = round(BURST * SIZE / 1024 / elapsed)
        figures["radio_enomem_per_1000"] = round(1000 * device.refusals / device.sent, 1)

        await _wait(lambda: not device.connections)
        await device.ble.sim_settle()
        total = 0.0
        for _ in range(CONNECTS):
            client = link.client()
            started = time.perf_counter()
            await client.connect()
            total += time.perf_counter() - started
            await client.disconnect()
            await _wait(lambda: not device.connections)
            await device.ble.sim_settle()
        figures["radio_connect_discover_ms"] = round(1000 * total / CONNECTS, 2)

        rng = random.Random(4)
        misordered = reconnect_failures = 0
        for _ in range(LINK_LOSS_RUNS):
            received = []
            cut_after = rng.randint(0, 300)
            try:
                client = link.client()
                await client.connect()
                await client.start_notify(echo.TX_UUID, lambda _c, data, r=received: r.append(bytes(data)))
                await client.write_gatt_char(echo.RX_UUID, b"burst 100000 64", response=True)
                await _wait(lambda r=received, n=cut_after: len(r) >= n)
                await link.drop_connection()
                await device.ble.sim_settle()
            except Exception:  # noqa: BLE001 - counted: the next run must still work
                reconnect_failures += 1
                await link.drop_connection()
                continue
            seqs = [struct.unpack_from("<I", p)[0] for p in received]
            misordered += seqs != list(range(len(seqs)))
        figures["radio_link_loss_runs"] = LINK_LOSS_RUNS
        figures["radio_link_loss_misordered"] = misordered
        figures["radio_link_loss_reconnect_failures"] = reconnect_failures
    return figures


def _over_tcp():
    bootstrap = ("import sys, runpy, sim.bluetooth; sys.modules['bluetooth'] = sim.bluetooth; "
                 "runpy.run_path(%r, run_name='__main__')" % os.path.join(ROOT, "tests", "ble_echo_peripheral.py"))
    proc = subprocess.Popen([sys.executable, "-c", bootstrap], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            cwd=ROOT, text=True)
    try:
        port = int(proc.stdout.readline().split()[1])

        async def session():
            async with sim_link.TcpCentral("127.0.0.1", port) as central:
                async with central.client() as client:
                    return await _burst(client, BURST, SIZE)

        elapsed = asyncio.run(session())
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"radio_tcp_notify_per_s": round(BURST / elapsed)}


def run():
    figures = asyncio.run(_in_process())
    figures.update(_over_tcp())
    return figures


if __name__ == "__main__":
    for name, value in run().items():
        print("%s: %s" % (name, value))
