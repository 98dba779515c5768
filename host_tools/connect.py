"""Reaching a device: BLE through bleak, the simulator through bumble's TCP link
(`--sim`: host_tools.sim_link and its bleak backend, the same DeviceLink code path), or USB
serial (`--port`). Every failure on the way becomes one clear `Failure` line.

    async with session(settings, address, role) as (link, device_id):
        await link.count(0)

- `client(settings, address)`: async context manager yielding (BleakClient-like, device id)
- `session(settings, address, role)`: the same plus an authenticated `DeviceLink`
- `scan(settings, seconds) -> [dict(label, device_id, address, rssi, firmware, verified)]`: your devices only
- `locate(settings, device_id) -> address`: where the device advertises now (monitor.beacon)
- `locate_all(settings, device_id) -> [address]`: every address carrying its identifier, first heard first

The identifier is only a hint (anyone can replay an advertisement): `session` tries each address that
carries it until one passes the handshake, and `scan` lists a device as verified only after one did.
Strings the device sends (its firmware revision, update notes) go through host_tools.untrusted.

A device advertises no name and no service UUID, only an identifier that changes every window (and a
new address with it); this host recognises its devices by the beacon key kept at provisioning.
- `sim_endpoint(settings) -> (host, port)` from $E2MON_SIM_TRANSPORT ("host:port"), default 127.0.0.1:47212
"""
import asyncio
import contextlib
import datetime
import json
import os

from host_tools import clinic_keys, keys, untrusted
from host_tools.failures import (EXIT_AUTH, EXIT_DEVICE_FULL, EXIT_LINK, EXIT_NOT_FOUND, EXIT_REJECTED,
                                 Failure)
from monitor import beacon, beacon_host, dates, protocol, protocol_host, protocol_text

SIM_HOST = "127.0.0.1"
SCAN_SECONDS = 4.0
# A device stops advertising while a central holds it and drops one that opens no session within
# protocol.SESSION_WAIT_MS: a search outlasts that hold.
LOCATE_SECONDS = max(SCAN_SECONDS * 2, protocol.SESSION_WAIT_MS / 1000 + 4)


def sim_endpoint(settings):
    spec = settings.sim_transport or ""
    if not spec:
        from host_tools import sim_link
        return SIM_HOST, sim_link.DEFAULT_TCP_PORT
    host, _, port = spec.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise Failure("E2MON_SIM_TRANSPORT=%r is not host:port" % spec, "set it like 127.0.0.1:47212",
                      EXIT_REJECTED) from None
    if not 1 <= number <= 65535:
        raise Failure("E2MON_SIM_TRANSPORT=%r: port %d is outside 1 to 65535" % (spec, number),
                      "set it like 127.0.0.1:47212", EXIT_REJECTED)
    return host or SIM_HOST, number


def normalize_address(address):
    return address.strip().upper() if address else address


@contextlib.asynccontextmanager
async def client(settings, address, at=None):
    """Yields (client, device_id). The device id (`address`) is the name it was provisioned under (the
    sim's fixed address with --sim); the link goes to `at`, else to where locate() finds it now.

    Holds the host database's lock meanwhile: one device command at a time per database."""
    from host_tools.db import exclusive
    address = settings.device_given(address)
    with exclusive(settings.db_path_shown(), "talking to %s" % (address or "the device"),
                   _device_id(settings, address)):
        async with _client(settings, address, at) as pair:
            yield pair


@contextlib.asynccontextmanager
async def _client(settings, address, at=None):
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
        from host_tools import sim_link
        host, port = sim_endpoint(settings)
        address = normalize_address(address) or sim_link.DEVICE_ADDRESS
        central = sim_link.TcpCentral(host, port)
        try:
            await central.open()
        except (OSError, ConnectionError) as exc:
            raise Failure("the simulator is not running on %s:%d (%s)" % (host, port, exc),
                          "start it with: python -m sim serve", EXIT_NOT_FOUND) from None
        try:
            central.device_address = at or await locate(settings, address)
            ble = central.client()
            try:
                await _connect(ble, address)
            except Failure:
                if at:
                    raise
                # the device takes a new address with each identifier and after each link: the one the
                # scan saw may have gone by the time we connect, so look it up once more
                central.device_address = await locate(settings, address)
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
        raise Failure("no device given", "pass its device id with --device (see e2mon scan)", EXIT_REJECTED)
    address = normalize_address(address)
    where = at or await locate(settings, address)
    async with _bluetooth_available():
        found = await BleakScanner.find_device_by_address(where, timeout=SCAN_SECONDS * 2)
    if found is None:
        raise Failure("device %s not found" % address,
                      "bring it closer, wake it (press a button) and retry", EXIT_NOT_FOUND)
    ble = BleakClient(found, timeout=15.0)
    try:
        await _connect(ble, address)
    except Failure:
        if at:
            raise
        # as above: the address may have rotated between the scan and the connection
        async with _bluetooth_available():
            found = await BleakScanner.find_device_by_address(await locate(settings, address),
                                                              timeout=SCAN_SECONDS * 2)
        if found is None:
            raise
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
        return clinic_keys.load_key(device_id, role)
    except keys.KeyMissing as exc:
        raise Failure(str(exc), "provision the device over USB first (e2mon --port PORT provision --device %s)"
                      % device_id, EXIT_AUTH) from None
    except ValueError as exc:
        raise Failure(str(exc), "check the device address", EXIT_REJECTED) from None


@contextlib.asynccontextmanager
async def session(settings, address, role="clinician"):
    """Yields (DeviceLink with an open session, device id). Each address that carries the device's identifier
    is tried in turn, until one proves it holds the device key (the handshake): one replaying the
    advertisement is skipped. When none does, the first failure that names the key, else the last one."""
    from host_tools.db import exclusive
    from host_tools.device_link import DeviceLink

    address = settings.device_given(address)
    with exclusive(settings.db_path_shown(), "talking to %s" % (address or "the device"),
                   _device_id(settings, address)):
        device_id = _device_id(settings, address)
        over_the_air = not settings.port and device_id and _holds_key(device_id, keys.BEACON)
        candidates = await locate_all(settings, device_id) if over_the_air else [None]
        tried, failures, looked_again = set(), [], False
        while candidates:
            at = candidates.pop(0)
            tried.add(at)
            async with contextlib.AsyncExitStack() as stack:
                try:
                    ble, device_id = await stack.enter_async_context(_client(settings, address, at))
                except Failure as exc:
                    failures.append(exc)
                    if over_the_air and not candidates and not looked_again:
                        looked_again = True   # its address may have rotated since the scan: look once more
                        with contextlib.suppress(Failure):
                            candidates = [a for a in await locate_all(settings, device_id) if a not in tried]
                    continue
                link = DeviceLink(ble, load_role_key(device_id, role), role)
                try:
                    await link.open_session()
                except Exception as exc:
                    failure = key_mismatch(exc, device_id, role) or link_failure(exc, "opening the session")
                    if failure is None:
                        raise
                    failures.append(failure)
                    continue
                stack.push_async_callback(_close_quietly, link)
                yield link, device_id
                return
        raise next((f for f in failures if f.exit_code == EXIT_AUTH), failures[-1])


async def _close_quietly(link):
    with contextlib.suppress(Exception):
        await link.close()


def _device_id(settings, address):
    """The device id a command means: the one given, else (--sim) the simulated device's."""
    if settings.sim and not address:
        from host_tools import sim_link
        return sim_link.DEVICE_ADDRESS
    return normalize_address(address)


def key_mismatch(exc, device_id, role):
    """A failed key check at session opening, naming the side that failed and what to do; None otherwise."""
    from host_tools import device_link

    where = keys.key_location(device_id, role)
    fix = _provisioned_again(device_id)
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
            return Failure("the device's storage is full while %s (this computer's disk is not the problem)" % doing,
                           "pull now (e2mon pull): what a pull acknowledges is freed on the device",
                           EXIT_DEVICE_FULL)
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
    """Your devices nearby: label, device id, current address, signal (RSSI) and firmware version (Device
    Information). Advertisements no beacon key of this host recognises are ignored."""
    devices = your_devices(settings)
    matchers = _matchers(devices)
    seen = {}

    def on_advertisement(address, manufacturer_data, rssi):
        device_id = _match(matchers, address, manufacturer_data)
        if device_id is None:
            return
        entry = seen.setdefault(device_id, {"label": devices[device_id][0], "device_id": device_id,
                                            "address": address, "rssi": rssi, "addresses": []})
        if address not in entry["addresses"]:
            entry["addresses"].append(address)

    if matchers:
        await _advertisements(settings, min(seconds, SIM_SCAN_SECONDS) if settings.sim else seconds,
                              on_advertisement)
    out = [await _device_info(settings, entry) for entry in seen.values()]
    return sorted(out, key=lambda d: -(d["rssi"] or -999))


SIM_SCAN_SECONDS = 1.5    # the sim's devices advertise every 250 ms


async def locate(settings, device_id):
    """The address device_id advertises at now, found by its identifier (the first heard)."""
    return (await locate_all(settings, device_id))[0]


CANDIDATE_SECONDS = 1.0   # after the first address with the identifier: listen this long for others


async def locate_all(settings, device_id):
    """Every address that advertises device_id's identifier now, first heard first (a device that replays
    the advertisement carries it too); [device_id] itself when this host holds no beacon key for it (keys
    made before beacons existed: the device is reached at that address)."""
    try:
        key = clinic_keys.load_key(device_id, keys.BEACON)
    except (keys.KeyMissing, ValueError):
        if not any(_holds_key(device_id, role) for role in ("clinician", "patient")):
            load_role_key(device_id, "clinician")   # not provisioned here: that Failure, not "not found"
        return device_id
    matchers = _matchers({device_id: (device_id, key)})
    found = []
    others = []       # an identifier this key does not make was heard (addresses rotate: no count)

    loop = asyncio.get_running_loop()
    first_heard = []

    def on_advertisement(address, manufacturer_data, _rssi):
        if _match(matchers, address, manufacturer_data):
            if address not in found:
                found.append(address)
                first_heard.append(loop.time())
        elif len(others) < OTHERS_KEPT and beacon_host.identifier_in(manufacturer_data) is not None:
            ident = beacon_host.identifier_in(manufacturer_data)
            if ident not in others:
                others.append(ident)

    await _advertisements(settings, LOCATE_SECONDS, on_advertisement,
                          until=lambda: bool(first_heard) and loop.time() - first_heard[0] > CANDIDATE_SECONDS)
    if not found:
        skew = clock_skew(key, others)
        if skew is not None:
            raise clock_off(device_id, skew)
        raise not_found(device_id, bool(others))
    return found


OTHERS_KEPT = 16          # identifiers of other keys' windows kept from one search (to test for a wrong clock)
SKEW_SEARCH_DAYS = 400    # how far from this computer's clock a device's identifier is looked for on failure


def clock_skew(key, identifiers, now=None):
    """Minutes between this computer's clock and the window one of `identifiers` was made for with `key`,
    looked for up to SKEW_SEARCH_DAYS either side (beyond the day Matcher covers); None if none is this key's.
    A device not found while its identifier, made for another time, is heard: one of the two clocks is off."""
    if not identifiers:
        return None
    now = now or datetime.datetime.now()
    here = beacon.clock_window(*_day_minute(now))
    wanted = {bytes(i) for i in identifiers}
    span = SKEW_SEARCH_DAYS * 24 * 60 // beacon.WINDOW_MINUTES
    for distance in range(span + 1):
        for window in ((here - distance, here + distance) if distance else (here,)):
            if beacon.identifier(key, window) in wanted:
                return (window - here) * beacon.WINDOW_MINUTES
    return None


def clock_off(device_id, minutes):
    """Device heard, but its identifier is for a time more than a day from this computer's clock."""
    now = datetime.datetime.now().replace(second=0, microsecond=0)
    device_time = now + datetime.timedelta(minutes=minutes)
    return Failure("device %s not recognised: this computer's clock reads %s, but the device advertises for %s "
                   "(%s apart); the identifier it advertises follows the clock"
                   % (device_id, now.strftime("%Y-%m-%d %H:%M"), device_time.strftime("%Y-%m-%d %H:%M"),
                      _apart(minutes)),
                   "check this computer's date, time and time zone; if they are right, the device's clock is off: "
                   "set it over USB (e2mon --port PORT time sync --device %s)" % device_id, EXIT_NOT_FOUND)


def _apart(minutes):
    days, rest = divmod(abs(minutes), 1440)
    return "%d day%s %d h" % (days, "" if days == 1 else "s", rest // 60) if days else "%d h" % (rest // 60)


def not_found(device_id, others_heard):
    """No advertisement carries device_id's identifier. This computer cannot tell a device busy with another
    central, out of range, or provisioned again with another key (the advertisement names nothing): not
    found (3), not a key mismatch (4); the line says the search failed here, with which key, and the ways
    out, the likeliest first."""
    what = ("device %s not found: the search failed on this computer, no advertisement nearby carries the "
            "identifier made from its beacon key (%s); it may be connected to another phone or computer (it "
            "stops advertising while connected, and drops a central that opens no session within %d s)"
            % (device_id, keys.key_location(device_id, keys.BEACON), protocol.SESSION_WAIT_MS // 1000))
    if others_heard:
        what += "; identifiers it does not make were heard (another device, or this one with another key)"
    return Failure(what, "close the other app and retry; or wake it (press a button), bring it closer and retry; "
                   + _provisioned_again(device_id), EXIT_NOT_FOUND)


def _provisioned_again(device_id):
    return ("if %s was provisioned again (here or on another computer), provision it over USB here "
            "(e2mon --port PORT provision --device %s) or copy the keys from the computer that did"
            % (device_id, device_id))


def _holds_key(device_id, name):
    try:
        clinic_keys.load_key(device_id, name)
    except (keys.KeyMissing, ValueError):
        return False
    return True


def your_devices(settings):
    """{device id: (label, beacon key)} of the devices this host holds a beacon key for; the label is the
    one the devices table keeps (its name, else the device id)."""
    ids = set(keys.known_devices())
    labels = {}
    if settings.db_exists():
        from host_tools.db import DatabaseMissing
        with contextlib.suppress(DatabaseMissing), settings.open_db() as db:
            for device_id in db.devices():
                row = db.device(device_id) or {}
                ids.add(device_id)
                labels[device_id] = row.get("label") or row.get("name")
    out = {}
    for device_id in ids:
        try:
            key = clinic_keys.load_key(device_id, keys.BEACON)
        except (keys.KeyMissing, ValueError):
            continue
        out[device_id] = (labels.get(device_id) or device_id, key)
    return out


def _matchers(devices):
    """A beacon_host.Matcher per device: windows near this computer's clock and, for a device whose clock
    was set far from it (forced back, another time zone), near where it was set (remember_device_clock)."""
    now = datetime.datetime.now()   # the device keeps the wall time a host set (e2mon time sync)
    offsets = _device_clock_offsets()
    out = {}
    for device_id, (_label, key) in devices.items():
        nows = [_day_minute(now)]
        if device_id in offsets:
            nows.append(_day_minute(now + datetime.timedelta(minutes=offsets[device_id])))
        out[device_id] = beacon_host.Matcher(key, *nows)
    return out


def _day_minute(when):
    return dates.days_from_civil(when.year, when.month, when.day), when.hour * 60 + when.minute


def _device_clocks_path():
    return os.path.join(keys.config_dir(), "device_clocks.json")


def _device_clock_offsets():
    try:
        with open(_device_clocks_path()) as f:
            return {str(k): int(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def remember_device_clock(device_id, device_now):
    """After setting a device's clock to device_now: how far it is from this computer's, kept (minutes) when
    more than a window, so the device's identifier is still found (locate, scan)."""
    offsets = _device_clock_offsets()
    minutes = round((device_now - datetime.datetime.now()).total_seconds() / 60)
    if abs(minutes) < beacon.WINDOW_MINUTES:
        if offsets.pop(device_id, None) is None:
            return
    else:
        offsets[device_id] = minutes
    path = _device_clocks_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(offsets, f)
    os.replace(path + ".tmp", path)


def _match(matchers, address, manufacturer_data):
    """The device id an advertisement belongs to: its identifier, or its address for a host that resolves
    the device's resolvable private address to its identity (a bonded host)."""
    ident = beacon_host.identifier_in(manufacturer_data)
    for device_id, matcher in matchers.items():
        if matcher.matches(ident) is not None or address == device_id.upper():
            return device_id
    return None


async def _advertisements(settings, seconds, on_advertisement, until=None):
    """Calls on_advertisement(address, manufacturer_data, rssi) for each advertisement heard during
    `seconds` or until until(): bleak's scanner, on the sim's bumble backend with --sim."""
    from bleak import BleakScanner

    def detected(device, adv):
        on_advertisement(device.address.upper(), adv.manufacturer_data, adv.rssi)

    if not settings.sim:
        async with _bluetooth_available():
            await _listen(BleakScanner(detected), seconds, until)
        return
    from host_tools import sim_link
    from host_tools.bleak_backend import BumbleScannerBackend

    host, port = sim_endpoint(settings)
    central = sim_link.TcpCentral(host, port)
    try:
        await central.open()
    except (OSError, ConnectionError) as exc:
        raise Failure("the simulator is not running on %s:%d (%s)" % (host, port, exc),
                      "start it with: python -m sim serve", EXIT_NOT_FOUND) from None
    try:
        await _listen(BleakScanner(detected, backend=BumbleScannerBackend, central=central.central), seconds, until)
    finally:
        await central.close()


async def _listen(scanner, seconds, until):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with scanner:
        while loop.time() < deadline and not (until is not None and until()):
            await asyncio.sleep(0.05)


async def _device_info(settings, entry):
    """Verifies the entry: a session opened with a role key this host holds, at each address that carried the
    identifier in turn, proves the device; then its firmware revision (Device Information, served in a
    session only). A device nothing proves is listed unverified, at the address first heard."""
    from host_tools.device_link import DeviceLink

    entry["firmware"] = None
    entry["verified"] = False
    addresses = entry.pop("addresses", None) or [entry["address"]]
    role = next((r for r in ("clinician", "patient") if _holds_key(entry["device_id"], r)), None)
    if role is None:
        return entry
    for address in addresses:
        try:
            async with _client(settings, entry["device_id"], address) as (ble, device_id):
                link = DeviceLink(ble, load_role_key(device_id, role), role)
                await link.open_session()
                entry["verified"] = True
                entry["address"] = address
                raw = await ble.read_gatt_char(protocol_host.sig_uuid(protocol.DIS_FIRMWARE_REVISION))
                entry["firmware"] = untrusted.device_text(raw)
                return entry
        except Exception:  # noqa: BLE001 - not this address: try the next
            if entry["verified"]:
                return entry
    return entry
