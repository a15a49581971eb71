"""Wrong passwords, counted per login from every address together.

The login form is limited per address (30 a minute) and per address and login (5 a minute) in
webapp/web/auth.py: that stops one address, not a thousand. So each wrong password for a login, at the
login form or as the current password at the password-change form, also counts against the login itself:
PASSWORD_GUESSES_PER_LOGIN, 10 per 15 minutes by default, counted from the first of them. Past that the
login is refused, before anything is looked up, until the window ends. The failure that reaches the limit
is noted in the audit log: once a window, whichever worker counted it.

A limit per login is also a way to lock its owner out: ten wrong passwords every quarter of an hour
would do. So the limit slows guessers without locking the owner out:

- a browser the login was used in (a successful login, a password change, an activation) keeps a cookie
  saying so, and its wrong passwords count on their own: the owner's desk or phone logs in while the
  browsers of strangers wait. (OWASP's "device cookies".) The cookie names no login: it holds a random id
  and an HMAC, under a key derived from SECRET_KEY, of the id and the login. A stolen one is worth one more
  allowance of the same size to its thief, and nothing for another login;
- the window is short: a new browser waits at most 15 minutes after the guessing stops.

Ten guesses a quarter of an hour is 960 a day at most, against at least ten characters under argon2id.

The counts live in the limiter's storage, Redis when several workers run; if it fails, each worker counts
in its own memory, as Flask-Limiter does for the other limits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from flask import current_app
from limits.storage import MemoryStorage, Storage

from webapp.db.shared_counts import parsed
from webapp.db.transactions import atomic
from webapp.extensions import limiter
from webapp.registry import audit

LIMIT_ACTION = "password_guess_limit_reached"
#: The cookie's longest sensible value; anything longer or odder is no known browser.
_MAX_COOKIE = 100
_CONTEXT = b"oms-known-browser"
#: The app's extensions key of this worker's own counts, while the shared storage fails.
_FALLBACK = "password_guesses_fallback"
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    #: Wrong passwords a window allows.
    allowed: int
    #: Seconds until the window ends.
    retry_after: int


def browser_cookie(login: str) -> str:
    """The cookie value for a browser `login` was just used in."""
    browser_id = secrets.token_urlsafe(12)
    return f"{browser_id}.{_mac(login, browser_id)}"


def admit(login: str, cookie: str) -> Refusal | None:
    """None if a password for `login` may be tried from this browser now (its known-browser cookie, or "")."""
    item = parsed(current_app.config["PASSWORD_GUESSES_PER_LOGIN"])
    key = _key(login, cookie)
    if _counted(lambda storage: storage.get(key)) < item.amount:
        return None
    expiry = _counted(lambda storage: storage.get_expiry(key))
    return Refusal(item.amount, max(1, math.ceil(expiry - time.time())))


def failed(login: str, cookie: str, actor: str) -> None:
    """Count a wrong password for `login`; the one that reaches the limit is noted in the audit log."""
    item = parsed(current_app.config["PASSWORD_GUESSES_PER_LOGIN"])
    key = _key(login, cookie)
    if _counted(lambda storage: storage.incr(key, item.get_expiry())) == item.amount:
        until = datetime.fromtimestamp(_counted(lambda storage: storage.get_expiry(key)), UTC).replace(microsecond=0)
        known = _known_browser(login, cookie) is not None
        _note(login, actor, {"allowed": item.amount, "until": until.isoformat(), "known_browser": known})


def forget(login: str) -> None:
    """The login's count from unknown browsers starts afresh: it has a new password, which nobody has guessed at
    yet (an operator's reset, or a citizen's by their insurer's code, is how its owner gets back in)."""
    key = _key(login, "")
    _counted(lambda storage: storage.clear(key))


def _key(login: str, cookie: str) -> str:
    """The count a wrong password goes to: the login's, or its own for a browser the login was used in.
    A change of the setting starts afresh."""
    item = parsed(current_app.config["PASSWORD_GUESSES_PER_LOGIN"])
    browser_id = _known_browser(login, cookie)
    return f"password_guesses/{item.key_for()}/{login}" + (f"/{browser_id}" if browser_id else "")


def _known_browser(login: str, cookie: str) -> str | None:
    """The browser's id if its cookie says `login` was used in it, else None."""
    browser_id, _, mac = cookie.partition(".")
    if not (0 < len(cookie) <= _MAX_COOKIE and cookie.isascii() and browser_id):
        return None
    return browser_id if hmac.compare_digest(mac, _mac(login, browser_id)) else None


def _mac(login: str, browser_id: str) -> str:
    key = hmac.new(current_app.config["SECRET_KEY"].encode("utf-8"), _CONTEXT, hashlib.sha256).digest()
    digest = hmac.new(key, f"{login}\n{browser_id}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _counted(operation: Callable[[Storage], T]) -> T:
    """`operation` on the shared storage, or on this worker's memory while the storage fails."""
    storage = limiter.storage
    try:
        return operation(storage)
    except storage.base_exceptions as error:
        log.warning("rate-limit storage unavailable, counting wrong passwords in this worker: %s", type(error).__name__)
        fallback = current_app.extensions.get(_FALLBACK)
        if fallback is None:
            fallback = current_app.extensions[_FALLBACK] = MemoryStorage()
        return operation(fallback)


@atomic
def _note(login: str, actor: str, details: dict[str, object]) -> None:
    audit.record(actor, LIMIT_ACTION, "user", login, details=details)
