"""The central role, checked the same way on the shadow and on both real stacks: one central program written
only against MicroPython's `bluetooth` API (tests/ble_conformance_central.py: gap_scan, gap_connect,
gattc_discover_*, gattc_write, gattc_read, a notification after a CCCD write, gap_disconnect) drives the
conformance peripheral on a real stack, both on one link. On the shadow the program runs on its own thread
(sim.board_thread), as a board's main thread, and waits in time.sleep_ms as on a board.
"""
import asyncio
import ast
import os
import sys

import pytest

from paths import ROOT

TESTS = os.path.join(ROOT, "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

import sim.bluetooth  # noqa: E402

sys.modules.setdefault("bluetooth", sim.bluetooth)

import ble_conformance_peripheral as peripheral  # noqa: E402
from host_tools import sim_link  # noqa: E402
from sim import bluetooth, board_thread, env, radio, stack_device  # noqa: E402

PERIPHERAL = os.path.join(TESTS, "ble_conformance_peripheral.py")
CENTRAL = os.path.join(TESTS, "ble_conformance_central.py")
_TIMEOUT_S = 60


def _needs(*stacks):
    missing = [s for s in stacks if s != "shadow" and not stack_device.built(s)]
    return pytest.mark.skipif(bool(missing), reason="not built: make firmware (%s)" % ", ".join(missing))


PAIRS = [pytest.param(c, p, marks=_needs(c, p)) for c in ("shadow",) + stack_device.STACKS
         for p in stack_device.STACKS]


def _parse(lines):
    results = {}
    for line in lines:
        if line.startswith("RESULT "):
            _, name, value = line.split(" ", 2)
            results[name] = ast.literal_eval(value)
    return results


async def _run(central_stack, peripheral_stack, tmp_path):
    link = radio._CuttableLink()
    device = stack_device.StackDevice(peripheral_stack, str(tmp_path / "peripheral"), link, script=PERIPHERAL,
                                      name="peripheral-" + peripheral_stack)
    await device.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _TIMEOUT_S
    try:
        if central_stack == "shadow":
            controller, shadow = radio._make_device(link, "shadow-central", sim_link.CENTRAL_ADDRESS)
            await shadow.power_on()
            bluetooth.attach(shadow)
            env.install()
            program = board_thread.BoardThread.start(CENTRAL, loop)
            try:
                while program.alive:
                    assert loop.time() < deadline, "the shadow's central did not finish"
                    await asyncio.sleep(0.05)
            finally:
                program.stop()
                bluetooth.detach()
            assert program.error is None, repr(program.error)
            return {name: value for name, value in program.globals["RESULTS"]}, controller
        central = stack_device.StackDevice(central_stack, str(tmp_path / "central"), link, script=CENTRAL,
                                           name="central-" + central_stack,
                                           extra_env={"MICROPYPATH": ":".join((TESTS, ".frozen"))})
        await central.start(wait_advertising=False)
        try:
            while central.process.returncode is None:
                assert loop.time() < deadline, "\n".join(central.output)
                await asyncio.sleep(0.05)
        finally:
            await central.stop()
        assert central.process.returncode == 0, "\n".join(central.output)
        return _parse(central.output), central.controller
    finally:
        await device.stop()


@pytest.mark.parametrize(("central", "peripheral_stack"), PAIRS)
def test_central_program_runs_the_same_on_the_shadow_and_both_stacks(central, peripheral_stack, tmp_path):
    results, _ = asyncio.run(asyncio.wait_for(_run(central, peripheral_stack, tmp_path), _TIMEOUT_S + 20))
    assert results["found"] is True
    assert results["adv_types"] == [0, 4]                     # ADV_IND and its scan response
    assert results["scan_response"] == peripheral.RESP_DATA
    assert results["properties"] == [0x08, 0x02, 0x12, 0x22, 0x0E]
    for step in ("connected", "tx_cccd", "handles", "notified", "read", "disconnected", "done"):
        assert results[step] is True, (step, results)
