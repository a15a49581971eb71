from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, String, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policy_codes import Enp, FullName
from webapp.extensions import db
from webapp.models.organisations import Insurer, Region


class Category(StrEnum):
    """The registry CSV's `category`: it decides how long a policy runs."""

    CITIZEN = "citizen"
    FOREIGN_PERMANENT = "foreign_permanent"
    FOREIGN_TEMPORARY = "foreign_temporary"
    STATELESS_PERMANENT = "stateless_permanent"
    STATELESS_TEMPORARY = "stateless_temporary"
    REFUGEE = "refugee"
    EAEU_WORKER = "eaeu_worker"


class Person(db.Model):
    """An insured person. `insurer` is the insurer holding their record now."""

    __tablename__ = "persons"
    __table_args__ = (CheckConstraint("sex IN ('M', 'F')", name="ck_persons_sex"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enp: Mapped[str] = mapped_column(String(16), unique=True)
    surname: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    patronymic: Mapped[str] = mapped_column(String(40), default="")
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    snils: Mapped[str | None] = mapped_column(String(11), index=True)
    category: Mapped[str] = mapped_column(String(30))
    right_valid_until: Mapped[date | None]
    birth_registered_on: Mapped[date | None]
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    #: The partition key: the code of the region of the person's insurer ("" for none). Every row of the
    #: person's (policies, codes, their events) carries the same and moves with it (docs/scaling.md).
    region_code: Mapped[str] = mapped_column(String(2), default="", server_default="")

    insurer: Mapped[Insurer] = relationship()
    region: Mapped[Region | None] = relationship()

    @property
    def name(self) -> FullName:
        return FullName(self.surname, self.given_name, self.patronymic)

    @property
    def enp_value(self) -> Enp:
        return Enp(self.enp)


class EnpDirectory(db.Model):
    """The country-wide ЕНП → region directory, kept by triggers on persons (migrations/versions/
    0012_region_partitions.py): it keeps ЕНП unique across the region partitions, gives a number look-up its
    region, and is what the other tables' references to a person point at on PostgreSQL."""

    __tablename__ = "enp_directory"

    enp: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(2))
    person_id: Mapped[int] = mapped_column(unique=True)


class SnilsDirectory(db.Model):
    """The country-wide СНИЛС → person directory, kept by triggers on persons (migrations/versions/
    0019_snils_directory.py): one insured person per СНИЛС, whatever their region. Persons who shared a СНИЛС
    before it existed are left as they were: it holds the first of them (`flask registry shared-snils` lists them)."""

    __tablename__ = "snils_directory"

    snils: Mapped[str] = mapped_column(String(11), primary_key=True)
    person_id: Mapped[int] = mapped_column(unique=True)


class Representation(db.Model):
    """A representative (parent, guardian) and a person they act for, up to `valid_to`."""

    __tablename__ = "representations"
    __table_args__ = (UniqueConstraint("representative_id", "represented_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    representative_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    represented_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    #: The link's last day: a child's 18th birthday's eve (rules.representation_until); None for an adult's guardian.
    valid_to: Mapped[date | None]
    #: The grounds the link was ended on (a key of reasons.ENDED_REPRESENTATION: the insurer's, or the representative's
    #: own refusal): a file does not make such a link again (webapp/registry/lifecycle.py); None for a link in force,
    #: or one that ran out.
    ended_grounds: Mapped[str | None] = mapped_column(String(32))

    representative: Mapped[Person] = relationship(foreign_keys=[representative_id])
    represented: Mapped[Person] = relationship(foreign_keys=[represented_id])

    @classmethod
    def lasting_on(cls, day: date) -> ColumnElement[bool]:
        """The links in force on `day`: a grown child is no longer their parent's to see or act for."""
        return or_(cls.valid_to.is_(None), cls.valid_to >= day)
