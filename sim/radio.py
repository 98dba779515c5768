"""Wiring a simulated e2mon device and a host central together over bumble's virtual controllers.

In one process (tests):

    async with radio.InProcessLink() as link:
        ble = link.peripheral_ble()             # what firmware's bluetooth.BLE() returns
        ...firmware registers services and advertises on `ble`...
        async with link.client() as client:     # bleak.BleakClient with the bumble backend
            await client.read_gatt_char(...)
            await link.drop_connection()        # radio loss: both sides see a supervision timeout
            link.drop_after(37)                 # ...or after the next 37 ACL packets, at any point

Between two processes (the demo, `python -m sim serve` and `e2mon --sim`): the device process owns
the "air" (a bumble LocalLink with the device's controller) and lets each host process plug in its
own virtual controller over TCP, speaking HCI H4, the framing of bumble's `tcp-client:` transport.
The host's end, with the addresses and the port, is host_tools.sim_link:

    server = await radio.serve_tcp(port=sim_link.DEFAULT_TCP_PORT)   # device side (this module)
    ble = server.peripheral_ble()

    async with sim_link.TcpCentral("127.0.0.1", port) as central:    # host side
        async with central.client() as client:
            ...

When a host process goes away, its controller drops the link like a radio would, so the device sees
_IRQ_CENTRAL_DISCONNECT and can advertise again for the next host; when the device process dies, the
host's bleak client gets its disconnected callback and BleakError on the next operation.

`link_delay_s` (InProcessLink, StackLink) delays what crosses the link, in order, as a connection event would
(0 by default: the fast tests). Keyword options of `InProcessLink(...)` and `serve_tcp(...)` beyond the names
and addresses go to
`sim.bluetooth.attach` (stack="nimble"|"btstack", notify_pool, btstack_heap_limit, read_request_irq).
`link.central` is the host's bumble Device, e.g. for `BleakScanner(backend=
host_tools.bleak_backend.BumbleScannerBackend, central=...)`. Connecting needs the device to be advertising:
the virtual controller connects on the next advertisement, as a real one does.
"""
import asyncio
import collections
import logging

from bleak import BleakClient
from bumble import hci, ll
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink, StreamPacketSource

from host_tools.bleak_backend import BumbleClientBackend
from host_tools.sim_link import CENTRAL_ADDRESS, DEFAULT_TCP_PORT, DEVICE_ADDRESS
from sim import bluetooth, le_controller

_LINK_LOST = hci.HCI_CONNECTION_TIMEOUT_ERROR  # what both ends report when the radio link dies


class _DroppedWithTheLink(logging.Filter):
    """A radio silently drops what was queued for a link that just died; bumble's controller warns
    about each such packet. Keep its other warnings."""

    def filter(self, record):
        return not record.getMessage().startswith("!!! no connection for ")


logging.getLogger("bumble.controller").addFilter(_DroppedWithTheLink())


_Controller = le_controller.LeController   # every controller on the simulator's air answers as a real one


class _Air(LocalLink):
    """bumble's LocalLink, where a link-layer PDU to a peer that is gone (its host process vanished before
    its link ended) is lost as on the air, and the sender's link ends as a supervision timeout would, instead
    of the stock InvalidArgumentError that left the sender's host waiting on a link that never ends (so the
    device never advertised again). Data comes from the address the sender's link uses (the stock link says
    the sender's random address, wrong for a link on a public address), after `delay_s` (0: none), in order."""

    def __init__(self, delay_s=0.0):
        super().__init__()
        self.delay_s = delay_s
        self._in_transit = collections.deque()

    def send_acl_data(self, sender_controller, destination_address, transport, data):
        connection = sender_controller.le_connections.get(destination_address)
        receiver = self.find_le_controller(destination_address)
        if connection is None or receiver is None or transport != connection.transport:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        self._carry(receiver.on_link_acl_data, connection.self_address, transport, data)

    def _carry(self, deliver, *args):
        """Deliver after the link's delay, in the order sent (one FIFO: equal timers may fire in any order)."""
        loop = asyncio.get_running_loop()
        if not self.delay_s:
            loop.call_soon(deliver, *args)
            return
        self._in_transit.append((deliver, args))
        loop.call_later(self.delay_s, self._arrive)

    def _arrive(self):
        deliver, args = self._in_transit.popleft()
        deliver(*args)

    def send_ll_control_pdu(self, sender_address, receiver_address, packet):
        if self.delay_s:   # behind the data sent before it
            self._carry(self._send_ll_control_pdu, sender_address, receiver_address, packet)
        else:
            self._send_ll_control_pdu(sender_address, receiver_address, packet)

    def _send_ll_control_pdu(self, sender_address, receiver_address, packet):
        if self.find_le_controller(receiver_address) is not None:
            super().send_ll_control_pdu(sender_address, receiver_address, packet)
            return
        if isinstance(packet, ll.TerminateInd):
            return   # the sender ends its side itself
        for controller in list(self.controllers):
            connection = controller.le_connections.get(receiver_address)
            if connection is not None and connection.self_address == sender_address:
                asyncio.get_running_loop().call_soon(_lose, controller, connection)


def _lose(controller, connection):
    if controller.le_connections.get(connection.peer_address) is connection:
        controller.on_le_disconnected(connection, _LINK_LOST)


class _CuttableLink(_Air):
    """bumble's LocalLink that can die after a given number of ACL packets, in either direction,
    for cuts at arbitrary points of an exchange (between a request and its response, mid-burst)."""

    def __init__(self, delay_s=0.0):
        super().__init__(delay_s)
        self.packets = 0  # ACL packets carried so far
        self.cut_at_packet = None  # `packets` when the last armed cut happened
        self._cut_at = None
        self._cut_controller = None

    def cut_after(self, packets, controller):
        self._cut_at = self.packets + packets
        self._cut_controller = controller

    def send_acl_data(self, sender_controller, destination_address, transport, data):
        if self._cut_at is not None and self.packets >= self._cut_at:
            self._cut_at = None
            self.cut_at_packet = self.packets
            _drop_le_connections(self._cut_controller)
            return  # this packet dies with the link
        self.packets += 1
        super().send_acl_data(sender_controller, destination_address, transport, data)


def _make_device(link, name, address):
    controller = _Controller(name, link=link)
    device = Device(name=name, address=hci.Address(address),
                    host=Host(controller, AsyncPipeSink(controller)))
    # Its links use its static random address, so that is the identity it gives when pairing (bumble would
    # give the controller's public address, under which no link of it is ever seen).
    device.config.identity_address_type = hci.Address.RANDOM_DEVICE_ADDRESS
    return controller, device


def _drop_le_connections(controller, reason=_LINK_LOST):
    """Tear down every LE link of `controller` at the link layer, as a lost radio link does."""
    dropped = 0
    for connection in list(controller.le_connections.values()):
        connection.send_ll_control_pdu(ll.TerminateInd(reason))
        controller.on_le_disconnected(connection, reason)
        dropped += 1
    return dropped


async def _wait_idle(device, timeout):
    """Wait until `device` has no connection left."""
    async def idle():
        while device.connections:
            await asyncio.sleep(0.001)

    await asyncio.wait_for(idle(), timeout)


async def _settle_and_detach(ble, timeout=5.0):
    """Let queued radio operations finish (a command cut off mid-flight upsets bumble's host),
    then unbind the BLE singleton."""
    if ble is not None:
        try:
            await asyncio.wait_for(ble.sim_settle(), timeout)
        except asyncio.TimeoutError:
            pass
    bluetooth.detach()


class InProcessLink:
    """A device (peripheral) and a host (central) on one bumble LocalLink in this event loop."""

    def __init__(self, device_name="", device_address=DEVICE_ADDRESS,
                 central_address=CENTRAL_ADDRESS, link_delay_s=0.0, **ble_options):
        self.link = _CuttableLink(link_delay_s)
        self.device_address = device_address
        self.device_controller, self.device = _make_device(self.link, device_name, device_address)
        self.central_controller, self.central = _make_device(self.link, "e2mon-host", central_address)
        self._ble_options = ble_options
        self._ble = None

    async def __aenter__(self):
        await self.device.power_on()
        await self.central.power_on()
        return self

    async def __aexit__(self, *exc_info):
        await self.close()

    async def close(self):
        _drop_le_connections(self.central_controller)
        await _settle_and_detach(self._ble)
        self._ble = None
        for device in (self.device, self.central):
            try:
                await device.host.flush()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass

    def peripheral_ble(self):
        """Attach the device to sim.bluetooth and return the BLE singleton the firmware will use."""
        if self._ble is None:
            self._ble = bluetooth.attach(self.device, **self._ble_options)
        return self._ble

    def client(self, **kwargs):
        """A bleak.BleakClient for the device at its current address, on this link's central."""
        kwargs.setdefault("timeout", 10.0)
        return BleakClient(self.current_device_address(), backend=BumbleClientBackend, central=self.central,
                           address_of=self.advertising_address, **kwargs)

    def device_radio(self):
        return self.device_controller

    def advertising_address(self):
        """The device's current address while it advertises, else None."""
        return self.current_device_address() if self.device_radio().is_advertising else None

    def current_device_address(self):
        """Where the device advertises now: the firmware sets a new random address with each identifier
        (monitor.beacon), so a test harness asks the radio; `e2mon` finds it by its identifier. A real stack
        left in its default address mode advertises on the controller's public address."""
        radio = self.device_radio()
        address = radio.advertising_address() or radio.random_address
        if address.address_type == hci.Address.PUBLIC_DEVICE_ADDRESS:
            return str(address)   # with its "/P": a stack without addr_mode set advertises on its public address
        if address == hci.Address.ANY_RANDOM:
            return self.device_address
        return address.to_string(False)

    def drop_after(self, packets):
        """Arm a link loss: the radio link dies once `packets` more ACL packets (L2CAP PDUs, either
        direction) have crossed it; the next one is lost. `link.link.packets` counts them."""
        self.link.cut_after(packets, self.central_controller)

    async def drop_connection(self, timeout=5.0):
        """Simulate losing the radio link mid-whatever; returns how many links were dropped."""
        dropped = _drop_le_connections(self.central_controller)
        await _wait_idle(self.central, timeout)
        await _wait_idle(self.device, timeout)
        return dropped


class _HostPort(asyncio.Protocol):
    """One host process's HCI over TCP: a fresh virtual controller for the life of the socket."""

    def __init__(self, server):
        self.server = server
        self.source = StreamPacketSource()
        self.controller = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.server.ports.add(self)
        self.controller = _Controller("host-%d" % self.server.hosts_seen, link=self.server.link,
                                     host_source=self.source, host_sink=self)
        self.server.hosts_seen += 1

    def on_packet(self, packet):  # HCI from the controller to the remote host
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(packet)

    def data_received(self, data):
        self.source.data_received(data)

    def connection_lost(self, exc):
        """The host process went (closed or reset): its links end as a radio's would, and its controller
        leaves the air whatever happens on the way."""
        self.transport = None
        self.server.ports.discard(self)
        controller, self.controller = self.controller, None
        if controller is None:
            return
        try:
            _drop_le_connections(controller)
        except Exception:  # noqa: BLE001 - a half-gone peer must not keep this controller on the air
            logging.getLogger(__name__).exception("ending the links of a host that left")
        if controller in self.server.link.controllers:
            self.server.link.remove_controller(controller)


class TcpDeviceServer:
    """The device side of the two-process simulator; build with `await serve_tcp(...)`."""

    def __init__(self, device_name, device_address, ble_options, shadow_device=True):
        self.link = _Air()
        self.device_address = device_address
        self.device_controller = self.device = None   # without the shadow device: a controller joins later
        if shadow_device:
            self.device_controller, self.device = _make_device(self.link, device_name, device_address)
        self.hosts_seen = 0
        self.ports = set()  # connected host processes
        self.port = None
        self._server = None
        self._ble_options = ble_options
        self._ble = None

    async def start(self, host, port):
        if self.device is not None:
            await self.device.power_on()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _HostPort(self), host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def peripheral_ble(self):
        if self._ble is None:
            self._ble = bluetooth.attach(self.device, **self._ble_options)
        return self._ble

    async def close(self):
        server, self._server = self._server, None
        if server is not None:
            server.close()  # no new hosts
        if self.device_controller is not None:
            _drop_le_connections(self.device_controller)
        await _settle_and_detach(self._ble)
        self._ble = None
        for port in list(self.ports):
            if port.transport is not None:
                port.transport.close()
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.close()


async def serve_tcp(port=DEFAULT_TCP_PORT, host="127.0.0.1", device_name="",
                    device_address=DEVICE_ADDRESS, shadow_device=True, **ble_options):
    """Start the device side; port 0 picks a free port (read it back from `.port`). shadow_device=False:
    the link without the shadow's device, for a real stack's controller (sim.stack_device)."""
    return await TcpDeviceServer(device_name, device_address, ble_options, shadow_device).start(host, port)

