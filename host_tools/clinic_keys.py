"""Keys in a clinic: any clinician of the clinic pulls any of its devices without copying key files, and the
shared database never holds a key in the clear.

- The clinic key (32 random bytes) seals each device's host keys (the role keys and the beacon key that
  `provision` makes; never the device key) with AES-256-GCM, the device id, key name and generation as
  associated data, in `device_key_wraps`.
- Each clinician's machine has an X25519 identity (`clinic join`); its private half stays on that machine
  (0600 file in the 0700 config dir), its public half goes into `clinicians`. A member wraps the clinic key
  to a new machine's public key (`clinic add-clinician`: ephemeral X25519, HKDF-SHA256, AES-256-GCM).
- Removing a clinician makes a new clinic key: every device key is sealed again under it and it is wrapped
  for the remaining clinicians only; the old generation's wraps are gone from the database, so the removed
  machine's identity (and any copy of the old clinic key) opens nothing stored there.

The clinic key is never written to disk: a machine unwraps it from the database with its identity each time.
`load_key(device_id, name)` reads this computer's own key files first (a single clinician's keys keep
working), then the clinic's store.
"""
import hashlib
import hmac
import json
import os
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, insert, select, update

from host_tools import clinic_schema as T
from host_tools import keys

CLINIC_KEY_BYTES = 32
NONCE_BYTES = 12
KEY_NAMES = ("clinician", "patient", keys.BEACON)
CHECK_LABEL = b"e2mon clinic key check v1"
WRAP_INFO = b"e2mon clinic key wrap v1"


class ClinicError(Exception):
    """Something a clinic command cannot do, in words (not a member, already a clinic, unknown name)."""


def _raw_public(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_raw):
    """What `join` shows and `add-clinician` asks to compare, read aloud or by phone: not by the database."""
    digest = hashlib.sha256(b"e2mon clinician" + public_raw).hexdigest()[:20]
    return " ".join(digest[i:i + 4] for i in range(0, 20, 4))


def _check_value(clinic_key):
    return hmac.new(clinic_key, CHECK_LABEL, hashlib.sha256).digest()


def _seal_aad(device_id, name, generation):
    return ("e2mon device key v1|%s|%s|%d" % (device_id, name, generation)).encode()


def seal_device_key(clinic_key, device_id, name, generation, key):
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(clinic_key).encrypt(nonce, bytes(key), _seal_aad(device_id, name, generation))


def open_device_key(clinic_key, device_id, name, generation, sealed):
    return AESGCM(clinic_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                      _seal_aad(device_id, name, generation))


def _wrap_aad(clinician, generation):
    return ("e2mon clinic key for %s|%d" % (clinician, generation)).encode()


def _kek(shared, ephemeral_raw, recipient_raw):
    return HKDF(hashes.SHA256(), 32, ephemeral_raw + recipient_raw, WRAP_INFO).derive(shared)


def wrap_for(public_raw, clinician, generation, clinic_key):
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = _raw_public(ephemeral.public_key())
    kek = _kek(ephemeral.exchange(X25519PublicKey.from_public_bytes(public_raw)), ephemeral_raw, public_raw)
    nonce = os.urandom(NONCE_BYTES)
    return ephemeral_raw + nonce + AESGCM(kek).encrypt(nonce, clinic_key, _wrap_aad(clinician, generation))


def unwrap(identity, clinician, generation, wrapped):
    ephemeral_raw, nonce, sealed = wrapped[:32], wrapped[32:32 + NONCE_BYTES], wrapped[32 + NONCE_BYTES:]
    own_raw = _raw_public(identity.public_key())
    kek = _kek(identity.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw)), ephemeral_raw, own_raw)
    return AESGCM(kek).decrypt(nonce, sealed, _wrap_aad(clinician, generation))


# This machine's identity and membership (config dir: $E2MON_CONFIG/e2mon/clinic/)

def _dir():
    return os.path.join(keys.config_dir(), "clinic")


def _identity_path():
    return os.path.join(_dir(), "identity.key")


def _membership_path():
    return os.path.join(_dir(), "membership.json")


def membership():
    """{"clinician": name, "db": path or URL} when this machine belongs to a clinic, else None."""
    try:
        with open(_membership_path(), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _write_private(path, data):
    from host_tools.outfile import private_output
    keys.private_directory(os.path.dirname(path))
    with private_output(path, binary=True) as f:
        f.write(data)


def _new_identity(name, db):
    if membership() is not None:
        raise ClinicError("this computer already belongs to a clinic as %s (%s)"
                          % (membership()["clinician"], _membership_path()))
    identity = X25519PrivateKey.generate()
    raw = identity.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    _write_private(_identity_path(), (raw.hex() + "\n").encode())
    where = db if "://" in db else os.path.abspath(db)   # the same database from any working directory
    _write_private(_membership_path(), json.dumps({"clinician": name, "db": where}).encode())
    return identity


def _identity():
    path = _identity_path()
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        raise ClinicError("this computer has no clinic identity (%s); run e2mon clinic join" % path) from None
    keys.check_private(path, "clinic identity")
    return X25519PrivateKey.from_private_bytes(bytes.fromhex(text))


def _check_name(name):
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise ClinicError("clinician name %r: use 1-64 letters, digits and . _ - @" % (name,))


# The clinic's store

def _current(conn):
    row = conn.execute(select(T.clinic_key.c.generation, T.clinic_key.c.check_value)).first()
    if row is None:
        raise ClinicError("this database has no clinic yet (run e2mon clinic init)")
    return row.generation, row.check_value


def _clinic_key(conn, identity=None, name=None):
    """The current clinic key, unwrapped with this machine's identity."""
    member = membership()
    if member is None:
        raise ClinicError("this computer belongs to no clinic (e2mon clinic join, then a member's "
                          "e2mon clinic add-clinician)")
    name = name or member["clinician"]
    generation, check = _current(conn)
    row = conn.execute(select(T.clinicians).where(T.clinicians.c.name == name)).first()
    if row is None:
        raise ClinicError("clinician %s is not a member of this clinic (removed, or never joined)" % name)
    if row.wrapped_clinic_key is None:
        raise ClinicError("clinician %s waits to be added: a member runs e2mon clinic add-clinician %s"
                          % (name, name))
    try:
        key = unwrap(identity or _identity(), name, row.generation, row.wrapped_clinic_key)
    except Exception:
        raise ClinicError("this computer's identity does not open the clinic key wrapped for %s" % name) from None
    if row.generation != generation or not hmac.compare_digest(_check_value(key), check):
        raise ClinicError("the clinic key wrapped for %s is not the current one" % name)
    return generation, key


def init(db, name):
    """Makes the clinic in database `db` with this machine as its first clinician; this machine's key files
    move into the clinic's store (sealed, then checked, then removed here). Returns the devices moved."""
    _check_name(name)
    engine = T.engine(db)
    with engine.connect() as conn:
        if conn.execute(select(T.clinic_key.c.generation)).first() is not None:
            raise ClinicError("this database already has a clinic; run e2mon clinic join on this computer")
    identity = _new_identity(name, db)
    clinic_key = os.urandom(CLINIC_KEY_BYTES)
    now = int(time.time())
    with engine.begin() as conn:
        conn.execute(insert(T.clinic_key).values(id=1, generation=1, check_value=_check_value(clinic_key),
                                                 created=now))
        public = _raw_public(identity.public_key())
        conn.execute(insert(T.clinicians).values(name=name, public_key=public, generation=1, added_by=name,
                                                 joined=now, wrapped_clinic_key=wrap_for(public, name, 1,
                                                                                         clinic_key)))
    return import_key_files(db)


def import_key_files(db):
    """Seals this computer's per-device key files into the clinic's store, reads each back, then removes
    the file (nothing is removed before its sealed copy opens). Returns the device ids moved."""
    moved = []
    for device_id in keys.known_devices():
        found = {}
        for name in KEY_NAMES:
            try:
                found[name] = keys.load_key(device_id, name)
            except (keys.KeyMissing, ValueError):
                continue
        if found:
            store_device_keys(db, device_id, found)
            for name, key in found.items():
                if _load_from_store(db, device_id, name) != key:
                    raise ClinicError("the sealed copy of %s's %s key does not read back" % (device_id, name))
                keys.forget_key(device_id, name)
            moved.append(device_id)
    return moved


def join(db, name):
    """A new machine asks to join: its public key goes into the database; returns its fingerprint."""
    _check_name(name)
    engine = T.engine(db)
    with engine.connect() as conn:
        _current(conn)
        if conn.execute(select(T.clinicians.c.name).where(T.clinicians.c.name == name)).first():
            raise ClinicError("the clinic already has a clinician named %s" % name)
    identity = _new_identity(name, db)
    public = _raw_public(identity.public_key())
    with engine.begin() as conn:
        conn.execute(insert(T.clinicians).values(name=name, public_key=public, joined=int(time.time())))
    return fingerprint(public)


def pending_fingerprint(db, name):
    with T.engine(db).connect() as conn:
        row = conn.execute(select(T.clinicians).where(T.clinicians.c.name == name)).first()
    if row is None:
        raise ClinicError("no clinician %s has asked to join (they run e2mon clinic join first)" % name)
    return fingerprint(row.public_key)


def add_clinician(db, name):
    """A member wraps the clinic key for `name`'s machine (after comparing its fingerprint)."""
    with T.engine(db).begin() as conn:
        generation, clinic_key = _clinic_key(conn)
        row = conn.execute(select(T.clinicians).where(T.clinicians.c.name == name)).first()
        if row is None:
            raise ClinicError("no clinician %s has asked to join (they run e2mon clinic join first)" % name)
        conn.execute(update(T.clinicians).where(T.clinicians.c.name == name).values(
            wrapped_clinic_key=wrap_for(row.public_key, name, generation, clinic_key), generation=generation,
            added_by=membership()["clinician"]))
    return fingerprint(row.public_key)


def remove_clinician(db, name):
    """A new clinic key: device keys sealed again, wrapped for everyone but `name`; returns the device ids
    (whose keys the removed clinician could have read while a member: provision them again to retire those)."""
    me = membership()
    if me is not None and me["clinician"] == name:
        raise ClinicError("a clinician cannot remove themselves; another member does")
    with T.engine(db).begin() as conn:
        generation, old_key = _clinic_key(conn)
        if conn.execute(select(T.clinicians.c.name).where(T.clinicians.c.name == name)).first() is None:
            raise ClinicError("the clinic has no clinician %s" % name)
        new_key = os.urandom(CLINIC_KEY_BYTES)
        new_generation = generation + 1
        devices = set()
        for row in conn.execute(select(T.device_key_wraps)).all():
            key = open_device_key(old_key, row.device_id, row.name, row.generation, row.sealed)
            conn.execute(update(T.device_key_wraps).where(
                (T.device_key_wraps.c.device_id == row.device_id) & (T.device_key_wraps.c.name == row.name)
            ).values(generation=new_generation, sealed=seal_device_key(new_key, row.device_id, row.name,
                                                                        new_generation, key)))
            devices.add(row.device_id)
        conn.execute(delete(T.clinicians).where(T.clinicians.c.name == name))
        for row in conn.execute(select(T.clinicians).where(T.clinicians.c.wrapped_clinic_key.is_not(None))).all():
            conn.execute(update(T.clinicians).where(T.clinicians.c.name == row.name).values(
                generation=new_generation, wrapped_clinic_key=wrap_for(row.public_key, row.name, new_generation,
                                                                       new_key)))
        conn.execute(update(T.clinic_key).values(generation=new_generation, check_value=_check_value(new_key),
                                                 created=int(time.time())))
    return sorted(devices)


def clinicians(db):
    with T.engine(db).connect() as conn:
        rows = conn.execute(select(T.clinicians).order_by(T.clinicians.c.name)).all()
    return [{"name": r.name, "member": r.wrapped_clinic_key is not None, "added_by": r.added_by,
             "fingerprint": fingerprint(r.public_key)} for r in rows]


def store_device_keys(db, device_id, found):
    """Seals {key name: key} for device_id under the current clinic key (replacing what was there)."""
    with T.engine(db).begin() as conn:
        generation, clinic_key = _clinic_key(conn)
        for name, key in found.items():
            conn.execute(delete(T.device_key_wraps).where((T.device_key_wraps.c.device_id == device_id)
                                                          & (T.device_key_wraps.c.name == name)))
            conn.execute(insert(T.device_key_wraps).values(
                device_id=device_id, name=name, generation=generation,
                sealed=seal_device_key(clinic_key, device_id, name, generation, key)))


def _load_from_store(db, device_id, name):
    with T.engine(db).connect() as conn:
        generation, clinic_key = _clinic_key(conn)
        row = conn.execute(select(T.device_key_wraps).where((T.device_key_wraps.c.device_id == device_id)
                                                            & (T.device_key_wraps.c.name == name))).first()
        if row is None:
            raise keys.KeyMissing("the clinic holds no %s key for device %s" % (name, device_id))
        return open_device_key(clinic_key, device_id, name, generation, row.sealed)


def load_key(device_id, name):
    """This computer's own key for device_id (keys.load_key), else the clinic's; raises keys.KeyMissing."""
    try:
        return keys.load_key(device_id, name)
    except keys.KeyMissing as own:
        member = membership()
        if member is None:
            raise
        try:
            return _load_from_store(member["db"], device_id, name)
        except ClinicError as exc:
            raise keys.KeyMissing("%s; and the clinic's store: %s" % (own, exc)) from None
        except keys.KeyMissing as exc:
            raise keys.KeyMissing("%s; and %s" % (own, exc)) from None


def save_device_keys(device_id, found):
    """Where provision keeps a new device's keys: the clinic's store when this computer belongs to one (the
    keys never touch this disk), else keys.save_key. Returns where, in words."""
    member = membership()
    if member is None:
        where = None
        for name, key in found.items():
            where = keys.save_key(device_id, name, key)
        return where
    store_device_keys(member["db"], device_id, found)
    return CLINIC_STORE


CLINIC_STORE = "the clinic's store (sealed under the clinic key)"
