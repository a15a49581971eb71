"""A secret shown once, on the page the POST that made it redirects to (post/redirect/get).

A new API token, a generated password or an activation code is made by a POST, which answers with a
redirect; the page it redirects to shows the secret and drops it. Reloading that page shows nothing
and makes nothing, where reloading the POST's own answer made a second token.

The secret crosses the redirect in the session cookie, which is signed but not encrypted: so it goes
sealed (AES-GCM, under a key derived from SECRET_KEY) and bound to the login session it was made in,
and the cookie holds it only until the page that shows it.

That page's language switch posts the secret back, sealed as it came: the page, now in the other
language, shows it again rather than saying it was shown (the person had not written it down yet).
So a sealed value opens for SHOWN_FOR after it was made, not for the rest of the login session.
"""

from __future__ import annotations

import base64
import json
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, g, session
from werkzeug.wrappers import Response

from webapp.web.session_keys import SESSION_ID

_PREFIX = "shown_once:"
_NONCE = 12
#: What may be kept: each a page's secret (`admin.password_shown`, `admin.tokens`, `insurer.show_activation_code`).
NAMES = frozenset({"password", "api_token", "activation_code"})
#: How long after it was made a secret still opens: time to switch the language on its page, not to come back later.
SHOWN_FOR = 600


def _cipher() -> AESGCM:
    secret = current_app.secret_key
    material = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"oms shown-once secrets").derive(material)
    return AESGCM(key)


def _bound(name: str) -> bytes:
    """What the sealed value is bound to: its name and this login session."""
    return f"{name}\0{session.get(SESSION_ID, '')}".encode()


def keep(name: str, value: dict[str, str]) -> None:
    """Seal `value` into the session for the next page to show once."""
    assert name in NAMES, name  # a programming error: the language switch carries only NAMES
    nonce = os.urandom(_NONCE)
    sealed_at = {"value": value, "made": int(time.time())}
    sealed = _cipher().encrypt(nonce, json.dumps(sealed_at).encode("utf-8"), _bound(name))
    session[_PREFIX + name] = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def take(name: str) -> dict[str, str] | None:
    """The value kept under `name`, taken out of the session; None if there is none (a reload), it was sealed for
    another login session, or longer ago than SHOWN_FOR. The page showing it carries it, sealed, in its language
    switch."""
    kept = session.pop(_PREFIX + name, None)
    if not isinstance(kept, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(kept)
        sealed_at = json.loads(_cipher().decrypt(raw[:_NONCE], raw[_NONCE:], _bound(name)))
    except (InvalidTag, ValueError):
        return None
    if not 0 <= time.time() - sealed_at["made"] <= SHOWN_FOR:
        return None
    g.shown_once = f"{name}:{kept}"  # templates/base.html: the language switch's field CARRIED
    return sealed_at["value"]  # type: ignore[no-any-return]


#: The language switch's field that carries a shown secret back, sealed; and the most of it kept (a token
#: sealed is some 200 characters): the session cookie is not to be filled with whatever is posted.
CARRIED = "shown_once"
_CARRIED_MAX = 1024


def carry_over(carried: str) -> None:
    """The secret a page showed, posted back by its language switch (`name:sealed`), kept again for that page.
    It opens only in the login session it was sealed in, under the name it was sealed with (`take`)."""
    name, _, kept = carried.partition(":")
    if name in NAMES and 0 < len(kept) <= _CARRIED_MAX:
        session[_PREFIX + name] = kept


def not_stored(response: Response) -> Response:
    """A page showing a secret: no cache keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response
