"""Login sessions, kept in the registry: one record per browser that logged in.

The signed session cookie carries a random session id; the registry keeps its SHA-256, whose login
it is, when it started and when it was last seen. A session is live while its record is, so a copy
of the cookie is worth nothing once the record is gone:

- logging out deletes this browser's record only: a colleague logged in with the same login at
  another desk keeps theirs;
- a password change or disabling the login deletes all of the login's records.

Every session ends PERMANENT_SESSION_LIFETIME (8 h) after the login, however busy. Staff sessions
(clinic, insurer, admin) also end after STAFF_IDLE_TIMEOUT (30 min) without a request: a desk PC
left logged in is open to whoever walks up, and NIST SP 800-63B asks for re-authentication after
30 minutes of inactivity at its AAL2. A citizen's phone is their own, and their card must keep
working through a long wait at the clinic, so citizens have no idle limit.

Checking a session is one indexed read per request. Only staff sessions need `seen_at`, and it is
written when it is older than a tenth of the idle limit (at most once a minute), not on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError

from webapp.db.transactions import atomic, locked
from webapp.extensions import db
from webapp.models import LoginSession, Role, User

STAFF = frozenset({Role.CLINIC, Role.INSURER, Role.ADMIN})
#: The longest `seen_at` is left unwritten (a tenth of a shorter idle limit).
TOUCH_INTERVAL = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lifetime() -> timedelta:
    return current_app.config["PERMANENT_SESSION_LIFETIME"]  # type: ignore[no-any-return]


def _idle_limit() -> timedelta:
    return current_app.config["STAFF_IDLE_TIMEOUT"]  # type: ignore[no-any-return]


@atomic
def start(user: User, vouched_hash: str, now: datetime | None = None) -> str | None:
    """A new session for `user`: its id, for the cookie; None if the login changed since its password was
    checked (`vouched_hash`, the hash it was checked against): a new password, or the login disabled.

    Checking a password takes a while (argon2). A change that ended every session meanwhile would have missed
    this one, so the login's row is locked and read again here; `end_all` takes the same lock first, so a
    change after this point waits for the new session and then ends it with the rest. Expired records of every
    login go on the way."""
    moment = now or datetime.now(UTC)
    current = db.session.scalar(locked(User, User.id == user.id))
    if current is None or not current.active or current.password_hash != vouched_hash:
        return None
    db.session.execute(delete(LoginSession).where(LoginSession.started_at <= moment - _lifetime()))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_hash(token), started_at=moment, seen_at=moment))
    return token


def resume(token: str, user_id: int, now: datetime | None = None) -> User | None:
    """The user of the live session `token`, if it is `user_id`'s and the login is enabled; else None."""
    found = db.session.execute(
        select(LoginSession, User).join(User).where(LoginSession.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    record, user = found
    if record.user_id != user_id or not user.active:
        return None
    moment = now or datetime.now(UTC)
    staff = Role(user.role) in STAFF
    if moment >= record.started_at + _lifetime() or (staff and moment >= record.seen_at + _idle_limit()):
        _end(record.id)
        return None
    if staff and moment - record.seen_at >= min(TOUCH_INTERVAL, _idle_limit() / 10):
        _touch(record.id, moment)
    return user


def _touch(record_id: int, moment: datetime) -> None:
    """Best effort, tried once: a request is served even when `seen_at` cannot be written (the database
    busy with a long write); a later request writes it."""
    try:
        db.session.execute(update(LoginSession).where(LoginSession.id == record_id).values(seen_at=moment))
        db.session.commit()
    except OperationalError:
        db.session.rollback()


@atomic
def _end(record_id: int) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.id == record_id))


@atomic
def end(token: str) -> None:
    """Log this browser out: its session's record goes, and every copy of its cookie with it."""
    db.session.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))


@atomic
def end_all(user_id: int) -> None:
    """Log the login out everywhere (a password change, a disabled login). The login's row is locked first: a
    session being started waits for it, and sees the change (`start`)."""
    db.session.execute(locked(User, User.id == user_id))
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
