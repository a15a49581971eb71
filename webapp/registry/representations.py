"""When a representation (a parent's, a guardian's) ends: at the child's majority, moved when their birth date is
corrected, or on the insurer's word (a court ended a guardianship, a parent's link made before migration 0020 to a
child now grown up, a link entered in error).

A link in force on a day is one whose `valid_to` is none or not before it (`Representation.lasting_on`). A link the
insurer ends gets the day before as its last, so that the former representative loses the person's policy, code and
data at once, on the next page they open (nothing keeps the links in a worker's memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from webapp.db.transactions import atomic, locked, serialised
from webapp.extensions import db
from webapp.models import Person, Representation
from webapp.registry import audit, clock, people, reasons
from webapp.registry.errors import N_, NotFound, RegistryError
from webapp.registry.rules import coming_of_age, majority_eve, representation_until

NO_SUCH_LINK = N_("Такого представительства в реестре нет")
ALREADY_ENDED = N_("Это представительство уже прекращено: его последний день — %(day)s")
NOT_OF_AGE = N_("Представляемому ещё нет 18 лет: основание «совершеннолетие» к нему не подходит")
#: The grounds that say the represented person has come of age.
OF_AGE = "of_age"
ANOTHER_INSURER = N_("Представляемого ведёт другая СМО: прекратить представительство может только она")
CIRCLE = N_(
    "представительство не может идти по кругу: этот человек уже представляет своего представителя, прямо или через "
    "других"
)
#: A file naming a representative again whose link was ended on grounds (webapp/registry/lifecycle.py `_link`).
ENDED_ON_GROUNDS = N_(
    "представительство этого представителя прекращено, его последний день — %(day)s; файл его не возвращает: "
    "восстановить его можно на странице застрахованного"
)
ANOTHER_INSURER_RESTORES = N_("Представляемого ведёт другая СМО: восстановить представительство может только она")
#: A restore's reason that does not fit how the link ended.
NOT_ENDED_BY_STAFF = N_(
    "Это представительство прекратили не сотрудники: от него отказался сам представитель. Причина — «Представитель "
    "отказался по ошибке» или «Другое»"
)
NOT_DECLINED = N_(
    "Представитель от этого представительства не отказывался: его прекратили сотрудники. Причина — «Прекращено по "
    "ошибке» или «Другое»"
)
NOT_RESTORABLE = N_("Это представительство не прекращено по основанию: восстанавливать нечего")


def follow_birth_date(person: Person, born_before: date, today: date) -> list[dict[str, str | None]]:
    """Move the last day of `person`'s links that end at their majority to the majority of their corrected birth
    date, in the caller's transaction: a link then past its last day (the corrected date makes them an adult) is
    ended. A guardian's link with no end keeps none, and one the insurer ended keeps its day, except one it ended
    as of age (`OF_AGE`) for someone the corrected date makes a minor: the grounds were the wrong date's, and the
    link runs again to the new majority. A link brought back by a minor's date stays ended if it would close a
    circle: the grown child may have become that parent's guardian meanwhile.

    Returns each link moved, for the correction's audit entry: its representative's ЕНП and new last day
    (`representative`, `valid_to`, as `restore`'s entry names them), the last day before (`valid_to_was`: a day to
    come for a link not yet ended), and the grounds undone if it had been ended as of age (`ended_grounds`). ISO
    dates."""
    serialised("representations")  # as a new link: one made meanwhile and the one brought back could close a circle
    eve = majority_eve(person.birth_date)
    ran_out = and_(Representation.valid_to == majority_eve(born_before), Representation.ended_grounds.is_(None))
    moved = select(Representation).where(
        Representation.represented_id == person.id, or_(ran_out, Representation.ended_grounds == OF_AGE)
    )
    trail: list[dict[str, str | None]] = []
    for link in db.session.scalars(moved):
        if link.ended_grounds == OF_AGE and today > eve:
            continue  # of age by the corrected date too
        unchanged = (link.valid_to, link.ended_grounds) == (eve, None)  # two birth dates can share a majority
        brought_back = link.valid_to is not None and link.valid_to < today <= eve
        if unchanged or (brought_back and represents(person, link.representative, today)):
            continue
        move = {"representative": link.representative.enp, "valid_to": _iso(eve), "valid_to_was": _iso(link.valid_to)}
        if link.ended_grounds is not None:
            move["ended_grounds"] = link.ended_grounds  # undone
        trail.append(move)
        link.valid_to = eve
        link.ended_grounds = None
    return trail


def _iso(day: date | None) -> str | None:
    return day and day.isoformat()


def represents(someone: Person, other: Person, today: date) -> bool:
    """Whether `someone` represents `other` today, directly or through those who represent `other`: a link from
    `other` to `someone` would close a circle, each of them seeing the other's policy as a representative does. A
    link ended at majority counts no more: a grown son may become his mother's guardian."""
    seen: set[int] = set()
    frontier = {other.id}
    while frontier:
        above = set(
            db.session.scalars(
                select(Representation.representative_id).where(
                    Representation.represented_id.in_(frontier), Representation.lasting_on(today)
                )
            )
        )
        if someone.id in above:
            return True
        frontier = above - seen
        seen |= above
    return False


def _person(enp: str) -> Person:
    """Either side of a link, named by ЕНП: an unknown number is no link, said as for a known one."""
    try:
        return people.person_by_enp(enp)
    except NotFound:
        raise RegistryError(NO_SUCH_LINK) from None


@dataclass(frozen=True)
class Link:
    """A representation and its two sides, as the pages that end and restore it name them."""

    representative: Person
    represented: Person
    row: Representation


def _between(
    representative_enp: str, represented_enp: str, scope: str | None, lock: bool, another_insurer: str = ANOTHER_INSURER
) -> Link:
    """The link from one to the other, in force or not, if `scope`'s to change (staff change only the links of the
    insured their insurer holds the record of: the represented person's); refused in words otherwise."""
    representative, represented = _person(representative_enp), _person(represented_enp)
    mine = and_(Representation.representative_id == representative.id, Representation.represented_id == represented.id)
    row = db.session.scalar(locked(Representation, mine) if lock else select(Representation).where(mine))
    if row is None:
        raise RegistryError(NO_SUCH_LINK)
    if scope is not None and represented.insurer.code != scope:
        raise RegistryError(another_insurer)
    return Link(representative, represented, row)


def endable(representative_enp: str, represented_enp: str, scope: str | None, today: date, lock: bool = False) -> Link:
    """The link from one to the other, if it is in force today and `scope`'s to end; refused in words otherwise."""
    link = _between(representative_enp, represented_enp, scope, lock)
    if link.row.valid_to is not None and link.row.valid_to < today:
        raise RegistryError(ALREADY_ENDED, day=link.row.valid_to.strftime("%d.%m.%Y"))
    return link


def grounds_for(link: Link, today: date) -> dict[str, str]:
    """The grounds staff may end `link` on today (reasons.END_REPRESENTATION): «Совершеннолетие» only for someone of
    age, which `end` would refuse otherwise."""
    of_age = coming_of_age(link.represented.birth_date) <= today
    return {key: words for key, words in reasons.END_REPRESENTATION.items() if key != OF_AGE or of_age}


def ended_on_grounds(row: Representation) -> bool:
    """Whether `row` was ended on grounds a file does not undo (a court, a registry error, the representative's own
    refusal): only the insurer's restore makes it again. So too once a child it was ended for has come of age: a
    file naming the parent for the adult would make them a guardian with no end, undoing the court's decision. A
    link ended as of age is not: it ran out, and a file naming the parent for the adult makes them a guardian."""
    return row.ended_grounds is not None and row.ended_grounds != OF_AGE and row.valid_to is not None


def restorable(representative_enp: str, represented_enp: str, scope: str | None, lock: bool = False) -> Link:
    """The link from one to the other, if it was ended on grounds and `scope`'s to restore; refused otherwise."""
    link = _between(representative_enp, represented_enp, scope, lock, ANOTHER_INSURER_RESTORES)
    if not ended_on_grounds(link.row):
        raise RegistryError(NOT_RESTORABLE)
    return link


def reasons_to_restore(link: Link) -> dict[str, str]:
    """Why staff may restore `link` (reasons.RESTORE_REPRESENTATION): a refusal by mistake for a link its
    representative refused, an end by mistake for one staff ended, or words of their own."""
    declined = link.row.ended_grounds == reasons.DECLINED
    wrong = reasons.ENDED_IN_ERROR if declined else reasons.DECLINED_IN_ERROR
    return {key: words for key, words in reasons.RESTORE_REPRESENTATION.items() if key != wrong}


def ended_links_of(person: Person) -> list[tuple[str, Person, Representation]]:
    """The links of `person` ended on grounds (`ended_on_grounds`), as (side, the other person, the link): side
    "representative" for those who represented them, "dependant" for those they represented; the latest ended
    first."""
    rows = db.session.scalars(
        select(Representation)
        .where(
            (Representation.represented_id == person.id) | (Representation.representative_id == person.id),
            Representation.ended_grounds.is_not(None),
        )
        .order_by(Representation.valid_to.desc(), Representation.id)
        .options(selectinload(Representation.representative), selectinload(Representation.represented))
    )
    return [
        ("representative", row.representative, row)
        if row.represented_id == person.id
        else ("dependant", row.represented, row)
        for row in rows
        if ended_on_grounds(row)
    ]


def end(
    representative_enp: str,
    represented_enp: str,
    grounds: str,
    actor: str,
    scope: str | None = None,
    now: datetime | None = None,
) -> date:
    """End a representation in force on the insurer's or the operator's word: `grounds`, a key of
    reasons.END_REPRESENTATION. Its last day becomes the day before today (Moscow's), and the representative loses
    the person at once. Returns that day."""
    return _end(representative_enp, represented_enp, reasons.END_REPRESENTATION, grounds, actor, scope, now)


def decline(representative_enp: str, represented_enp: str, actor: str, now: datetime | None = None) -> date:
    """End the representative's own link in their word (reasons.DECLINED): nobody else may give it for them. The
    caller has checked that the link is theirs (the citizen's page shows only their own)."""
    choices = reasons.DECLINED_BY_REPRESENTATIVE
    return _end(representative_enp, represented_enp, choices, reasons.DECLINED, actor, None, now)


@atomic
def _end(
    representative_enp: str,
    represented_enp: str,
    choices: Mapping[str, str],
    grounds: str,
    actor: str,
    scope: str | None,
    now: datetime | None,
) -> date:
    reason = reasons.recorded(choices, grounds)
    moment = clock.now(now)
    today = clock.today_in_moscow(moment)
    serialised("representations")  # a birth date corrected meanwhile read the link before, and moved it over this end
    link = endable(representative_enp, represented_enp, scope, today, lock=True)
    if grounds == OF_AGE and coming_of_age(link.represented.birth_date) > today:
        raise RegistryError(NOT_OF_AGE, field="reason")
    link.row.valid_to = today - timedelta(days=1)
    link.row.ended_grounds = grounds
    db.session.flush()
    details = {"representative": link.representative.enp, "valid_to": link.row.valid_to.isoformat()}
    audit.record(actor, "end_representation", "person", link.represented.enp, reason, details, at=moment)
    return link.row.valid_to


def restored_until(link: Link, today: date) -> date | None:
    """The last day a link restored `today` has: as long as a new one would last (rules.representation_until: a
    child's to the eve of their majority; an adult's guardian's with no end). The restore page says it beforehand."""
    return representation_until(link.represented.birth_date, today)


@atomic
def restore(
    representative_enp: str,
    represented_enp: str,
    why: str,
    actor: str,
    details: str = "",
    scope: str | None = None,
    now: datetime | None = None,
) -> date | None:
    """Make a link ended on grounds by mistake again, from today until `restored_until`, for the reason `why` (a key
    of `reasons_to_restore`; «другое» in the words of `details`). Returns its new last day."""
    moment = clock.now(now)
    today = clock.today_in_moscow(moment)
    serialised("representations")  # as a new link: two made meanwhile could close a circle with this one
    link = restorable(representative_enp, represented_enp, scope, lock=True)
    fitting = reasons_to_restore(link)
    if why in reasons.RESTORE_REPRESENTATION and why not in fitting:  # offered elsewhere (the command's list)
        raise RegistryError(NOT_ENDED_BY_STAFF if why == reasons.ENDED_IN_ERROR else NOT_DECLINED, field="reason")
    reason = reasons.recorded(fitting, why, details)
    if represents(link.represented, link.representative, today):
        raise RegistryError(CIRCLE)
    undone = {"ended_grounds": link.row.ended_grounds, "ended_on": link.row.valid_to.isoformat()}
    link.row.valid_to = restored_until(link, today)
    link.row.ended_grounds = None
    db.session.flush()
    trail = {"representative": link.representative.enp, "valid_to": _iso(link.row.valid_to), **undone}
    audit.record(actor, "restore_representation", "person", link.represented.enp, reason, trail, at=moment)
    return link.row.valid_to
