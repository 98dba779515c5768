"""Accounts and sessions of the clinic page.

Passwords are hashed with argon2id (argon2-cffi's defaults); a session is a random token in an HttpOnly,
SameSite=Strict cookie, kept in `web_sessions` only as its SHA-256 digest, with its own CSRF token and an
expiry (idle: each request moves it on, never past the absolute limit).

- `add_user(db, username, password)`, `remove_user(db, username)`, `users(db)`
- `login(db, username, password) -> (token, csrf) or None` (after LOCK_AFTER wrong passwords in a row an
  account takes no password for LOCK_SECONDS: guessing is slow even from many addresses); `session(db, token) -> {"username", "csrf"} or
  None` (None when unknown or expired); `logout(db, token)`
"""
import contextlib
import hashlib
import hmac
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from host_tools import clinic_schema as T

IDLE_SECONDS = 30 * 60
LOCK_AFTER = 5            # wrong passwords in a row before an account waits
LOCK_SECONDS = 15 * 60
ABSOLUTE_SECONDS = 12 * 3600
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verifying against this when the user is unknown takes as long as for a known one (no user enumeration).
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    pass


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _check_username(username):
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise AccountError("user name %r: use 1-64 letters, digits and . _ - @" % (username,))


def add_user(db, username, password):
    _check_username(username)
    if len(password) < MIN_PASSWORD:
        raise AccountError("the password needs at least %d characters" % MIN_PASSWORD)
    with T.engine(db).begin() as conn:
        if conn.execute(select(T.web_users.c.username).where(T.web_users.c.username == username)).first():
            raise AccountError("there is already a user %s" % username)
        conn.execute(insert(T.web_users).values(username=username, password_hash=_hasher.hash(password),
                                                created=int(time.time())))


def remove_user(db, username):
    with T.engine(db).begin() as conn:
        conn.execute(delete(T.web_sessions).where(T.web_sessions.c.username == username))
        if not conn.execute(delete(T.web_users).where(T.web_users.c.username == username)).rowcount:
            raise AccountError("there is no user %s" % username)


def users(db):
    with T.engine(db).connect() as conn:
        return [r.username for r in conn.execute(select(T.web_users.c.username).order_by(T.web_users.c.username))]


def login(db, username, password, now=None):
    """A new session (token, csrf) when the password is right, else None."""
    now = int(time.time()) if now is None else now
    with T.engine(db).begin() as conn:
        row = conn.execute(select(T.web_users).where(T.web_users.c.username == username)).first()
        if row is not None and row.locked_until > now:
            with contextlib.suppress(VerificationError, InvalidHashError):
                _hasher.verify(_DUMMY_HASH, password)     # as slow as a real check: a lock says nothing
            return None
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            if row is not None:
                failed = row.failed_logins + 1
                conn.execute(update(T.web_users).where(T.web_users.c.username == username).values(
                    failed_logins=0 if failed >= LOCK_AFTER else failed,
                    locked_until=now + LOCK_SECONDS if failed >= LOCK_AFTER else 0))
            return None
        if row is None:
            return None
        if row.failed_logins:
            conn.execute(update(T.web_users).where(T.web_users.c.username == username).values(failed_logins=0))
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(update(T.web_users).where(T.web_users.c.username == username).values(
                password_hash=_hasher.hash(password)))
        conn.execute(delete(T.web_sessions).where(T.web_sessions.c.expires < now))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        conn.execute(insert(T.web_sessions).values(token_digest=_digest(token), username=username, csrf_token=csrf,
                                                   created=now, expires=now + IDLE_SECONDS))
    return token, csrf


def session(db, token, now=None, idle=IDLE_SECONDS):
    if not token:
        return None
    now = int(time.time()) if now is None else now
    with T.engine(db).begin() as conn:
        row = conn.execute(select(T.web_sessions).where(T.web_sessions.c.token_digest == _digest(token))).first()
        if row is None:
            return None
        if row.expires <= now or now - row.created >= ABSOLUTE_SECONDS:
            conn.execute(delete(T.web_sessions).where(T.web_sessions.c.token_digest == row.token_digest))
            return None
        conn.execute(update(T.web_sessions).where(T.web_sessions.c.token_digest == row.token_digest).values(
            expires=min(now + idle, row.created + ABSOLUTE_SECONDS)))
    return {"username": row.username, "csrf": row.csrf_token}


def csrf_ok(expected, given):
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def logout(db, token):
    if token:
        with T.engine(db).begin() as conn:
            conn.execute(delete(T.web_sessions).where(T.web_sessions.c.token_digest == _digest(token)))
