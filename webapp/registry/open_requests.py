"""Citizens' open requests, for a new code or to change their data, of the people an insurer holds now (a transfer
takes them along): listed oldest first on the insurer's requests page, counted on its link."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import DataChangeRequest, Person, ReissueRequest, RequestStatus

Request = TypeVar("Request", ReissueRequest, DataChangeRequest)


def _open(kind: type[Request], insurer_id: int) -> Select[tuple[Request]]:
    return (
        select(kind)
        .join(Person, Person.id == kind.person_id)
        .where(kind.status == RequestStatus.OPEN, Person.insurer_id == insurer_id)
    )


def listed(kind: type[Request], insurer_id: int) -> list[Request]:
    """The insurer's open requests of one kind, oldest first, each with its person."""
    ordered = _open(kind, insurer_id).options(joinedload(kind.person)).order_by(kind.created_at, kind.id)
    return list(db.session.scalars(ordered))


def count(insurer_id: int) -> int:
    """How many requests of both kinds wait for the insurer's answer."""
    return sum(
        db.session.scalar(select(func.count()).select_from(_open(kind, insurer_id).subquery())) or 0
        for kind in (ReissueRequest, DataChangeRequest)
    )
