"""Reaching a device: BLE through bleak, the simulator through bumble's TCP link
(`--sim`, H4's sim.radio + bleak backend, the same DeviceLink code path), or USB
serial (`--port`). Every failure on the way becomes one clear `Failure` line.

    async with session(settings, address, role) as (link, device_id):
        await link.count(0)

- `client(settings, address)`: async context manager yielding (BleakClient-like, device id)
- `session(settings, address, role)`: the same plus an authenticated `DeviceLink`
- `scan(settings, seconds) -> [dict(name, address, rssi, firmware)]`
- `sim_endpoint(settings) -> (host, port)` from $E2MON_SIM_TRANSPORT ("host:port"), default 127.0.0.1:47212
"""
import asyncio
import contextlib

from host_tools import keys
from host_tools.failures import (EXIT_AUTH, EXIT_LINK, EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_STORAGE,
                                 Failure)
from monitor import protocol, protocol_text

SIM_HOST = "127.0.0.1"
SIM_PORT = 47212          # sim.radio.DEFAULT_TCP_PORT (read from there when sim is importable)
SCAN_SECONDS = 4.0


def sim_endpoint(settings):
    spec = settings.sim_transport or ""
    if not spec:
        try:
            from sim import radio
            return SIM_HOST, radio.DEFAULT_TCP_PORT
        except ImportError:
            return SIM_HOST, SIM_PORT
    host, _, port = spec.rpartition(":")
    try:
        return host or SIM_HOST, int(port)
    except ValueError:
        raise Failure("E2MON_SIM_TRANSPORT=%r is not host:port" % spec, "set it like 127.0.0.1:47212",
                      EXIT_REJECTED) from None


def normalize_address(address):
    return address.strip().upper() if address else address


@contextlib.asynccontextmanager
async def client(settings, address):
    """Yields (client, device_id). The device id is the BLE address (the sim's fixed one with --sim).

    Holds the host database's lock meanwhile: one device command at a time per database."""
    from host_tools.db import exclusive
    address = settings.device_given(address)
    with exclusive(settings.db_path_shown(), "talking to %s" % (address or "the device")):
        async with _client(settings, address) as pair:
            yield pair


@contextlib.asynccontextmanager
async def _client(settings, address):
    if settings.port:
        from host_tools.serial_link import SerialClient
        if not address:
            raise Failure("over USB the device's BLE address is needed to file its data",
                          "pass it with --device ADDRESS (see e2mon scan)", EXIT_REJECTED)
        serial_client = SerialClient(settings.port)
        try:
            await serial_client.connect()
        except Exception as exc:  # noqa: BLE001 - pyserial raises SerialException / OSError
            raise Failure("cannot open USB port %s (%s)" % (settings.port, exc),
                          "check the cable and the port name (e2mon --port /dev/ttyUSB0 ...)", EXIT_LINK) from None
        try:
            yield serial_client, normalize_address(address)
        finally:
            await serial_client.disconnect()
        return
    if settings.sim:
        from sim import radio
        host, port = sim_endpoint(settings)
        address = normalize_address(address) or radio.DEVICE_ADDRESS
        central = radio.TcpCentral(host, port, device_address=address)
        try:
            await central.open()
        except (OSError, ConnectionError) as exc:
            raise Failure("the simulator is not running on %s:%d (%s)" % (host, port, exc),
                          "start it with: python -m sim serve", EXIT_NOT_FOUND) from None
        try:
            ble = central.client()
            await _connect(ble, address)
            try:
                yield ble, address
            finally:
                await _disconnect(ble)
        finally:
            await central.close()
        return
    from bleak import BleakClient, BleakScanner
    if not address:
        raise Failure("no device given", "pass its address with --device (see e2mon scan)", EXIT_REJECTED)
    address = normalize_address(address)
    async with _bluetooth_available():
        found = await BleakScanner.find_device_by_address(address, timeout=SCAN_SECONDS * 2)
    if found is None:
        raise Failure("device %s not found" % address,
                      "bring it closer, wake it (press a button) and retry", EXIT_NOT_FOUND)
    ble = BleakClient(found, timeout=15.0)
    await _connect(ble, address)
    try:
        yield ble, address
    finally:
        await _disconnect(ble)


@contextlib.asynccontextmanager
async def _bluetooth_available():
    """No adapter or no BlueZ/D-Bus shows up as OSError or BleakError: say so in one line."""
    from bleak.exc import BleakError
    try:
        yield
    except (OSError, BleakError) as exc:
        raise Failure("Bluetooth is not available on this computer (%s)" % (exc or type(exc).__name__),
                      "turn Bluetooth on (BlueZ on Linux), or use --sim for the simulator", EXIT_LINK) from None


async def _connect(ble, address):
    try:
        await ble.connect()
    except asyncio.TimeoutError:
        raise Failure("device %s did not accept the connection in time" % address,
                      "bring it closer, wake it and retry", EXIT_NOT_FOUND) from None
    except Exception as exc:  # noqa: BLE001 - bleak backends raise BleakError and friends
        raise Failure("cannot connect to %s (%s)" % (address, exc or type(exc).__name__),
                      "bring it closer, wake it and retry", EXIT_NOT_FOUND) from None


async def _disconnect(ble):
    with contextlib.suppress(Exception):
        await ble.disconnect()


def load_role_key(device_id, role):
    try:
        return keys.load_key(device_id, role)
    except keys.KeyMissing as exc:
        raise Failure(str(exc), "provision the device over USB first (e2mon --port PORT provision --device %s)"
                      % device_id, EXIT_AUTH) from None
    except ValueError as exc:
        raise Failure(str(exc), "check the device address", EXIT_REJECTED) from None


@contextlib.asynccontextmanager
async def session(settings, address, role="clinician"):
    """Yields (DeviceLink with an open session, device id)."""
    from host_tools.device_link import DeviceLink

    async with client(settings, address) as (ble, device_id):
        key = load_role_key(device_id, role)
        link = DeviceLink(ble, key, role)
        try:
            await link.open_session()
        except Exception as exc:
            raise key_mismatch(exc, device_id, role) or link_failure(exc, "opening the session") from exc
        try:
            yield link, device_id
        finally:
            with contextlib.suppress(Exception):
                await link.close()


def key_mismatch(exc, device_id, role):
    """A failed key check at session opening, naming the side that failed and what to do; None otherwise."""
    from host_tools import device_link

    where = keys.key_location(device_id, role)
    fix = ("if %s was provisioned again (here or on another computer), provision it over USB here "
           "(e2mon --port PORT provision --device %s) or copy the keys from the computer that did"
           % (device_id, device_id))
    if type(exc).__name__ == "SessionError":
        return Failure("the key check failed on this computer: %s answered, but not with the %s key stored "
                       "here (%s)" % (device_id, role, where),
                       fix + "; if it was not, this may be another device", EXIT_AUTH)
    if isinstance(exc, device_link.DeviceError) and exc.code in (protocol.ERR_BAD_PROOF, protocol.ERR_BAD_TAG):
        return Failure("the key check failed on the device: %s refused the %s key stored here (%s)"
                       % (device_id, role, where), fix, EXIT_AUTH)
    if isinstance(exc, device_link.DeviceError) and exc.code == protocol.ERR_NOT_PROVISIONED:
        return Failure("%s has no key yet (it was never provisioned, or was reset)" % device_id,
                       "provision it over USB: e2mon --port PORT provision --device %s" % device_id, EXIT_AUTH)
    return None


def link_failure(exc, doing):
    """One clear Failure for an exception raised by DeviceLink while `doing`."""
    from host_tools import device_link

    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, device_link.DeviceError):
        code = getattr(exc, "code", None)
        if code in (protocol.ERR_BAD_PROOF, protocol.ERR_NOT_PROVISIONED, protocol.ERR_BAD_TAG):
            return Failure("the device refused our key while %s: %s" % (doing, protocol_text.error_text(code)),
                           "provision it again over USB (e2mon --port PORT provision)", EXIT_AUTH)
        if code == protocol.ERR_ROLE:
            return Failure("the device does not allow this for the role used",
                           "use the clinician key (provisioned on this computer)", EXIT_AUTH)
        if code == protocol.ERR_STORE_FULL:
            return Failure("the device's storage is full", "pull and acknowledge now (e2mon pull)", EXIT_STORAGE)
        if code == protocol.ERR_CLOCK_UNSET:
            return Failure("the device clock is not set", "run e2mon time sync", EXIT_REJECTED)
        return Failure("the device refused while %s: %s" % (doing, exc), "check the request and retry",
                       EXIT_REJECTED)
    if isinstance(exc, device_link.LinkLost):
        return Failure("the link dropped while %s" % doing, "bring the device closer and rerun", EXIT_LINK)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return Failure("the device stopped answering while %s" % doing, "bring it closer and rerun", EXIT_LINK)
    name = type(exc).__name__
    if name == "SessionError":
        return Failure("the device's answer did not match this computer's key while %s" % doing,
                       "provision it again over USB if it was provisioned elsewhere; otherwise this may not be "
                       "your device", EXIT_AUTH)
    if "Bleak" in name or isinstance(exc, (ConnectionError, EOFError)):
        return Failure("the link dropped while %s (%s)" % (doing, exc or name),
                       "bring the device closer and rerun", EXIT_LINK)
    return None


async def scan(settings, seconds=SCAN_SECONDS):
    """Nearby e2mon devices: name, address, signal (RSSI) and firmware version (Device Information)."""
    if settings.sim:
        return await _scan_sim(settings, seconds)
    from bleak import BleakScanner
    async with _bluetooth_available():
        found = await BleakScanner.discover(timeout=seconds, return_adv=True,
                                            service_uuids=[protocol.SERVICE_UUID])
    out = []
    for address, (device, adv) in found.items():
        entry = {"name": adv.local_name or device.name, "address": address.upper(), "rssi": adv.rssi}
        out.append(await _device_info(settings, entry))
    return sorted(out, key=lambda d: -(d["rssi"] or -999))


GAP_DEVICE_NAME = 0x2A00


async def _device_info(settings, entry):
    """Adds the firmware revision (Device Information) and, if the advertisement had none, the GAP
    device name; a device that does not answer is listed without them."""
    entry["firmware"] = None
    try:
        async with _client(settings, entry["address"]) as (ble, _device_id):
            raw = await ble.read_gatt_char(protocol.sig_uuid(protocol.DIS_FIRMWARE_REVISION))
            entry["firmware"] = bytes(raw).decode("utf-8", "replace")
            if not entry["name"]:
                with contextlib.suppress(Exception):
                    raw = await ble.read_gatt_char(protocol.sig_uuid(GAP_DEVICE_NAME))
                    entry["name"] = bytes(raw).decode("utf-8", "replace") or None
    except Exception:  # noqa: BLE001
        pass
    return entry


async def _scan_sim(settings, seconds):
    from bumble.core import UUID as BumbleUUID
    from sim import radio

    host, port = sim_endpoint(settings)
    central = radio.TcpCentral(host, port)
    try:
        await central.open()
    except (OSError, ConnectionError) as exc:
        raise Failure("the simulator is not running on %s:%d (%s)" % (host, port, exc),
                      "start it with: python -m sim serve", EXIT_NOT_FOUND) from None
    seen = {}
    service = BumbleUUID(protocol.SERVICE_UUID)

    def on_advertisement(adv):
        data = adv.data
        uuids = data.get_all(data.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS) or []
        flat = [u for group in uuids for u in (group if isinstance(group, list) else [group])]
        key = str(adv.address).split("/")[0].upper()
        entry = seen.setdefault(key, {"name": None, "address": key, "rssi": adv.rssi, "e2mon": False})
        entry["rssi"] = adv.rssi
        entry["e2mon"] = entry["e2mon"] or service in flat
        name = data.get(data.COMPLETE_LOCAL_NAME)
        if name:
            entry["name"] = name if isinstance(name, str) else bytes(name).decode("utf-8", "replace")

    try:
        central.central.on("advertisement", on_advertisement)
        await central.central.start_scanning(active=True)
        await asyncio.sleep(min(seconds, 1.5))
        await central.central.stop_scanning()
    finally:
        await central.close()
    devices = [d for d in seen.values() if d.pop("e2mon")]
    return [await _device_info(settings, d) for d in devices]
