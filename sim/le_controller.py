"""bumble's virtual controller answering as a real LE controller does, where the stock one differs in ways a
host stack notices (bumble's installed files stay as they are: this subclasses them).

- Scanning: a host that scanned with the legacy commands (LE Set Scan Parameters/Enable) gets legacy LE
  Advertising Reports (LE meta 0x02), one per PDU, typed as advertised (ADV_IND, ADV_SCAN_IND,
  ADV_NONCONN_IND); the stock controller sends extended reports (0x0D) only, which MicroPython's BTstack and
  NimBLE drop when they scanned the legacy way. A host scanning with the extended commands gets extended
  reports with the legacy-PDU event types. A scan response is reported only to an active scan of a
  scannable advertiser, with the scan response data (the stock one repeats the advertising data).
- Advertising: non-connectable and scannable advertising go on the air (the stock one sends ADV_IND only),
  at the interval asked plus advDelay (the stock one reads the 0.625 ms units as ms: 1.6x slower); an
  extended advertising set with legacy PDUs (bumble's own Device advertises so) goes out as legacy PDUs.
- ACL data to the host is fragmented to the controller's LE ACL buffer size (or the host's, when it gave
  one with Host Buffer Size): NimBLE drops a packet longer than its 255-byte buffers.
- A public address (BD_ADDR), unique per controller and not zero.
- LE Create Connection Cancel reports the cancelled attempt (the stock one never does: a timed-out connect
  would hang).
"""
import asyncio
import dataclasses
import hashlib
import random

from bumble import hci, ll
from bumble.controller import AdvertisingSet, Controller, LegacyAdvertiser

_ADV = hci.HCI_LE_Set_Advertising_Parameters_Command.AdvertisingType
_REPORT = hci.HCI_LE_Advertising_Report_Event.EventType
_EXT = hci.HCI_LE_Extended_Advertising_Report_Event.EventType
_CONNECTABLE = (_ADV.ADV_IND, _ADV.ADV_DIRECT_IND, _ADV.ADV_DIRECT_IND_LOW_DUTY)
_SCANNABLE = (_ADV.ADV_IND, _ADV.ADV_SCAN_IND)
_LEGACY_REPORT_TYPE = {_ADV.ADV_IND: _REPORT.ADV_IND, _ADV.ADV_SCAN_IND: _REPORT.ADV_SCAN_IND,
                       _ADV.ADV_NONCONN_IND: _REPORT.ADV_NONCONN_IND,
                       _ADV.ADV_DIRECT_IND: _REPORT.ADV_DIRECT_IND,
                       _ADV.ADV_DIRECT_IND_LOW_DUTY: _REPORT.ADV_DIRECT_IND}
_SLOT_S = 0.000625           # advertising interval unit
_ADV_DELAY_MAX_S = 0.010     # advDelay: each advertising event comes 0-10 ms late (Core Vol 6 Part B 4.4.2.2)
_RSSI = -50
LE_ACL_BUFFER = 251          # a controller with the LE Data Length Extension
_ACTIVE_SCAN = 1


@dataclasses.dataclass
class LegacyAdvertisingPdu(ll.AdvInd):
    """One legacy advertising event on the air: the PDU type the advertiser chose and what a scanner's
    SCAN_REQ would get back (the link carries one object per event; SCAN_REQ/SCAN_RSP are folded in)."""
    advertising_type: int = _ADV.ADV_IND
    scan_response_data: bytes = b""

    @property
    def connectable(self):
        return self.advertising_type in _CONNECTABLE

    @property
    def scannable(self):
        return self.advertising_type in _SCANNABLE


class _Advertiser(LegacyAdvertiser):
    """Sends every legacy advertising type, at the interval asked plus advDelay."""

    def _on_timer_fired(self):
        self.send_advertising_data()
        interval = max(self.advertising_interval_min, 0x20) * _SLOT_S
        self.timer_handle = asyncio.get_running_loop().call_later(
            interval + random.uniform(0, _ADV_DELAY_MAX_S), self._on_timer_fired)

    def send_advertising_data(self):
        if not self.enabled:
            return
        self.controller.send_advertising_pdu(LegacyAdvertisingPdu(
            advertiser_address=self.address, data=bytes(self.advertising_data),
            advertising_type=self.advertising_type, scan_response_data=bytes(self.scan_response_data)))


_LEGACY_PDU_USED = 1 << 4          # advertising event properties (LE Set Extended Advertising Parameters)
_PROPERTY_CONNECTABLE, _PROPERTY_SCANNABLE, _PROPERTY_DIRECTED = 1, 2, 4


def _legacy_type(properties):
    if properties & _PROPERTY_DIRECTED:
        return _ADV.ADV_DIRECT_IND
    if properties & _PROPERTY_CONNECTABLE:
        return _ADV.ADV_IND
    return _ADV.ADV_SCAN_IND if properties & _PROPERTY_SCANNABLE else _ADV.ADV_NONCONN_IND


class _AdvertisingSet(AdvertisingSet):
    """An extended advertising set whose properties ask for legacy PDUs (what bumble's own Device does for
    legacy advertising types) sends legacy advertising, typed as asked; other sets stay extended."""

    def send_extended_advertising_data(self):
        properties = int(self.parameters.advertising_event_properties) if self.parameters else 0
        if not properties & _LEGACY_PDU_USED or not self.controller.link:
            super().send_extended_advertising_data()
            return
        self.controller.send_advertising_pdu(LegacyAdvertisingPdu(
            advertiser_address=self.address, data=bytes(self.data), advertising_type=_legacy_type(properties),
            scan_response_data=bytes(self.scan_response_data)))


def public_address_for(name):
    """A public address derived from the controller's name: stable across runs, never zero."""
    digest = hashlib.sha256(name.encode()).digest()
    return hci.Address(bytes(digest[:5]) + b"\xe2", hci.Address.PUBLIC_DEVICE_ADDRESS)


class LeController(Controller):
    """bumble's Controller with the answers above (see the module's docstring)."""

    le_acl_data_packet_length = LE_ACL_BUFFER

    def __init__(self, name, *args, public_address=None, **kwargs):
        super().__init__(name, *args, public_address=public_address or public_address_for(name), **kwargs)
        self.le_legacy_advertiser = _Advertiser(self)
        self.legacy_scan = True           # the host's last scan command set: legacy or extended
        self.host_acl_length = None       # the host's ACL buffer, when it said (Host Buffer Size)

    def advertising_address(self):
        """The address this controller advertises on now (legacy advertising or an enabled set), or None."""
        if self.le_legacy_advertiser.enabled:
            return self.le_legacy_advertiser.address
        for advertising_set in self.advertising_sets.values():
            if advertising_set.enabled:
                return advertising_set.address
        return None

    def on_hci_le_set_extended_advertising_parameters_command(self, command):
        result = super().on_hci_le_set_extended_advertising_parameters_command(command)
        advertising_set = self.advertising_sets[command.advertising_handle]
        if type(advertising_set) is AdvertisingSet:
            advertising_set.__class__ = _AdvertisingSet   # the stock handler made it; only its sending differs
        return result

    # ---- scanning ---------------------------------------------------------------------------------
    def on_hci_le_set_scan_enable_command(self, command):
        self.legacy_scan = True
        return super().on_hci_le_set_scan_enable_command(command)

    def on_hci_le_set_extended_scan_enable_command(self, command):
        self.legacy_scan = False
        return super().on_hci_le_set_extended_scan_enable_command(command)

    def on_hci_le_set_extended_scan_parameters_command(self, command):
        # The stock one keeps no scan type: the first PHY's says active or passive.
        if command.scan_types:
            self.le_scan_type = command.scan_types[0]
        return super().on_hci_le_set_extended_scan_parameters_command(command)

    def on_advertising_pdu(self, pdu):
        scanning = self.le_scan_enable
        if scanning:
            self._report(pdu)
        if isinstance(pdu, LegacyAdvertisingPdu) and not pdu.connectable:
            return                            # nothing to connect to
        self.le_scan_enable = False           # the stock reports off; its connection and sync logic stay
        try:
            super().on_advertising_pdu(pdu)
        finally:
            self.le_scan_enable = scanning

    def _report(self, pdu):
        if isinstance(pdu, LegacyAdvertisingPdu):
            kind, response = pdu.advertising_type, pdu.scan_response_data
            with_response = pdu.scannable and self.le_scan_type == _ACTIVE_SCAN
        else:   # an extended advertising set (bumble's own hosts): connectable, as the stock one says
            kind, response, with_response = None, b"", False
        if self.legacy_scan:
            if kind is None:
                return                        # a legacy scanner does not hear extended advertising
            self._send_legacy_report(_LEGACY_REPORT_TYPE[kind], pdu.advertiser_address, pdu.data)
            if with_response:
                self._send_legacy_report(_REPORT.SCAN_RSP, pdu.advertiser_address, response)
            return
        if kind is None:
            self._send_extended_report(_EXT.CONNECTABLE_ADVERTISING, pdu.advertiser_address, pdu.data)
            return
        flags = _EXT.LEGACY_ADVERTISING_PDU_USED
        if kind in _CONNECTABLE:
            flags |= _EXT.CONNECTABLE_ADVERTISING
        if kind in _SCANNABLE:
            flags |= _EXT.SCANNABLE_ADVERTISING
        self._send_extended_report(flags, pdu.advertiser_address, pdu.data)
        if with_response:
            self._send_extended_report(flags | _EXT.SCAN_RESPONSE, pdu.advertiser_address, response)

    def _send_legacy_report(self, event_type, address, data):
        report = hci.HCI_LE_Advertising_Report_Event.Report(
            event_type=event_type, address_type=address.address_type, address=address, data=data, rssi=_RSSI)
        self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([report]))

    def _send_extended_report(self, event_type, address, data):
        report = hci.HCI_LE_Extended_Advertising_Report_Event.Report(
            event_type=event_type, address_type=address.address_type, address=address,
            primary_phy=hci.Phy.LE_1M, secondary_phy=0, advertising_sid=0xFF, tx_power=0x7F, rssi=_RSSI,
            periodic_advertising_interval=0, direct_address_type=0, direct_address=hci.Address.ANY, data=data)
        self.send_hci_packet(hci.HCI_LE_Extended_Advertising_Report_Event([report]))

    # ---- data to the host -------------------------------------------------------------------------
    def on_hci_host_buffer_size_command(self, command):
        self.host_acl_length = command.host_acl_data_packet_length or None
        return super().on_hci_host_buffer_size_command(command)

    def on_link_acl_data(self, sender_address, transport, data):
        connection = self.le_connections.get(sender_address)
        if connection is None or transport != connection.transport:
            super().on_link_acl_data(sender_address, transport, data)
            return
        size = min(self.le_acl_data_packet_length, self.host_acl_length or LE_ACL_BUFFER)
        for offset in range(0, max(len(data), 1), size):
            chunk = data[offset:offset + size]
            pb_flag = 2 if offset == 0 else 1          # first automatically flushable, then continuing
            self.send_hci_packet(hci.HCI_AclDataPacket(connection.handle, pb_flag, 0, len(chunk), chunk))

    # ---- connecting -------------------------------------------------------------------------------
    def on_hci_le_create_connection_cancel_command(self, command):
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        peer = pending.peer_address
        event = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, connection_handle=0,
            role=hci.Role.CENTRAL, peer_address_type=peer.address_type, peer_address=peer,
            connection_interval=0, peripheral_latency=0, supervision_timeout=0, central_clock_accuracy=0)
        asyncio.get_running_loop().call_soon(self.send_hci_packet, event)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)
