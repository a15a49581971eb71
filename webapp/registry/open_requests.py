"""Citizens' open requests, for a new code or to change their data, of the people an insurer holds now (a transfer
takes them along): listed oldest first on the insurer's requests page, counted on its link.

The one rule of which requests still wait (`stands`): a request stands while its filer may act for the person,
being the person themself, or a representative whose link to them is in force today (`Representation.lasting_on`),
or unknown (filed before migration 0021: as before). A parent's request for a child who has since come of age, or
whose link the insurer ended or a corrected birth date ended, is read as no longer open, from the day the link
ends, with nothing run on that day: the insurer cannot answer it (`require_standing`), and the person may file
their own, which closes it as lapsed (`lapse`). A link in force again (the parent named the grown person's
guardian) makes it stand again: its filer acts for the person again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select, update
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import DataChangeRequest, Person, ReissueRequest, Representation, RequestStatus
from webapp.registry import clock
from webapp.registry.errors import N_, RegistryError

Request = TypeVar("Request", ReissueRequest, DataChangeRequest)

#: The most lapsed requests a person's page names, newest first: a few at most are ever made.
LAPSED_SHOWN = 5

FILER_NO_LONGER_REPRESENTS = N_("Заявку подал представитель, чьё представительство прекращено: её нельзя принять")


def _today() -> date:
    return clock.today_in_moscow(clock.now())


def stands(kind: type[Request], today: date) -> ColumnElement[bool]:
    """Whether the request's filer may act for its person on `today` (the module's rule)."""
    represents = exists().where(
        Representation.representative_id == kind.filed_by_id,
        Representation.represented_id == kind.person_id,
        Representation.lasting_on(today),
    )
    return or_(kind.filed_by_id.is_(None), kind.filed_by_id == kind.person_id, represents)


def waiting(kind: type[Request], today: date | None = None) -> ColumnElement[bool]:
    """Open and standing: what the insurer answers, and what keeps the person from filing another."""
    return and_(kind.status == RequestStatus.OPEN, stands(kind, today or _today()))


def shown(kind: type[Request], today: date | None = None) -> ColumnElement[bool]:
    """The requests the person's card may show as their latest: answered ones, and those still waiting."""
    return and_(
        kind.status != RequestStatus.LAPSED, or_(kind.status != RequestStatus.OPEN, stands(kind, today or _today()))
    )


def open_of(kind: type[Request], person_id: int) -> Request | None:
    """The person's request of this kind still waiting, if any (one at a time)."""
    return db.session.scalar(select(kind).where(kind.person_id == person_id, waiting(kind)))


def require_standing(request: ReissueRequest | DataChangeRequest) -> None:
    """Refuse, in words, an answer to an open request whose filer no longer represents the person."""
    kind = type(request)
    if not db.session.scalar(select(stands(kind, _today())).where(kind.id == request.id)):
        raise RegistryError(FILER_NO_LONGER_REPRESENTS)


def lapse(kind: type[Request], person_id: int, at: datetime) -> None:
    """Close as lapsed the person's open requests that no longer stand, as the person files their own: one open
    request per person is what the database keeps."""
    db.session.execute(
        update(kind)
        .where(
            kind.person_id == person_id,
            kind.status == RequestStatus.OPEN,
            not_(stands(kind, clock.today_in_moscow(at))),
        )
        .values(status=RequestStatus.LAPSED, closed_at=at)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class Lapsed:
    """A representative's request that lapsed, for the insurer's page: what it asked, filed when, and the day it
    stopped being open; nothing of what it said, which its filer may no longer say for the person."""

    kind: Literal["reissue", "data_change"]
    filed_at: datetime
    lapsed_on: date


_KINDS: tuple[tuple[type[ReissueRequest] | type[DataChangeRequest], Literal["reissue", "data_change"]], ...] = (
    (ReissueRequest, "reissue"),
    (DataChangeRequest, "data_change"),
)


def lapsed_of(person_id: int) -> list[Lapsed]:
    """The person's lapsed requests of both kinds, newest first, LAPSED_SHOWN at most: those closed as lapsed
    (`lapse`), on the day they were closed, and one still open whose filer no longer represents the person, from the
    first day the link was not in force (the module's rule; the day it was filed, if the registry knows no link)."""
    today = _today()
    found: list[Lapsed] = []
    for kind, name in _KINDS:
        closed = (
            select(kind.created_at, kind.closed_at)
            .where(kind.person_id == person_id, kind.status == RequestStatus.LAPSED, kind.closed_at.is_not(None))
            .order_by(kind.closed_at.desc())
            .limit(LAPSED_SHOWN)
        )
        found += [
            Lapsed(name, filed_at, clock.today_in_moscow(closed_at))
            for filed_at, closed_at in db.session.execute(closed)
        ]
        link_end = (
            select(Representation.valid_to)
            .where(Representation.representative_id == kind.filed_by_id, Representation.represented_id == person_id)
            .scalar_subquery()
        )
        no_longer_standing = select(kind.created_at, link_end).where(
            kind.person_id == person_id, kind.status == RequestStatus.OPEN, not_(stands(kind, today))
        )
        found += [
            Lapsed(name, filed_at, last_day + timedelta(days=1) if last_day else clock.today_in_moscow(filed_at))
            for filed_at, last_day in db.session.execute(no_longer_standing)
        ]
    return sorted(found, key=lambda lapsed: (lapsed.lapsed_on, lapsed.filed_at), reverse=True)[:LAPSED_SHOWN]


def _open(kind: type[Request], insurer_id: int) -> Select[tuple[Request]]:
    return select(kind).join(Person, Person.id == kind.person_id).where(waiting(kind), Person.insurer_id == insurer_id)


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
