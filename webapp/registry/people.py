"""The registry's people, as its services read them: one person, their open policy and current code,
a newborn's cover, the audit trail their insurer reads, and a person's checked fields as a form, the CSV
or the CLI give them.

Reads only: every change is webapp/registry/lifecycle.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from policy_codes import Enp, FullName, InvalidValue, Snils
from policy_codes.claims import INSURER_CODE_LENGTH
from policy_codes.enp import as_typed
from webapp.db.published_reads import ReadSession
from webapp.db.transactions import locked
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Category,
    CodeStatus,
    EnpDirectory,
    FormerName,
    Insurer,
    IssuedCode,
    Person,
    Policy,
    PolicyStatus,
    Representation,
    SnilsDirectory,
)
from webapp.registry import clock
from webapp.registry.errors import N_, InvalidFields, NotFound, RegistryError, checked, quoted
from webapp.registry.name_hyphens import require_hyphens_between_letters
from webapp.registry.rules import newborn_cover_last_day, require_past_day


@dataclass(frozen=True)
class PersonData:
    """A person's registry fields, checked. Built from the CSV, a form or the CLI."""

    enp: Enp
    name: FullName
    birth_date: date
    sex: str
    snils: Snils | None
    category: Category
    right_valid_until: date | None = None
    birth_registered_on: date | None = None

    def __post_init__(self) -> None:
        if self.sex not in ("M", "F"):
            raise InvalidValue(N_("Укажите пол (в файле: M или F)"))

    @classmethod
    def of(
        cls,
        enp15: str,
        surname: str,
        given: str,
        patronymic: str,
        born: date,
        sex: str,
        category: Category = Category.CITIZEN,
        **extra: object,
    ) -> PersonData:
        """A person from plain values, the ЕНП's check digit added (the demo registry and the tests)."""
        return cls(
            enp=Enp.with_check_digit(enp15),
            name=FullName(surname, given, patronymic),
            birth_date=born,
            sex=sex,
            snils=extra.pop("snils", None),  # type: ignore[arg-type]
            category=category,
            **extra,  # type: ignore[arg-type]
        )

    def columns(self) -> dict[str, object]:
        return {
            "enp": str(self.enp),
            "surname": self.name.surname,
            "given_name": self.name.given_name,
            "patronymic": self.name.patronymic,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "snils": self.snils.digits if self.snils else None,
            "category": str(self.category),
            "right_valid_until": self.right_valid_until,
            "birth_registered_on": self.birth_registered_on,
        }


def insurer_by_code(code: str) -> Insurer:
    """The insurer with this code. What cannot be a code is refused without repeating it: the operator's
    confirmation pages take it from their address, which anyone can send them as a link."""
    if not code:  # a form's insurer left unchosen
        raise RegistryError(N_("Выберите СМО"), field="insurer")
    if len(code) != INSURER_CODE_LENGTH or not code.isascii() or not code.isdigit():
        raise RegistryError(N_("Код СМО — 5 цифр (реестровый номер)"), field="insurer")
    insurer = db.session.scalar(select(Insurer).where(Insurer.code == code))
    if insurer is None:
        raise NotFound(N_("СМО с кодом %(code)s не найдена"), field="insurer", code=code)
    return insurer


def by_enp(enp: str, session: ReadSession = db.session) -> ColumnElement[bool]:
    """The person with this ЕНП, in the region the ЕНП directory names (read first, on `session`): on PostgreSQL
    the read of the person is planned for that region's partition only. Asked in one statement (the region
    from a subquery), PostgreSQL would plan it over every region's partitions, ~2.5 ms against ~0.3 ms for the
    two reads with 86 partitions (docs/scaling.md). No entry, no person: `region_code IS NULL` finds nobody."""
    region = session.scalar(select(EnpDirectory.region_code).where(EnpDirectory.enp == enp))
    return and_(Person.enp == enp, Person.region_code == region)


def person_by_enp(enp: str, scope: str | None = None, lock: bool = False) -> Person:
    """The person, locked for update when asked, and then as the database holds them now (webapp/db/transactions.py
    `locked`); NotFound outside the caller's scope."""
    mine = by_enp(enp)
    person = db.session.scalar(locked(Person, mine) if lock else select(Person).where(mine))
    if person is None or (scope is not None and person.insurer.code != scope):
        raise NotFound("Застрахованный с таким ЕНП не найден")
    return person


#: A new person whose СНИЛС someone in the registry has. Said alike whether that someone is the caller's insured or
#: another insurer's: the insurer learns only that the person is registered, as a known ЕНП tells them.
SNILS_REGISTERED = N_(
    "Застрахованный с этим СНИЛС уже есть в реестре, под другим ЕНП: второй раз его не регистрируют. Найдите его "
    "поиском по СНИЛС, а если он застрахован в другой СМО, примите его оттуда по ЕНП из его полиса"
)


def require_unregistered(data: PersonData) -> None:
    """A new person's ЕНП and СНИЛС must be nobody's yet (the directories the database keeps unique say so)."""
    if db.session.scalar(select(EnpDirectory.person_id).where(EnpDirectory.enp == str(data.enp))):
        raise RegistryError(N_("Застрахованный с таким ЕНП уже есть в реестре"), field="enp")
    if data.snils and snils_holder(data.snils.digits) is not None:
        raise RegistryError(SNILS_REGISTERED, field="snils")


def require_snils_free(snils: str, person_id: int) -> None:
    """A СНИЛС given to a registered person must be nobody else's."""
    holder = snils_holder(snils)
    if holder is not None and holder != person_id:
        raise RegistryError(N_("Этот СНИЛС уже записан у другого застрахованного: проверьте номер"), field="snils")


def snils_holder(snils: str) -> int | None:
    """The id of the person the СНИЛС directory gives this СНИЛС (its 11 digits) to, if anyone."""
    return db.session.scalar(select(SnilsDirectory.person_id).where(SnilsDirectory.snils == snils))


def sharing_snils() -> dict[str, list[str]]:
    """Each СНИЛС that more than one person has (written before the directory kept them unique), with their ЕНП
    in the order they were registered: for the insurers to settle which record is the person's."""
    shared = select(Person.snils).where(Person.snils.is_not(None)).group_by(Person.snils).having(func.count() > 1)
    holders: dict[str, list[str]] = {}
    for snils, enp in db.session.execute(
        select(Person.snils, Person.enp).where(Person.snils.in_(shared)).order_by(Person.snils, Person.id)
    ):
        holders.setdefault(snils, []).append(enp)
    return holders


#: The name's fields, as a form or a CSV line names them.
NAME_PARTS = ("surname", "given_name", "patronymic")

#: A person's fields as a form or a CSV line gives them, as text.
PERSON_FIELDS = (
    "enp",
    "surname",
    "given_name",
    "patronymic",
    "birth_date",
    "sex",
    "snils",
    "category",
    "right_valid_until",
)


def person_from_fields(values: Mapping[str, str], today: date) -> PersonData:
    """A person's checked fields from text (a form, a CSV line); `InvalidFields` with every field's reason
    otherwise, in the fields' order."""
    errors: list[RegistryError] = []
    enp = checked(errors, "enp", lambda: Enp(values["enp"]))
    birth_date = checked(errors, "birth_date", lambda: _born(values, today))
    right_valid_until = checked(
        errors, "right_valid_until", lambda: _date(values, "right_valid_until") if values["right_valid_until"] else None
    )
    category = checked(errors, "category", lambda: _category(values["category"]))
    for part in NAME_PARTS:
        checked(errors, part, partial(require_hyphens_between_letters, values[part], part))
    name = checked(errors, "surname", lambda: FullName(values["surname"], values["given_name"], values["patronymic"]))
    snils = checked(errors, "snils", lambda: Snils(values["snils"]) if values["snils"] else None)
    if errors:
        raise InvalidFields(errors)
    try:
        return PersonData(enp, name, birth_date, values["sex"], snils, category, right_valid_until)
    except InvalidValue as error:  # the one rule PersonData checks itself
        raise RegistryError.of_value(error, "sex") from None


def _born(values: Mapping[str, str], today: date) -> date:
    born = _date(values, "birth_date")
    require_past_day(born, "birth_date", today)
    return born


def _category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        raise RegistryError(
            N_("неизвестная категория «%(category)s»"), field="category", category=quoted(value)
        ) from None


def _date(values: Mapping[str, str], field: str) -> date:
    if not values[field].strip():
        raise RegistryError(N_("Укажите дату"), field=field)
    try:
        return date.fromisoformat(values[field])
    except ValueError:
        raise RegistryError(N_("дата не в формате ГГГГ-ММ-ДД"), field=field) from None


@dataclass(frozen=True)
class Found:
    """A person a search found, and the former name it matched by (None: by their data now)."""

    person: Person
    matched_former: FormerName | None = None


def search(insurer_id: int, query: str, birth_date: str, limit: int) -> list[Found]:
    """An insurer's own insured by ЕНП, by СНИЛС, or by surname (and given name) with the birth date; the surname
    and birth date also find people by a name they had before (webapp/registry/data_changes.py keeps them)."""
    own = select(Person).where(Person.insurer_id == insurer_id)
    digits = as_typed(query)
    number = digits.isascii() and digits.isdigit()  # str.isdigit alone takes any script's digits
    if number and len(digits) == 16:
        try:
            enp = Enp(digits)
        except InvalidValue as error:  # a typo in its check digit: «nobody found» would hide it
            raise RegistryError.of_value(error, "query") from None
        return [Found(person) for person in db.session.scalars(own.where(Person.enp == enp.digits))]
    if number and len(digits) == 11:
        try:
            snils = Snils(digits)
        except InvalidValue as error:  # a typo in its check number
            raise RegistryError.of_value(error, "query") from None
        return [Found(person) for person in db.session.scalars(own.where(Person.snils == snils.digits))]
    if number:
        raise RegistryError(N_("В ЕНП 16 цифр, в СНИЛС 11: проверьте, сколько цифр введено"), field="query")
    words = query.split()
    if not words:
        raise RegistryError(N_("Введите ЕНП, СНИЛС или фамилию с датой рождения"), field="query")
    if not birth_date:
        raise RegistryError(N_("Для поиска по фамилии укажите дату рождения"), field="birth_date")
    try:
        born = date.fromisoformat(birth_date)
        name = FullName(words[0], words[1] if len(words) > 1 else "-")
    except ValueError as error:  # InvalidValue is one too
        if isinstance(error, InvalidValue):
            raise RegistryError.of_value(error, "query") from None
        raise RegistryError(N_("Дата в формате ГГГГ-ММ-ДД"), field="birth_date") from None
    given = name.given_name if len(words) > 1 else None
    found = own.where(Person.surname == name.surname, Person.birth_date == born)
    if given is not None:
        found = found.where(Person.given_name == given)
    now = [Found(person) for person in db.session.scalars(found.order_by(Person.given_name).limit(limit))]
    return now + _found_by_former_name(
        insurer_id, name.surname, given, born, {f.person.id for f in now}, limit - len(now)
    )


def _found_by_former_name(
    insurer_id: int, surname: str, given: str | None, born: date, found: set[int], limit: int
) -> list[Found]:
    """People whose former surname (and given name) is this, born on this day by then or now: each once, by the
    name they left last."""
    if limit <= 0:
        return []
    former = (
        select(FormerName)
        .join(Person, Person.id == FormerName.person_id)
        .where(
            Person.insurer_id == insurer_id,
            FormerName.surname == surname,
            or_(FormerName.birth_date == born, Person.birth_date == born),
        )
        .order_by(FormerName.changed_on.desc(), FormerName.id.desc())
    )
    if given is not None:
        former = former.where(FormerName.given_name == given)
    matches: dict[int, Found] = {}
    for row in db.session.scalars(former):
        if row.person_id not in found and row.person_id not in matches:
            matches[row.person_id] = Found(row.person, row)
    return sorted(matches.values(), key=lambda match: match.person.given_name)[:limit]


def codes_of(person: Person) -> list[IssuedCode]:
    """Every code the person was issued, newest first."""
    return list(
        db.session.scalars(
            select(IssuedCode)
            .where(IssuedCode.region_code == person.region_code, IssuedCode.person_id == person.id)
            .order_by(IssuedCode.serial.desc())
        )
    )


def represented_by(representative: Person) -> list[Person]:
    """The people someone represents today (children under 18, wards), eldest first."""
    return _linked(Representation.represented_id, Representation.representative_id == representative.id)


def representatives_of(person: Person) -> list[Person]:
    """The people who represent someone today (parents while they are a child, guardians), eldest first."""
    return _linked(Representation.representative_id, Representation.represented_id == person.id)


def _linked(other_side: InstrumentedAttribute[int], this_side: ColumnElement[bool]) -> list[Person]:
    lasting = Representation.lasting_on(clock.today_in_moscow(clock.now()))
    joined = select(Person).join(Representation, other_side == Person.id).where(this_side, lasting)
    return list(db.session.scalars(joined.order_by(Person.birth_date)))


def open_policy(person: Person, session: ReadSession = db.session) -> Policy | None:
    mine = (Policy.region_code == person.region_code, Policy.person_id == person.id)
    return session.scalar(select(Policy).where(*mine, Policy.status != PolicyStatus.CLOSED))


def policy_terminated(person: Person) -> bool:
    """Whether the person's policy is terminated (death, or the right ended): final, no code follows it."""
    policy = open_policy(person)
    return policy is not None and policy.status == PolicyStatus.TERMINATED


def current_code(person: Person) -> IssuedCode | None:
    return db.session.scalar(
        select(IssuedCode).where(
            IssuedCode.region_code == person.region_code,
            IssuedCode.person_id == person.id,
            IssuedCode.status == CodeStatus.CURRENT,
        )
    )


@dataclass(frozen=True)
class NewbornCover:
    insurer: Insurer
    representative: Person
    last_day: date


def newborn_cover(child: Person, today: date, session: ReadSession = db.session) -> NewbornCover | None:
    """A newborn with no policy of their own is covered by the mother's (representative's)
    insurer until day 30 after birth registration.

    Only by a representative who is insured today: a terminated policy (death, or the right ended) covers
    nobody, nor does one that ran out by its own dates (a foreigner's at the end of the year), and the cover ends
    with the policy when that comes first. A suspended one still covers: its holder is still insured with that
    insurer.
    """
    if child.birth_registered_on is None or open_policy(child, session) is not None:
        return None
    if today > newborn_cover_last_day(child.birth_registered_on):
        return None
    for link in session.scalars(select(Representation).where(Representation.represented_id == child.id)):
        policy = open_policy(link.representative, session)
        last_day = _cover_last_day(link, policy, child.birth_registered_on)
        if policy is not None and last_day is not None and policy.valid_from <= today <= last_day:
            return NewbornCover(link.representative.insurer, link.representative, last_day)
    return None


def newborn_cover_ended_on(child: Person, today: date, session: ReadSession = db.session) -> date | None:
    """The last day a newborn with no policy of their own was covered, once that cover ran out by date: day 30
    after birth registration, or the last day of the representative's policy or of the link (an insurer ended it)
    where that came first. None while it lasts, and where it ended otherwise (the representative's policy
    terminated)."""
    if child.birth_registered_on is None or open_policy(child, session) is not None:
        return None
    thirtieth = newborn_cover_last_day(child.birth_registered_on)
    if today > thirtieth:
        return thirtieth
    links = session.scalars(select(Representation).where(Representation.represented_id == child.id))
    ended = (
        _cover_last_day(link, open_policy(link.representative, session), child.birth_registered_on) for link in links
    )
    return max((day for day in ended if day is not None and day < today), default=None)


def _cover_last_day(link: Representation, policy: Policy | None, registered_on: date) -> date | None:
    """The last day the representative of `link`, insured by `policy`, covers a newborn registered on
    `registered_on` (None: it covers nobody): day 30 after registration, or the policy's own last day, or the
    link's, when that comes first. An insurer ending the link (a court's decision, a registry error) ends the cover
    with it: the representative's policy no longer speaks for the child."""
    if policy is None or policy.status == PolicyStatus.TERMINATED:
        return None
    last_days = [newborn_cover_last_day(registered_on), policy.valid_to, link.valid_to]
    return min(day for day in last_days if day is not None)


def trail_for_holder(enp: str, limit: int) -> list[AuditEntry]:
    """A person's audit trail as the insurer holding them reads it, newest first: from the change of
    insurer that brought them there. What the previous insurer did, and why, is that insurer's."""
    taken_over = db.session.scalar(
        select(func.max(AuditEntry.id)).where(AuditEntry.entity_key == enp, AuditEntry.action == "change_insurer")
    )
    trail = select(AuditEntry).where(AuditEntry.entity_key == enp, AuditEntry.id >= (taken_over or 0))
    return list(db.session.scalars(trail.order_by(AuditEntry.id.desc()).limit(limit)))
