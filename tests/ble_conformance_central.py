# The central half of the conformance suite's central-role check (tests/ble/test_ble_central_role.py): a
# program written only against MicroPython's documented `bluetooth` API, in the blocking style of the
# MicroPython examples (IRQs set state, the program waits in time.sleep_ms), run unchanged on the real module
# (`micropython tests/ble_conformance_central.py`) and on the shadow (sim.board_thread). It finds the
# conformance peripheral by its advertised name (gap_scan, active), connects (gap_connect), discovers its
# service, characteristics and TX's descriptors, writes a command and reads the answer, subscribes to TX by
# writing its CCCD, gets a notification, reads, and disconnects. Each step prints "RESULT name value".
import bluetooth
import time

import ble_conformance_peripheral as peripheral

_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6
_IRQ_PERIPHERAL_CONNECT = 7
_IRQ_PERIPHERAL_DISCONNECT = 8
_IRQ_GATTC_SERVICE_RESULT = 9
_IRQ_GATTC_SERVICE_DONE = 10
_IRQ_GATTC_CHARACTERISTIC_RESULT = 11
_IRQ_GATTC_CHARACTERISTIC_DONE = 12
_IRQ_GATTC_DESCRIPTOR_RESULT = 13
_IRQ_GATTC_DESCRIPTOR_DONE = 14
_IRQ_GATTC_READ_RESULT = 15
_IRQ_GATTC_READ_DONE = 16
_IRQ_GATTC_WRITE_DONE = 17
_IRQ_GATTC_NOTIFY = 18
_CCCD = bluetooth.UUID(0x2902)
_NAME = b"e2conf"

RESULTS = []
_state = {"events": []}


def _result(name, value):
    RESULTS.append((name, value))
    print("RESULT", name, value)


def _irq(event, data):
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv_data = data
        key = (addr_type, bytes(addr))
        if _NAME in bytes(adv_data):
            _state["target"] = key
        if key == _state.get("target"):
            _state.setdefault("adv_types", set()).add(adv_type)
            if adv_type == 4:
                _state["scan_response"] = bytes(adv_data)
    elif event in (_IRQ_GATTC_SERVICE_RESULT, _IRQ_GATTC_CHARACTERISTIC_RESULT, _IRQ_GATTC_DESCRIPTOR_RESULT):
        # The data tuple and its UUID are the module's own, reused by the next IRQ: copy both.
        _state["events"].append((event, tuple([bluetooth.UUID(x) if isinstance(x, bluetooth.UUID) else x
                                               for x in data])))
    elif event in (_IRQ_GATTC_READ_RESULT, _IRQ_GATTC_NOTIFY):
        _state["events"].append((event, (data[0], data[1], bytes(data[2]))))
    else:
        _state["events"].append((event, tuple([bytes(x) if isinstance(x, memoryview) else x for x in data])))


def _wait_for(event, timeout_ms=5000):
    """Wait (time.sleep_ms, as a board program does) for the next `event`; its data."""
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        for i, (kind, data) in enumerate(_state["events"]):
            if kind == event:
                del _state["events"][i]
                return data
        time.sleep_ms(10)
    raise OSError("no event %d in %d ms" % (event, timeout_ms))


def _collect(result_event, done_event):
    """The results of a discovery, once its done event came."""
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while not [1 for kind, _ in _state["events"] if kind == done_event]:
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            raise OSError("no event %d" % done_event)
        time.sleep_ms(10)
    found = [data for kind, data in _state["events"] if kind == result_event]
    _state["events"] = [item for item in _state["events"] if item[0] not in (result_event, done_event)]
    return found


def main():
    ble = bluetooth.BLE()
    ble.active(True)
    ble.irq(_irq)
    ble.gap_scan(2000, 30000, 30000, True)
    _wait_for(_IRQ_SCAN_DONE, 5000)
    target = _state.get("target")
    _result("found", target is not None)
    _result("adv_types", sorted(_state.get("adv_types", ())))
    _result("scan_response", _state.get("scan_response"))
    ble.gap_connect(target[0], target[1])
    conn, addr_type, addr = _wait_for(_IRQ_PERIPHERAL_CONNECT)
    _result("connected", (addr_type, addr) == target)
    ble.gattc_discover_services(conn)
    services = _collect(_IRQ_GATTC_SERVICE_RESULT, _IRQ_GATTC_SERVICE_DONE)
    mine = [s for s in services if s[3] == bluetooth.UUID(peripheral.SERVICE_UUID)]
    _result("services", len(services))
    start, end = mine[0][1], mine[0][2]
    ble.gattc_discover_characteristics(conn, start, end)
    chars = _collect(_IRQ_GATTC_CHARACTERISTIC_RESULT, _IRQ_GATTC_CHARACTERISTIC_DONE)
    by_uuid = {}
    for _conn, char_end, value_handle, properties, uuid in chars:
        by_uuid[uuid] = (value_handle, char_end, properties)
    order = [peripheral.CMD_UUID, peripheral.LOG_UUID, peripheral.TX_UUID, peripheral.IND_UUID, peripheral.RX_UUID]
    handles = [by_uuid[bluetooth.UUID(u)][0] for u in order]
    _result("properties", [by_uuid[bluetooth.UUID(u)][2] for u in order])
    tx, tx_end, _ = by_uuid[bluetooth.UUID(peripheral.TX_UUID)]
    ble.gattc_discover_descriptors(conn, tx, tx_end)   # from the value handle: both stacks start after it
    descriptors = _collect(_IRQ_GATTC_DESCRIPTOR_RESULT, _IRQ_GATTC_DESCRIPTOR_DONE)
    cccd = [d[1] for d in descriptors if d[2] == _CCCD]
    _result("tx_cccd", cccd == [tx + 1])
    ble.gattc_write(conn, handles[0], b"handles", 1)
    _wait_for(_IRQ_GATTC_WRITE_DONE)
    ble.gattc_read(conn, handles[1])
    answer = _wait_for(_IRQ_GATTC_READ_RESULT)[2]
    _wait_for(_IRQ_GATTC_READ_DONE)
    _result("handles", answer.decode() == ",".join([str(h) for h in handles]))
    ble.gattc_write(conn, cccd[0], b"\x01\x00", 1)
    _wait_for(_IRQ_GATTC_WRITE_DONE)
    ble.gattc_write(conn, handles[0], b"str", 1)
    _wait_for(_IRQ_GATTC_WRITE_DONE)
    notified = _wait_for(_IRQ_GATTC_NOTIFY)
    _result("notified", notified[1:] == (tx, b"notified as str"))
    ble.gattc_read(conn, tx)
    _result("read", _wait_for(_IRQ_GATTC_READ_RESULT)[1:] == (tx, b"written as str"))
    ble.gap_disconnect(conn)
    _result("disconnected", _wait_for(_IRQ_PERIPHERAL_DISCONNECT)[0] == conn)
    _result("done", True)


if __name__ == "__main__":
    main()
