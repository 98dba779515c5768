"""Pins the bleak backend contract host_tools/bleak_backend.py implements: bleak's backend API is not stable,
so a bleak upgrade that changes what the backend must provide fails here first."""
import asyncio
import inspect
import sys
from importlib.metadata import version

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService
from bleak.exc import BleakError, BleakGATTProtocolError

import sim.bluetooth

sys.modules.setdefault("bluetooth", sim.bluetooth)

import ble_echo_peripheral as echo  # noqa: E402
from host_tools import sim_link  # noqa: E402
from host_tools.bleak_backend import BumbleClientBackend, BumbleScannerBackend  # noqa: E402
from sim import radio  # noqa: E402

CCCD = "00002902-0000-1000-8000-00805f9b34fb"
USER_DESCRIPTION = "00002901-0000-1000-8000-00805f9b34fb"

# name -> parameters (name, kind) after self, as bleak 3.1 declares them.
P, K, V = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD
ABSTRACT_METHODS = {
    "mtu_size": None,
    "is_connected": None,
    "connect": [("pair", P), ("kwargs", V)],
    "disconnect": [],
    "pair": [("args", inspect.Parameter.VAR_POSITIONAL), ("kwargs", V)],
    "unpair": [],
    "read_gatt_char": [("characteristic", P), ("use_cached", K), ("kwargs", V)],
    "read_gatt_descriptor": [("descriptor", P), ("use_cached", K), ("kwargs", V)],
    "write_gatt_char": [("characteristic", P), ("data", P), ("response", P)],
    "write_gatt_descriptor": [("descriptor", P), ("data", P)],
    "start_notify": [("characteristic", P), ("callback", P), ("kwargs", V)],
    "stop_notify": [("characteristic", P)],
}


def shape(function):
    params = list(inspect.signature(function).parameters.values())[1:]
    return [(p.name, p.kind) for p in params]


def test_bleak_version_is_the_pinned_major():
    major, minor = (int(x) for x in version("bleak").split(".")[:2])
    assert (major, minor) >= (3, 1) and major < 4


def test_abstract_api_is_unchanged_and_fully_implemented():
    assert set(BaseBleakClient.__abstractmethods__) == set(ABSTRACT_METHODS)
    for name, expected in ABSTRACT_METHODS.items():
        base = getattr(BaseBleakClient, name)
        ours = getattr(BumbleClientBackend, name)
        if expected is None:
            assert isinstance(base, property) and isinstance(ours, property), name
            continue
        assert shape(base) == expected, name
        assert inspect.iscoroutinefunction(base) and inspect.iscoroutinefunction(ours), name
        assert shape(ours) == expected, name
    assert not BumbleClientBackend.__abstractmethods__
    assert isinstance(BaseBleakClient.__dict__["name"], property)  # we override it as well


def test_constructor_shapes_the_backend_builds_on():
    init = inspect.signature(BaseBleakClient.__init__).parameters
    assert list(init)[:2] == ["self", "address_or_ble_device"]
    assert init["disconnected_callback"].kind is K and init["timeout"].kind is K
    assert list(inspect.signature(BleakGATTService.__init__).parameters) == ["self", "obj", "handle", "uuid"]
    assert list(inspect.signature(BleakGATTCharacteristic.__init__).parameters) == [
        "self", "obj", "handle", "uuid", "properties", "max_write_without_response_size", "service"]
    assert list(inspect.signature(BleakGATTDescriptor.__init__).parameters) == [
        "self", "obj", "handle", "uuid", "characteristic"]
    assert BleakGATTProtocolError(0x0F).code == 0x0F
    client = inspect.signature(BleakClient.__init__).parameters
    assert client["backend"].kind is K and "kwargs" in client  # our central= travels in **kwargs


def test_a_backend_without_a_central_is_refused():
    with pytest.raises(BleakError):
        BleakClient(sim_link.DEVICE_ADDRESS, backend=BumbleClientBackend)


def test_behaviour_through_the_public_bleak_client():
    async def main():
        async with radio.InProcessLink() as link:
            device = echo.EchoPeripheral(link.peripheral_ble())
            await device.ble.sim_settle()
            client = link.client(mtu=185)
            assert client.backend_id == "BumbleClientBackend"
            assert client.address == sim_link.DEVICE_ADDRESS and not client.is_connected
            with pytest.raises(BleakError):
                await client.start_notify(echo.TX_UUID, lambda *_: None)
            await client.connect()
            try:
                assert client.is_connected and client.mtu_size == 185
                tx = client.services.get_characteristic(echo.TX_UUID)
                assert tx.max_write_without_response_size == 182
                assert tx.service_uuid == echo.SERVICE_UUID
                assert client.services.get_characteristic(tx.handle) is tx
                cccd = tx.get_descriptor(CCCD)
                assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x00\x00")

                received = asyncio.Queue()

                async def on_notify(sender, data):  # bleak accepts coroutine callbacks too
                    await received.put((sender, data))

                await client.start_notify(tx, on_notify)
                assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x01\x00")
                await client.write_gatt_char(echo.RX_UUID, b"burst 3 20", response=True)
                got = [await asyncio.wait_for(received.get(), 5) for _ in range(3)]
                assert all(sender is tx and isinstance(data, bytearray) for sender, data in got)
                await client.stop_notify(tx)
                assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x00\x00")
                with pytest.raises(ValueError):  # bleak itself keeps hands off the CCCD
                    await client.write_gatt_descriptor(cccd, b"\x01\x00")
                label = client.services.get_characteristic(echo.CTRL_UUID).get_descriptor(USER_DESCRIPTION)
                assert await client.read_gatt_descriptor(label) == bytearray(b"control")
                await client.write_gatt_descriptor(label, b"relabel")
                await asyncio.sleep(0.01)
                assert device.writes[-1] == (device.ctrl_label, b"relabel") == (label.handle, b"relabel")
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.read_gatt_char(echo.RX_UUID)
                assert denied.value.code == 0x02
                with pytest.raises(BleakError):
                    await client.read_gatt_char("0000ffff-0000-1000-8000-00805f9b34fb")  # not found
            finally:
                await client.disconnect()
            assert not client.is_connected
            await client.disconnect()  # idempotent
            with pytest.raises(BleakError):
                await client.read_gatt_char(tx)

    asyncio.run(asyncio.wait_for(main(), 60))


def test_scanner_contract_and_discovery():
    assert set(BaseBleakScanner.__abstractmethods__) == {"start", "stop"}
    assert list(inspect.signature(BaseBleakScanner.__init__).parameters) == [
        "self", "detection_callback", "service_uuids"]
    assert list(AdvertisementData._fields) == [
        "local_name", "manufacturer_data", "service_data", "service_uuids", "tx_power", "rssi", "platform_data"]
    assert not BumbleScannerBackend.__abstractmethods__

    async def main():
        async with radio.InProcessLink() as link:
            device = echo.EchoPeripheral(link.peripheral_ble())
            await device.ble.sim_settle()
            found = await BleakScanner.discover(0.5, return_adv=True, backend=BumbleScannerBackend,
                                                central=link.central)
            assert list(found) == [sim_link.DEVICE_ADDRESS]
            ble_device, adv = found[sim_link.DEVICE_ADDRESS]
            assert ble_device.name == adv.local_name == "e2mon"
            assert adv.service_uuids == [echo.SERVICE_UUID] and isinstance(adv.rssi, int)
            wanted = await BleakScanner.discover(0.3, backend=BumbleScannerBackend, central=link.central,
                                                 service_uuids=[echo.SERVICE_UUID])
            assert [d.address for d in wanted] == [sim_link.DEVICE_ADDRESS]
            other = await BleakScanner.discover(0.3, backend=BumbleScannerBackend, central=link.central,
                                                service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"])
            assert other == []
            # The scanner hands over a device a client can connect to, as on a real adapter.
            async with BleakClient(ble_device, backend=BumbleClientBackend, central=link.central) as client:
                assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"ready")

    asyncio.run(asyncio.wait_for(main(), 60))
