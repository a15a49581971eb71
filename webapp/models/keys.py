from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.organisations import Insurer


class SigningKeyRecord(db.Model):
    """A signing key. The private half is PKCS#8 PEM encrypted with SIGNING_KEY_PASSPHRASE.

    `owner` is an insurer code, or "registry" for the operator's own key.
    """

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    owner: Mapped[str] = mapped_column(String(20), index=True)
    insurer_id: Mapped[int | None] = mapped_column(ForeignKey("insurers.id"))
    public_key_der: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted_private_pem: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime]

    insurer: Mapped[Insurer | None] = relationship()


class KeyChanges(db.Model):
    """One row counting every change to the signing keys (a key made, a status changed).

    The trust list's version (its ETag, and each worker's cache key) is this count: unlike the number of
    keys or the newest change time, it moves on every change, two in the same second included.
    """

    __tablename__ = "key_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
