from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db


class Region(db.Model):
    """A subject of the federation; the registry is segmented by region."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Insurer(db.Model):
    """A medical insurer (СМО), known by its 5-digit register code."""

    __tablename__ = "insurers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(5), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    active: Mapped[bool] = mapped_column(default=True)

    region: Mapped[Region | None] = relationship()

    @property
    def region_code(self) -> str:
        """The partition its insured persons and their rows lie in ("" for none: the DEFAULT partition)."""
        return self.region.code if self.region else ""


#: Number look-ups a clinic may make in a Moscow day until the registry operator raises it
#: (webapp/registry/clinic_checks.py).
DEFAULT_LOOK_UP_CEILING = 2000


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    daily_look_up_ceiling: Mapped[int] = mapped_column(
        default=DEFAULT_LOOK_UP_CEILING, server_default=str(DEFAULT_LOOK_UP_CEILING)
    )
    #: The Moscow day the ceiling was last reached: the clinic is refused without counting, and noted once.
    ceiling_reached_on: Mapped[date | None]

    region: Mapped[Region | None] = relationship()

    @property
    def region_code(self) -> str:
        """The partition its checks lie in ("" for none)."""
        return self.region.code if self.region else ""
