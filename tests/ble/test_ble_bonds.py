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


def test_the_store_keeps_at_most_max_bonds_per_type():
    """Strangers that pair one after another (Just Works asks nothing) cannot grow the file without bound:
    each type keeps the MAX_BONDS newest keys, in the file and after a reboot."""
    from device.ble_bonds import MAX_BONDS

    path = _path()
    try:
        bonds = Bonds(path)
        peers = [b"peer-%02d" % i for i in range(3 * MAX_BONDS)]
        for peer in peers:
            bonds.set(1, peer, b"ltk-" + peer)
            bonds.set(2, peer, b"irk-" + peer)
        bonds.set(3, b"cccd", b"x")
        size = os.path.getsize(path)
        for store in (bonds, Bonds(path)):
            for sec_type, prefix in ((1, b"ltk-"), (2, b"irk-")):
                kept = [store.get(sec_type, i, None) for i in range(3 * MAX_BONDS)]
                assert kept == [prefix + p for p in peers[-MAX_BONDS:]] + [None] * (2 * MAX_BONDS)
            assert store.get(1, 0, peers[0]) is None and store.get(3, 0, b"cccd") == b"x"
        assert size <= 2 * MAX_BONDS * (2 + 7 + 1 + 11) + 16
        with open(path, "ab") as f:        # a file written by firmware without the cap: the newest are kept
            for peer in peers:
                f.write(bytes((1, len(peer))) + peer + bytes((len(peer),)) + peer)
        assert [Bonds(path).get(1, i, None) for i in range(MAX_BONDS + 1)] == peers[-MAX_BONDS:] + [None]
    finally:
        _cleanup(path)
