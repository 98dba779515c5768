"""Every way a device conversation can fail maps to one clear line and a distinct exit code."""
import pytest

from host_tools import connect
from host_tools.device_link import DeviceError, LinkLost
from host_tools.failures import EXIT_AUTH, EXIT_DEVICE_FULL, EXIT_LINK, EXIT_REJECTED
from host_tools.settings import Settings
from monitor import protocol, protocol_text


@pytest.mark.parametrize("code, exit_code, words", [
    (protocol.ERR_BAD_PROOF, EXIT_AUTH, "provision it again"),
    (protocol.ERR_NOT_PROVISIONED, EXIT_AUTH, "provision it again"),
    (protocol.ERR_ROLE, EXIT_AUTH, "clinician key"),
    (protocol.ERR_STORE_FULL, EXIT_DEVICE_FULL, "pull now"),
    (protocol.ERR_CLOCK_UNSET, EXIT_REJECTED, "time sync"),
    (protocol.ERR_BUSY, EXIT_REJECTED, protocol_text.error_text(protocol.ERR_BUSY)),
])
def test_device_refusals(code, exit_code, words):
    failure = connect.link_failure(DeviceError(code), "pulling")
    assert failure.exit_code == exit_code
    assert words.lower() in failure.message.lower() and "\n" not in failure.message


def test_link_problems():
    assert connect.link_failure(LinkLost("gone"), "pulling").exit_code == EXIT_LINK
    assert connect.link_failure(TimeoutError(), "pulling").exit_code == EXIT_LINK
    assert "rerun" in connect.link_failure(ConnectionResetError(), "pulling").message
    assert connect.link_failure(ValueError("a bug"), "pulling") is None   # not hidden as a link problem


def test_sim_endpoint_parsing():
    assert connect.sim_endpoint(Settings(sim_transport="127.0.0.1:5000")) == ("127.0.0.1", 5000)
    with pytest.raises(Exception, match="host:port"):
        connect.sim_endpoint(Settings(sim_transport="nowhere"))


def test_no_bluetooth_stack_is_one_line():
    import asyncio

    from host_tools.failures import Failure

    async def scan_without_dbus():
        async with connect._bluetooth_available():
            raise FileNotFoundError(2, "No such file or directory")   # what bleak gives without BlueZ

    with pytest.raises(Failure) as caught:
        asyncio.run(scan_without_dbus())
    assert caught.value.exit_code == EXIT_LINK and "--sim" in caught.value.message


def test_not_found_names_a_busy_device_first_and_the_search_outlasts_its_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("E2MON_CONFIG", str(tmp_path))
    failure = connect.not_found("C0:E2:00:00:00:01", others_heard=False)
    busy = failure.message.find("connected to another")
    assert 0 < busy < failure.message.find("provision") and "\n" not in failure.message
    assert "%d s" % (protocol.SESSION_WAIT_MS // 1000) in failure.message
    assert connect.LOCATE_SECONDS >= protocol.SESSION_WAIT_MS / 1000 + 4
