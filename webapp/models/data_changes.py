"""Changes to a person's own data (a new surname, a corrected birth date), the names they had before, and the
citizen's request to change them (webapp/registry/data_changes.py, docs/domain.md «Изменение данных»)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.organisations import Insurer
from webapp.models.people import Person
from webapp.models.requests import RequestStatus


class DocumentColumns:
    """The document that justified a change: kind, series, number, date and issuer. It goes to the audit trail
    and to these rows, never into a code. Empty for a registry import, whose file is its ground."""

    document_kind: Mapped[str] = mapped_column(String(30), default="")
    document_series: Mapped[str] = mapped_column(String(20), default="")
    document_number: Mapped[str] = mapped_column(String(30), default="")
    document_issued_on: Mapped[date | None] = mapped_column(default=None)
    document_issuer: Mapped[str] = mapped_column(String(200), default="")


class PersonDataChange(DocumentColumns, db.Model):
    """One change of a person's data: what it was, what it became, why, on which document, and the code that
    followed (None: the policy was not in force, so no code was signed)."""

    __tablename__ = "person_data_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    #: A ChangeReason value (webapp/registry/data_changes.py).
    reason: Mapped[str] = mapped_column(String(30))
    #: The words for «другое», or the import's file name.
    reason_text: Mapped[str] = mapped_column(String(500), default="")
    #: The changed fields only, as text: {"surname": "ИВАНОВА", ...}.
    old_values: Mapped[dict] = mapped_column(JSON, default=dict)
    new_values: Mapped[dict] = mapped_column(JSON, default=dict)
    new_serial: Mapped[int | None]
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_change_requests.id"))

    person: Mapped[Person] = relationship()


class FormerName(db.Model):
    """A name and birth date a person had until `changed_on` (Moscow date): what an insurer may still search by."""

    __tablename__ = "former_names"
    __table_args__ = (Index("ix_former_names_surname_birth_date", "surname", "birth_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    surname: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    patronymic: Mapped[str] = mapped_column(String(40), default="")
    birth_date: Mapped[date]
    changed_on: Mapped[date]

    person: Mapped[Person] = relationship()


class DataChangeRequest(DocumentColumns, db.Model):
    """A citizen tells their insurer their data changed, with the new data and the document; one open per person.

    Accepting it runs the same change as staff's (webapp/registry/data_changes.py); declining it records a
    reason the citizen sees.
    """

    __tablename__ = "data_change_requests"
    __table_args__ = (
        Index(
            "uq_data_change_requests_one_open_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"), index=True)
    surname: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    patronymic: Mapped[str] = mapped_column(String(40), default="")
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    reason: Mapped[str] = mapped_column(String(30))
    reason_text: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.OPEN)
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    #: Who filed it: the person, or a representative of theirs (None: filed before migration 0021, not known).
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    insurer: Mapped[Insurer] = relationship()
