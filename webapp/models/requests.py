"""What a citizen asks of their insurer, and what an insurer hands a citizen to open an account."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.organisations import Insurer
from webapp.models.people import Person


class RequestStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # the insurer reissued the code
    DECLINED = "declined"
    #: Filed by a representative whose representation ended before it was answered; closed so when the person
    #: filed their own (webapp/registry/open_requests.py).
    LAPSED = "lapsed"


class ReissueRequest(db.Model):
    """A citizen's request for a new code (a lost phone, a stolen screenshot), for their insurer to act on."""

    __tablename__ = "reissue_requests"
    #: The insurer's list and count of open requests find them by status: open ones are few among all ever made.
    __table_args__ = (
        Index(
            "ix_reissue_requests_open",
            "created_at",
            "id",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.OPEN)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    #: Why staff declined it, for the citizen to read ("" for an open or a done request, and those declined
    #: before a reason was asked for).
    decline_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: Who filed it: the person, or a representative of theirs (None: filed before migration 0021, not known).
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    insurer: Mapped[Insurer] = relationship()


class ActivationCode(db.Model):
    """A one-time code an insurer gives a person to open their account; only its hash is stored."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    #: Who issued it, as the audit log names them: a code ends when the operator disables the login that issued it.
    issued_by: Mapped[str] = mapped_column(String(100), default="", server_default="")

    person: Mapped[Person] = relationship()
