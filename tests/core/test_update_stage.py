# The device's staging of an update bundle (monitor/update.py) and the A/B boot state (update_boot.py) on this
# interpreter's own file system: a good bundle in chunks stages, boots on trial and confirms; a tampered chunk,
# another publisher's key, another board and a chunk out of order are refused and leave nothing staged.
def _read_bundle():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    with open(here + "/update_bundle.bin", "rb") as f:
        return f.read()


DATA = _read_bundle()  # read first, while the 64K heap is still in one piece
REQUEST = bytearray(5 + 200)   # every chunk request is packed here: no allocation per chunk (CHUNK bytes)
try:
    from device import memory
    memory.tune()      # the device's own heap policy (collect early: the free heap stays in large blocks)
except ImportError:
    pass
import hashlib  # noqa: E402,I001
import os  # noqa: E402
import struct  # noqa: E402

import update_boot  # noqa: E402
from monitor import bundle, protocol  # noqa: E402
from monitor import update  # noqa: E402
from monitor.update import Updater  # noqa: E402
from update_vectors import HEADER_SIZE, OTHER_KEY, PUBLIC_KEY  # noqa: E402

WORK = "build/test_update_stage"
CHUNK = 200


class App:
    def __init__(self, board="test-board"):
        self.data_dir = WORK
        self.board_name = board
        self.update_staged = False
        self.events = []

    def boot_selector(self):
        return update_boot

    def log_event(self, code, value, flags=0):
        self.events.append((code, value, flags))


def _rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        try:
            os.remove(path)
        except OSError:
            pass
        return
    for name in names:
        _rmtree(path + "/" + name)
    os.rmdir(path)


def _fresh():
    import gc
    gc.collect()
    _rmtree(WORK)
    for path in ("build", WORK):
        try:
            os.mkdir(path)
        except OSError:
            pass
    update_boot.select(WORK + "/ota", path=[])


# The requests and the reply's stored offset, packed here: the host's codecs (monitor.protocol_host) do not fit
# the 64K heap beside the device's modules.
def _begin(data):
    ident = hashlib.sha256(memoryview(data)[:HEADER_SIZE]).digest()
    return struct.pack(bundle.UPDATE_BEGIN_FORMAT, protocol.UPDATE_BEGIN, len(data), HEADER_SIZE, ident, 0)


def _chunk(offset, piece):
    struct.pack_into("<BI", REQUEST, 0, protocol.UPDATE_CHUNK, offset)
    REQUEST[5:5 + len(piece)] = piece
    return memoryview(REQUEST)[:5 + len(piece)]


def _stored(reply):
    return struct.unpack_from(bundle.UPDATE_REPLY_FORMAT, reply, 0)[2]


def _send(updater, data, tamper_at=-1, chunk=CHUNK):
    reply = updater.request(_begin(data))
    status = reply[0]
    offset = 0
    while status == 0 and offset < len(data):
        piece = memoryview(data)[offset:offset + chunk]   # no copy per chunk: the 64K heap stays in one piece
        if offset <= tamper_at < offset + len(piece):
            piece = bytearray(piece)
            piece[tamper_at - offset] ^= 1
        reply = updater.request(_chunk(offset, piece))
        status = reply[0]
        offset = _stored(reply)
    if status == 0:
        status = updater.request(bytes((protocol.UPDATE_APPLY,)))[0]
    return status


def _staged_files():
    found = []
    for slot in update_boot.SLOTS:
        try:
            found += [slot + "/" + n for n in os.listdir(WORK + "/ota/" + slot) if n not in ("pkg",)]
        except OSError:
            pass
    return found


def test_a_good_bundle_stages_boots_on_trial_and_confirms():
    _fresh()
    app = App()
    assert _send(Updater(app, public_key=bytes.fromhex(PUBLIC_KEY)), DATA) == 0
    assert update_boot.read_state()[1:] == ["a", 0, update_boot.STAGED, "9.9.9"]
    assert app.events[-1][2] == update_boot.STAGED and app.update_staged
    path = []
    assert update_boot.select(WORK + "/ota", path=path) == ("a", True)
    assert path == [WORK + "/ota/a"]
    with open(WORK + "/ota/a/pkg/extra.py") as f:
        assert f.read() == "X = 1\n"
    assert update_boot.confirm()
    assert update_boot.read_state()[:4] == ["a", "", 0, update_boot.CONFIRMED]
    assert update_boot.select(WORK + "/ota", path=path) == ("a", False) and path == [WORK + "/ota/a"]


def _refused(key, board, tamper, code):
    _fresh()
    assert _send(Updater(App(board), public_key=bytes.fromhex(key)), DATA, tamper) == code
    assert update_boot.read_state()[:2] == ["", ""]
    assert _staged_files() in ([], ["a/pkg"]), _staged_files()


def test_a_tampered_payload_chunk_is_refused_and_nothing_staged():
    _refused(PUBLIC_KEY, "test-board", HEADER_SIZE + 300, protocol.ERR_UPDATE_HASH)


def test_a_tampered_header_chunk_is_refused_and_nothing_staged():
    _refused(PUBLIC_KEY, "test-board", 40, protocol.ERR_UPDATE_HASH)


def test_another_publisher_is_refused_and_nothing_staged():
    _refused(OTHER_KEY, "test-board", -1, protocol.ERR_UPDATE_SIGNATURE)


def test_a_bundle_for_another_board_is_refused_and_nothing_staged():
    _refused(PUBLIC_KEY, "other-board", -1, protocol.ERR_UPDATE_BOARD)


def test_a_chunk_out_of_order_is_refused_and_the_stored_offset_told():
    _fresh()
    data = DATA
    updater = Updater(App(), public_key=bytes.fromhex(PUBLIC_KEY))
    assert updater.request(_begin(data))[0] == 0
    assert updater.request(_chunk(0, data[:CHUNK]))[0] == 0
    reply = updater.request(_chunk(CHUNK * 2, data[CHUNK * 2:CHUNK * 3]))
    assert reply[0] == protocol.ERR_UPDATE_OFFSET and _stored(reply) == CHUNK
    # a new Updater (after a reboot) resumes from what is on flash
    again = Updater(App(), public_key=bytes.fromhex(PUBLIC_KEY))
    reply = again.request(_begin(data))
    assert reply[0] == 0 and _stored(reply) == CHUNK
    # the host leaves mid-transfer (monitor.endpoint calls update.disconnected): the screen stops showing it
    assert update.percent is not None
    update._updater[0] = again
    update.disconnected(None)
    assert update.percent is None and update._updater[0] is None


def test_boot_files_and_the_slots_own_files_are_never_bundle_paths():
    for path in ("main.py", "boot.py", "update_boot.py", "update_boot.mpy", "manifest.py", "ID", "HEADER",
                 "HEADER.part", "monitor/x.py.tmp", "state.tmp", "monitor/app.py.part"):
        assert not bundle.safe_path(path), path
    for path in ("monitor/main.py", "device/ID", "monitor/app.py", "boards/pico_w.mpy"):
        assert bundle.safe_path(path), path


class _FullFlash:
    """Reads the real files; every write fails as a full littlefs does (ENOSPC)."""

    def open(self, path, mode):
        if mode != "rb":
            raise OSError(28, "no space")
        return open(path, mode)

    def rename(self, src, dst):
        raise OSError(28, "no space")

    def sync(self, f):
        pass


def test_a_full_flash_with_a_trial_pending_still_boots_the_confirmed_version():
    _fresh()
    ota = WORK + "/ota"
    os.mkdir(ota)
    for state, booted in ((["a", "b", 0, update_boot.STAGED, "v"], "a"),          # the try cannot be counted
                          (["a", "b", 1, update_boot.ON_TRIAL, "v"], "a"),        # the rollback cannot be written
                          (["", "a", 0, update_boot.STAGED, "v"], "")):
        update_boot.write_state(state, ota)
        path = []
        assert update_boot.select(ota, _FullFlash(), path) == (booted, False), state
        assert update_boot.read_state(ota) == state          # unchanged: the next boot tries again
        assert not update_boot.rollback(update_boot.NOT_CONFIRMED, _FullFlash())
    update_boot.write_state(["a", "b", 0, update_boot.STAGED, "v"], ota)
    update_boot.select(ota, None, [])
    assert not update_boot.confirm(_FullFlash()) and update_boot.booted() == ("b", True)
    update_boot.select(ota + "-none", None, [])


def test_a_manifest_carries_the_floor_and_an_older_format_reads_as_floor_0():
    size = bundle.header_size(DATA)
    assert bundle.Manifest(bundle.split_header(DATA[:size])[0]).floor == 0      # update_bundle.bin: format 1
    raw = bundle.encode_manifest(7, "1.7", "test-board", "py", [("monitor/x.py", 3, bytes(32))], floor=5)
    manifest = bundle.Manifest(raw)
    assert (raw[0], manifest.sequence, manifest.floor, manifest.version) == (bundle.FORMAT, 7, 5, "1.7")
