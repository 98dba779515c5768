"""A bleak client backend on a bumble central Device, so host code written against bleak's public
`BleakClient` API talks to the simulated e2mon device over a real ATT/GATT stack (`e2mon --sim`).

    from bleak import BleakClient
    from host_tools.bleak_backend import BumbleClientBackend

    client = BleakClient(address, backend=BumbleClientBackend, central=bumble_device)
    async with client:
        await client.start_notify(uuid, on_data)
        await client.write_gatt_char(uuid, b"...", response=True)

`central` is a powered-on bumble Device (see host_tools.sim_link and sim.radio; without the keyword
the device set by `set_default_central()` is used). Like BlueZ and CoreBluetooth, `connect()` exchanges the ATT MTU
(`mtu=` keyword, default 247) and discovers every service, characteristic and descriptor. ATT errors
raise `bleak.exc.BleakGATTProtocolError`; any operation on a dropped link raises `BleakError`.
The disconnected callback runs only for a disconnect this client did not ask for.

Scanning works the same way: `BleakScanner(backend=BumbleScannerBackend, central=bumble_device)`
(e.g. `await BleakScanner.discover(2.0, backend=..., central=...)`) lists advertisers on the link
with their parsed advertising data (name, service UUIDs, manufacturer/service data, TX power).
Written against bleak 3.1 (`BaseBleakClient`, `BaseBleakScanner`); `tests/ble/test_bleak_backend_contract.py`
pins both.
"""
import asyncio
import inspect

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, core, hci
from bumble.gatt import Characteristic

DEFAULT_MTU = 247  # what phones and BlueZ typically ask for

_PROPERTY_NAMES = (
    (Characteristic.Properties.BROADCAST, "broadcast"),
    (Characteristic.Properties.READ, "read"),
    (Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (Characteristic.Properties.WRITE, "write"),
    (Characteristic.Properties.NOTIFY, "notify"),
    (Characteristic.Properties.INDICATE, "indicate"),
    (Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)

_default_central = None


def set_default_central(device):
    """The bumble Device used when BleakClient gets no `central=` keyword (None to clear)."""
    global _default_central
    _default_central = device


def bleak_uuid(bumble_uuid):
    """bleak's form of a UUID: lower-case 128-bit string."""
    return normalize_uuid_str(bumble_uuid.to_hex_str("-"))


def property_names(properties):
    return [name for bit, name in _PROPERTY_NAMES if properties & bit]


class BumbleClientBackend(BaseBleakClient):
    """bleak backend: one LE connection from a bumble central to `address`."""

    def __init__(self, address_or_ble_device, *, disconnected_callback=None, timeout=10.0,
                 central=None, mtu=DEFAULT_MTU, address_of=None, **kwargs):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        self._address_of = address_of   # where the device advertises now, if it does (sim_link, sim.radio)
        self._central = central if central is not None else _default_central
        if self._central is None:
            raise BleakError("no bumble central: pass central= or call set_default_central()")
        self._mtu_request = mtu
        self._connection = None
        self._closing = False
        self._subscriptions = {}  # characteristic handle -> bumble subscriber

    # ---- connection ---------------------------------------------------------------------------
    @property
    def name(self):
        return self.address

    @property
    def mtu_size(self):
        return self._connection.att_mtu if self._connection is not None else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self):
        return self._connection is not None

    async def _connect_current(self):
        """Connects to self.address; with address_of, to wherever the device advertises once it does (its
        firmware sets a new address with each identifier window, between a disconnection and advertising)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        if self._address_of is not None:
            while True:
                found = self._address_of()
                if inspect.isawaitable(found):
                    found = await found
                if found is not None or loop.time() >= deadline:
                    break
                await asyncio.sleep(0.02)
            self.address = found or self.address
        return await self._central.connect(hci.Address(self.address), own_address_type=hci.OwnAddressType.RANDOM,
                                           timeout=max(deadline - loop.time(), 0.1))

    async def connect(self, pair, **kwargs):
        if self._connection is not None:
            return
        try:
            connection = await self._connect_current()
        except (core.TimeoutError, asyncio.TimeoutError) as exc:
            raise BleakError("could not connect to %s: timeout" % self.address) from exc
        except core.BaseBumbleError as exc:
            raise BleakError("could not connect to %s: %s" % (self.address, exc)) from exc
        self._connection = connection
        self._closing = False
        self._subscriptions = {}
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            await self._guard(connection.gatt_client.request_mtu(self._mtu_request))
            self.services = await self._discover(connection.gatt_client)
            if pair:
                await self.pair()
        except BaseException:
            await self.disconnect()
            raise

    async def _discover(self, client):
        collection = BleakGATTServiceCollection()
        for service in await self._guard(client.discover_services()):
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in await self._guard(client.discover_characteristics((), service)):
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, bleak_uuid(char.uuid), property_names(char.properties),
                    lambda: self.mtu_size - 3, bleak_service)
                collection.add_characteristic(bleak_char)
                for desc in await self._guard(client.discover_descriptors(char)):
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, bleak_uuid(desc.type), bleak_char))
        return collection

    def _on_disconnection(self, reason):
        unsolicited = not self._closing
        self._connection = None
        if unsolicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self):
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        done = asyncio.get_running_loop().create_future()
        connection.once(connection.EVENT_DISCONNECTION, lambda *_: done.done() or done.set_result(None))
        try:
            await connection.disconnect()
            await asyncio.wait_for(done, self._timeout)
        except core.BaseBumbleError:
            pass  # already gone
        self._connection = None

    async def pair(self, *args, **kwargs):
        """Re-encrypt with the stored keys when bonded (as phones and BlueZ do), else pair."""
        connection = self._require()
        keystore = self._central.keystore
        keys = await keystore.get(str(connection.peer_address)) if keystore is not None else None
        if keys is not None and (keys.ltk or keys.ltk_central):
            await self._guard(connection.encrypt())
        else:
            await self._guard(connection.pair())

    async def unpair(self):
        keystore = self._central.keystore
        if keystore is not None:
            try:
                await keystore.delete(str(hci.Address(self.address)))
            except KeyError:
                pass

    # ---- I/O ----------------------------------------------------------------------------------
    def _require(self):
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    async def _guard(self, awaitable):
        """Map bumble's failures onto bleak's exceptions (ATT error, dropped link)."""
        try:
            return await awaitable
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._connection is None and (task is None or not task.cancelling()):
                raise BleakError("disconnected during the operation") from None
            raise
        except core.BaseBumbleError as exc:
            if self._connection is None:
                raise BleakError("disconnected during the operation") from exc
            raise BleakError(str(exc)) from exc

    async def read_gatt_char(self, characteristic, *, use_cached=False, **kwargs):
        client = self._require().gatt_client
        return bytearray(await self._guard(client.read_value(characteristic.handle)))

    async def read_gatt_descriptor(self, descriptor, *, use_cached=False, **kwargs):
        client = self._require().gatt_client
        return bytearray(await self._guard(client.read_value(descriptor.handle)))

    async def write_gatt_char(self, characteristic, data, response):
        client = self._require().gatt_client
        await self._guard(client.write_value(characteristic.handle, bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor, data):
        client = self._require().gatt_client
        await self._guard(client.write_value(descriptor.handle, bytes(data), with_response=True))

    async def start_notify(self, characteristic, callback, **kwargs):
        connection = self._require()

        def subscriber(value):
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = subscriber
        await self._guard(connection.gatt_client.subscribe(characteristic.obj, subscriber, prefer_notify=True))

    async def stop_notify(self, characteristic):
        connection = self._require()
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        await self._guard(connection.gatt_client.unsubscribe(characteristic.obj, subscriber))


# Advertising data types (Core Supplement, Part A).
_AD_UUIDS_16 = (0x02, 0x03)
_AD_UUIDS_128 = (0x06, 0x07)
_AD_SHORT_NAME = 0x08
_AD_COMPLETE_NAME = 0x09
_AD_TX_POWER = 0x0A
_AD_SERVICE_DATA_16 = 0x16
_AD_MANUFACTURER = 0xFF


def parse_advertising_data(ad_structures, rssi):
    """bleak's AdvertisementData from bumble's (type, bytes) advertising structures."""
    name = None
    uuids = []
    manufacturer = {}
    service_data = {}
    tx_power = None
    for ad_type, value in ad_structures:
        value = bytes(value)
        if ad_type == _AD_COMPLETE_NAME or (ad_type == _AD_SHORT_NAME and name is None):
            name = value.decode("utf-8", "replace")
        elif ad_type in _AD_UUIDS_16:
            uuids += [normalize_uuid_str("%04x" % int.from_bytes(value[i:i + 2], "little"))
                      for i in range(0, len(value) - 1, 2)]
        elif ad_type in _AD_UUIDS_128:
            uuids += [bleak_uuid(core.UUID.from_bytes(value[i:i + 16]))
                      for i in range(0, len(value) - 15, 16)]
        elif ad_type == _AD_MANUFACTURER and len(value) >= 2:
            manufacturer[int.from_bytes(value[:2], "little")] = value[2:]
        elif ad_type == _AD_SERVICE_DATA_16 and len(value) >= 2:
            service_data[normalize_uuid_str("%04x" % int.from_bytes(value[:2], "little"))] = value[2:]
        elif ad_type == _AD_TX_POWER and len(value) == 1:
            tx_power = int.from_bytes(value, "little", signed=True)
    # bumble merges a scan response into the advertisement, which may repeat structures
    return AdvertisementData(local_name=name, manufacturer_data=manufacturer, service_data=service_data,
                             service_uuids=list(dict.fromkeys(uuids)), tx_power=tx_power, rssi=rssi, platform_data=())


class BumbleScannerBackend(BaseBleakScanner):
    """bleak scanner backend: LE scanning on a bumble central."""

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", *, central=None, **kwargs):
        super().__init__(detection_callback, service_uuids)
        self._central = central if central is not None else _default_central
        if self._central is None:
            raise BleakError("no bumble central: pass central= or call set_default_central()")
        self._active = scanning_mode == "active"
        self._scanning = False

    def _on_advertisement(self, advertisement):
        data = parse_advertising_data(advertisement.data.ad_structures, advertisement.rssi)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = advertisement.address.to_string(False)
        previous = self.seen_devices.get(address)
        if previous is not None and data.local_name is None:  # a scan response may carry the name
            data = data._replace(local_name=previous[1].local_name)
        device = self.create_or_update_device(address, address, data.local_name, advertisement, data)
        self.call_detection_callbacks(device, data)

    async def start(self):
        self.seen_devices = {}
        self._central.on("advertisement", self._on_advertisement)
        await self._central.start_scanning(active=self._active, filter_duplicates=False)
        self._scanning = True

    async def stop(self):
        if self._scanning:
            self._scanning = False
            await self._central.stop_scanning()
        self._central.remove_listener("advertisement", self._on_advertisement)
