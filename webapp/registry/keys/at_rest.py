"""Private keys at rest: encrypted again under the current passphrase and cost, all in one go.

A key is encrypted when it is made, under SIGNING_KEY_PASSPHRASE at the cost of the time (signing/keys.py);
keys stored before the cost was raised (PBKDF2, 2048 rounds) are still read as they are. `flask keys
reencrypt` rewrites them all at today's cost, and, given the passphrase they are under now, moves them to a
new SIGNING_KEY_PASSPHRASE: the way out of a weak one, which the server no longer starts with
(webapp/config.py). A one-off command rather than a rewrite on first use: the signing path stays a reader,
workers do not race to rewrite the same row, and a changed passphrase needs the old one, which no server has.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from signing import SigningError, SigningKey
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import SigningKeyRecord
from webapp.registry import audit
from webapp.registry.errors import N_, RegistryError
from webapp.registry.keys.keystore import public_key_of


@atomic
def reencrypt_all(actor: str, old_passphrase: str | None = None) -> int:
    """Encrypt every private key again under the configured passphrase and cost; how many there are.

    Each is opened with `old_passphrase` if given, else the configured one. One key that does not open
    refuses the whole: none is rewritten.
    """
    config = current_app.config
    current = config["SIGNING_KEY_PASSPHRASE"].encode("utf-8")
    opening = current if old_passphrase is None else old_passphrase.encode("utf-8")
    records = db.session.scalars(select(SigningKeyRecord).order_by(SigningKeyRecord.id)).all()
    for record in records:
        try:
            key = SigningKey.from_encrypted_pem(record.encrypted_private_pem, opening, public_key_of(record))
        except SigningError:
            raise RegistryError(N_("Ключ %(kid)s не открывается этой парольной фразой"), kid=record.kid) from None
        record.encrypted_private_pem = key.to_encrypted_pem(current, config["SIGNING_KEY_ENCRYPTION"])
    details = {"keys": len(records), "new_passphrase": old_passphrase is not None}
    audit.record(actor, "reencrypt_keys", "signing_keys", "all", details=details)
    return len(records)
