"""Where the host keeps each device's provisioned key.

In the user's keyring (the `keyring` package, service "e2mon") when one is
installed and usable, else in a 0600 file `<config dir>/e2mon/keys/<device>.<role>.key`
(hex) inside a 0700 directory. The config dir is $E2MON_CONFIG, else
$XDG_CONFIG_HOME, else ~/.config.

- `save_key(device_id, role, key) -> where` ("keyring" or the file path)
- `load_key(device_id, role) -> bytes` (raises `KeyMissing`)
- `known_devices() -> [device_id]` for keys held in files
- `forget_key(device_id, role)`: removes this computer's copy (moved into a clinic's store, host_tools.clinic_keys)
- `private_directory(path)` / `private_file(path)` / `check_private(path, what)`: the 0700 / 0600 rule the
  key files follow, shared with the host database (host_tools.db)
"""
import binascii
import os
import re

from monitor.session import KEY_SIZE as KEY_BYTES   # a role key has the device key's size

SERVICE = "e2mon"
BEACON = "beacon"   # kept beside the role keys: recognises the device's advertisements (monitor.beacon)
_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class KeyMissing(Exception):
    pass


class NotPrivate(Exception):
    """A file holding secrets or patient data can be read by other users."""


def private_directory(directory):
    """Creates `directory` (and parents) if needed; one this call creates is 0700."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)


def private_file(path):
    """Creates `path` empty with mode 0600 if it does not exist (no window where it is world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)


def check_private(path, what):
    """Raises NotPrivate when `path` is readable or writable by group or others."""
    mode = os.stat(path).st_mode
    if mode & 0o077:
        raise NotPrivate("%s %s is readable by other users (mode %03o); run chmod 600 %s"
                         % (what, path, mode & 0o777, path))


def config_dir():
    base = (os.environ.get("E2MON_CONFIG") or os.environ.get("XDG_CONFIG_HOME")
            or os.path.join(os.path.expanduser("~"), ".config"))
    return os.path.join(base, "e2mon")


def _keyring():
    """The keyring module if one is installed with a real backend, else None."""
    if os.environ.get("E2MON_NO_KEYRING"):
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:
        return None
    return keyring


def _check_names(device_id, role):
    if not _SAFE.match(device_id or ""):
        raise ValueError("device id %r has characters a key name cannot hold" % (device_id,))
    if not _SAFE.match(role or ""):
        raise ValueError("role %r is not a valid role name" % (role,))


def key_path(device_id, role):
    _check_names(device_id, role)
    return os.path.join(config_dir(), "keys", "%s.%s.key" % (device_id.replace(":", "-"), role))


def save_key(device_id, role, key):
    _check_names(device_id, role)
    key = bytes(key)
    if not key:
        raise ValueError("empty key")
    ring = _keyring()
    if ring is not None:
        ring.set_password(SERVICE, "%s/%s" % (device_id, role), key.hex())
        return "keyring"
    path = key_path(device_id, role)
    directory = os.path.dirname(path)
    private_directory(directory)
    os.chmod(directory, 0o700)
    # 0600 from the start (no window where the key is world-readable), then replace atomically.
    from host_tools.outfile import private_output
    with private_output(path, binary=True) as f:
        f.write((key.hex() + "\n").encode())
    return path


def key_location(device_id, role):
    """Where this computer keeps the key, in words: "the keyring" or the file's path."""
    ring = _keyring()
    if ring is not None and ring.get_password(SERVICE, "%s/%s" % (device_id, role)):
        return "the keyring"
    return key_path(device_id, role)


def load_key(device_id, role):
    _check_names(device_id, role)
    ring = _keyring()
    if ring is not None:
        text = ring.get_password(SERVICE, "%s/%s" % (device_id, role))
        if text:
            try:
                key = bytes.fromhex(text)
            except ValueError:
                key = b""
            if len(key) != KEY_BYTES:
                raise KeyMissing("the keyring's %s key for device %s is damaged" % (role, device_id))
            return key
    path = key_path(device_id, role)
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        raise KeyMissing("no %s key for device %s (looked in %s)" % (role, device_id, path)) from None
    check_private(path, "key file")   # NotPrivate: a file problem (chmod), not a missing key
    if not text:
        raise KeyMissing("key file %s is empty" % path)
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise KeyMissing("key file %s is damaged (not hex)" % path) from None
    if len(key) != KEY_BYTES:
        raise KeyMissing("key file %s is damaged (%d bytes, a key has %d)" % (path, len(key), KEY_BYTES))
    return key


def forget_key(device_id, role):
    """Removes this computer's copy of a key (the keyring's entry and the file), when it lives elsewhere now."""
    _check_names(device_id, role)
    ring = _keyring()
    if ring is not None and ring.get_password(SERVICE, "%s/%s" % (device_id, role)):
        ring.delete_password(SERVICE, "%s/%s" % (device_id, role))
    try:
        os.remove(key_path(device_id, role))
    except FileNotFoundError:
        pass


def known_devices():
    directory = os.path.join(config_dir(), "keys")
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted({_ADDRESS_FILE.sub(lambda m: m.group(0).replace("-", ":"), n.split(".")[0])
                   for n in names if n.endswith(".key")})


_ADDRESS_FILE = re.compile(r"^([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}$")   # key_path wrote a BLE address's ":" as "-"
