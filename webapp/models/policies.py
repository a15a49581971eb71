from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.organisations import Insurer
from webapp.models.people import Person


class PolicyKind(StrEnum):
    POLICY = "policy"
    TEMPORARY_CERTIFICATE = "temporary_certificate"


class PolicyStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # military service
    TERMINATED = "terminated"  # death, or the right ended
    CLOSED = "closed"  # replaced by a newer policy (a new insurer, the policy after a certificate)


class CodeStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"
    #: Its policy was suspended: listed as such; resuming supersedes it with the next serial.
    SUSPENDED = "suspended"
    #: Its policy was terminated: listed as such, for good.
    TERMINATED = "terminated"


class StatusCause(StrEnum):
    """Why a code left the current state, where a verifier says more than its status: "" for the plain ones."""

    NONE = ""
    #: The holder's data changed (a new surname, a corrected birth date): the new code carries the new data.
    DATA_CHANGE = "data_change"


class Policy(db.Model):
    """One policy (or temporary certificate) held with one insurer.

    A person has at most one open (not closed) policy at a time.
    """

    __tablename__ = "policies"
    __table_args__ = (
        Index(
            "uq_policies_one_open_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default=PolicyStatus.ACTIVE)
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    #: The partition key (docs/scaling.md): its person's.
    region_code: Mapped[str] = mapped_column(String(2), default="", server_default="")

    person: Mapped[Person] = relationship()
    insurer: Mapped[Insurer] = relationship()


class IssuedCode(db.Model):
    """A signed code. Serials count per person across insurers; one is current at most."""

    __tablename__ = "issued_codes"
    __table_args__ = (
        UniqueConstraint("person_id", "serial"),
        Index(
            "uq_issued_codes_one_current_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'current'"),
            postgresql_where=text("status = 'current'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    serial: Mapped[int]
    kid: Mapped[str] = mapped_column(String(16), index=True)
    issued_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=CodeStatus.CURRENT)
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    status_changed_at: Mapped[datetime | None]
    #: A StatusCause: why it left the current state, when a verdict says so (a data change, not a reissue).
    status_cause: Mapped[str] = mapped_column(String(20), default=StatusCause.NONE)
    text: Mapped[str] = mapped_column(String(1000))
    #: SHA-256 of the code text, which verification compares with the scanned text's: not unique, and not
    #: indexed, as no read looks a code up by it (migration 0014).
    text_hash: Mapped[str] = mapped_column(String(64))
    #: The partition key (docs/scaling.md): its policy's, its person's.
    region_code: Mapped[str] = mapped_column(String(2), default="", server_default="")

    person: Mapped[Person] = relationship()
    policy: Mapped[Policy] = relationship()


class InsurerChange(db.Model):
    """A change of insurer, kept to apply the once-a-year rule."""

    __tablename__ = "insurer_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    from_insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"))
    to_insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"))
    applied_on: Mapped[date]
    #: "moved_region" or "insurer_left" lift the once-a-year limit; "" is an ordinary change.
    exception: Mapped[str] = mapped_column(String(30), default="")


class RevocationEvent(db.Model):
    """A code leaving the current state (revoked, superseded, or its policy suspended or terminated), and a
    suspended code leaving that state, in order: the revocation list's feed, under the heading `status`.

    The id is the list's cursor: `?since=<id>` returns only what came after.
    """

    __tablename__ = "revocation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("issued_codes.id"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(8))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    #: The partition key (docs/scaling.md): its code's.
    region_code: Mapped[str] = mapped_column(String(2), default="", server_default="")


class RevocationSnapshot(db.Model):
    """The revocation list's digests from the first event up to `cursor`, under each heading, in event order:
    built by a job (webapp/registry/keys/revocation_snapshots.py), so that the full list (`?since=0`) is this
    row and the few events after it, not every event the registry ever recorded read per request."""

    __tablename__ = "revocation_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    cursor: Mapped[int] = mapped_column(unique=True)
    built_at: Mapped[datetime]
    revoked: Mapped[bytes] = mapped_column(LargeBinary)
    terminated: Mapped[bytes] = mapped_column(LargeBinary)
    superseded: Mapped[bytes] = mapped_column(LargeBinary)
    suspended: Mapped[bytes] = mapped_column(LargeBinary)


class ClinicCheck(db.Model):
    """One verification at a clinic's desk: time, verdict, why and a masked number, nothing else."""

    __tablename__ = "clinic_checks"
    #: A clinic's number look-ups of one day, counted against its ceiling (webapp/registry/clinic_checks.py).
    __table_args__ = (Index("ix_clinic_checks_clinic_shown_at", "clinic_id", "shown", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    at: Mapped[datetime]
    verdict: Mapped[str] = mapped_column(String(30))
    shown: Mapped[str] = mapped_column(String(20))
    masked_enp: Mapped[str] = mapped_column(String(20), default="")
    #: The registry's cause of the verdict (policy_codes/verdicts.py Cause), so the history says what the desk read:
    #: «Данные изменились», not «Код заменён». "" for none, and for checks kept before it was (migration 0022).
    cause: Mapped[str] = mapped_column(String(20), default="", server_default="")
    #: The partition key (docs/scaling.md): the clinic's region.
    region_code: Mapped[str] = mapped_column(String(2), default="", server_default="")
