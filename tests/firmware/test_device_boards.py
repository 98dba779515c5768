"""Each board's build asks for the link security its BLE stack can give (architecture: ESP32 bonds with
LE Secure Connections, Pico W relies on the session layer), through the firmware's own main.build."""
import ast
import asyncio
import os
import types

import sim.env
from sim import radio

from paths import ROOT  # noqa: E402


def board_constant(board, name):
    tree = ast.parse(open(os.path.join(ROOT, "firmware", "boards", board + ".py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("%s has no %s" % (board, name))


def test_esp32_requires_bonding_and_pico_w_does_not():
    assert board_constant("esp32_devkit", "BLE_SECURE_LINK") is True
    assert board_constant("pico_w", "BLE_SECURE_LINK") is False


def test_build_passes_the_boards_link_security_to_the_ble_service(tmp_path):
    sim.env.install()
    import main

    async def scenario():
        async with radio.InProcessLink() as link:
            link.peripheral_ble()
            built = {}
            for secure in (False, True):
                data_dir = str(tmp_path / ("secure" if secure else "plain"))
                board = types.SimpleNamespace(NAME="test", DATA_DIR=data_dir, rtc=None, battery=None,
                                              BLE_SECURE_LINK=secure)
                app, service = main.build(board, with_ble=True)
                built[secure] = service.secure_link
                app.store.close()
            return built

    assert asyncio.run(scenario()) == {False: False, True: True}
