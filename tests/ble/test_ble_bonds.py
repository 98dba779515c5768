"""Bonding keys of the GATT service (device/ble_bonds.py): what the stack stores comes back after a
reboot, enumerated by index per type, deleted on request; a damaged file tail loses only that entry."""
import os

from sim import env

env.install()

from device.ble_bonds import Bonds  # noqa: E402


def _path():
    return "/tmp/e2mon_bonds_%s" % "".join("%02x" % b for b in os.urandom(4))


def _cleanup(path):
    for name in (path, path + ".tmp"):
        try:
            os.remove(name)
        except OSError:
            pass


def test_keys_survive_a_reboot_and_enumerate_by_type():
    path = _path()
    try:
        bonds = Bonds(path)
        assert bonds.get(1, 0, None) is None
        assert bonds.set(1, b"peer-a", b"ltk-a") is True
        assert bonds.set(1, bytearray(b"peer-b"), b"ltk-b") is True
        assert bonds.set(2, b"peer-a", b"irk-a") is True
        again = Bonds(path)                      # a reboot reads the file
        assert again.get(1, 0, b"peer-b") == b"ltk-b"
        assert again.get(2, 0, b"peer-a") == b"irk-a"
        assert sorted((again.get(1, 0, None), again.get(1, 1, None))) == [b"ltk-a", b"ltk-b"]
        assert again.get(1, 2, None) is None and again.get(3, 0, None) is None
        again.set(1, b"peer-a", None)            # deleted
        assert Bonds(path).get(1, 0, b"peer-a") is None
        assert Bonds(path).get(1, 0, None) == b"ltk-b"
        assert Bonds(path, load=False).get(1, 0, None) is None   # a build that does not bond ignores the file
    finally:
        _cleanup(path)


def test_damaged_tail_loses_only_the_last_entry():
    path = _path()
    try:
        bonds = Bonds(path)
        bonds.set(1, b"k1", b"v1")
        bonds.set(1, b"k2", b"value-two")
        with open(path, "rb") as f:
            blob = f.read()
        with open(path, "wb") as f:
            f.write(blob[:-3])
        kept = Bonds(path)
        got = [kept.get(1, 0, b"k1"), kept.get(1, 0, b"k2")]
        assert got.count(None) == 1 and (b"v1" in got or b"value-two" in got)
    finally:
        _cleanup(path)
