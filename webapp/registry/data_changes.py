"""A change to a person's own data: a new surname after a marriage, a corrected birth date, a newborn's registered
name. The ЕНП never changes; the code carries the name and birth date, so every change signs a new code and the
old one reads `superseded` with the data-change cause (docs/domain.md «Изменение данных»).

One service for every path: the insurer's page, a citizen's request accepted, the CLI, the registry CSV import
and a newborn's birth certificate all call `change_person_data`. It checks the data as the code format does,
records the document that justified the change (in the audit trail and `person_data_changes`, never in the
code), keeps the former name for the insurer's search, and lets `lifecycle.write_person_data` write the data
and the code.

A citizen's request (`request_change`) waits in their insurer's queue beside reissue requests
(webapp/registry/reissue_requests.py); the insurer accepts it, which runs the same change, or declines it with
a reason the citizen sees. One open request per person at a time; a representative's stops being open when their
representation ends (webapp/registry/open_requests.py).

`scope` is the insurer code of the staff member acting, or None for the registry operator: an insurer never
reaches another insurer's people, nor their requests (NotFound).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import partial

from sqlalchemy import select

from policy_codes import FullName, InvalidValue
from policy_codes.errors import seen_as
from policy_codes.names import MAX_PART_LENGTH, MAX_TOTAL_LENGTH, NAME_CHARACTERS
from webapp.db.transactions import atomic, locked
from webapp.extensions import db
from webapp.models import (
    DataChangeRequest,
    FormerName,
    IssuedCode,
    Person,
    PersonDataChange,
    RequestStatus,
)
from webapp.registry import audit, clock, lifecycle, open_requests, people, reasons, rules
from webapp.registry.errors import N_, InvalidFields, NotFound, RegistryError, checked
from webapp.registry.name_hyphens import require_hyphens_between_letters


class ChangeReason(StrEnum):
    MARRIAGE = "marriage"
    DIVORCE = "divorce"
    COURT = "court"
    REGISTRY_ERROR = "registry_error"
    #: A newborn's registered name and birth date, once the birth certificate is issued.
    BIRTH_CERTIFICATE = "birth_certificate"
    #: Needs the reason in words.
    OTHER = "other"
    #: The registry CSV import; its reason text is the file's name. Not offered on forms, needs no document.
    REGISTRY_IMPORT = "registry_import"


REASON_LABELS: dict[ChangeReason, str] = {ChangeReason(value): words for value, words in reasons.DATA_CHANGE.items()}
#: The reasons a form offers, in its order.
FORM_REASONS: tuple[ChangeReason, ...] = (
    ChangeReason.MARRIAGE,
    ChangeReason.DIVORCE,
    ChangeReason.COURT,
    ChangeReason.REGISTRY_ERROR,
    ChangeReason.BIRTH_CERTIFICATE,
    ChangeReason.OTHER,
)
#: A terminated policy is final (death, or the right ended): its record is still corrected where it was wrong
#: (the registry's error, a court's decision, the registry's own import), but no life event after the end
#: (a marriage, a birth certificate) is written onto it.
TERMINATED_REASONS: frozenset[ChangeReason] = frozenset(
    {ChangeReason.REGISTRY_ERROR, ChangeReason.COURT, ChangeReason.REGISTRY_IMPORT}
)

#: The documents that justify a change, by the kind stored. Short enough for a phone's closed list (about 24
#: letters), where longer words were cut off: «Свидетельство о заключени».
DOCUMENT_KINDS: dict[str, str] = {
    "marriage_certificate": N_("Свидетельство о браке"),
    "divorce_certificate": N_("Свидетельство о разводе"),
    "name_change_certificate": N_("Свид-во о перемене имени"),
    "court_decision": N_("Решение суда"),
    "birth_certificate": N_("Свидетельство о рождении"),
    "passport": N_("Паспорт"),
    "other": N_("Другой документ"),
}

#: The fields a change may touch, with their words; the name parts and the birth date are what a code carries.
FIELD_LABELS: dict[str, str] = {
    "surname": N_("Фамилия"),
    "given_name": N_("Имя"),
    "patronymic": N_("Отчество"),
    "birth_date": N_("Дата рождения"),
    "sex": N_("Пол"),
}
SEX_WORDS = {"M": N_("мужской"), "F": N_("женский")}
#: Widths of the document's fields (webapp/models/data_changes.py DocumentColumns).
_DOCUMENT_WIDTHS = {"document_series": 20, "document_number": 30, "document_issuer": 200}


#: Asked for when a change names no sex, or another than the two.
SEX_REQUIRED = N_("Пол: мужской или женский")


class ChangeRequestAlreadyOpen(RegistryError):
    """The person already has a data-change request their insurer has not answered."""


#: What a missing value is asked for with; the message stands beside its field (or after a command's option).
_REQUIRED = {
    "surname": N_("Укажите фамилию"),
    "given_name": N_("Укажите имя"),
    "birth_date": N_("Укажите дату рождения"),
    "document_issued_on": N_("Укажите дату выдачи документа"),
}


def _name_part(values: Mapping[str, str], field: str) -> str:
    """One part of the name, as the registry keeps it (capitals, spaces squeezed), checked as the code packs it."""
    part = " ".join(values.get(field, "").split()).upper()
    if not part and field in _REQUIRED:
        raise RegistryError(_REQUIRED[field], field=field)
    if len(part) > MAX_PART_LENGTH:
        raise RegistryError(N_("Не длиннее %(count)d знаков"), field=field, count=MAX_PART_LENGTH)
    typed = " ".join(values.get(field, "").split())
    unknown = [char for char in dict.fromkeys(typed) if any(upper not in NAME_CHARACTERS for upper in char.upper())]
    if unknown:
        raise RegistryError(
            N_("Только русские буквы, пробел, дефис, апостроф и точка; не подходят: %(chars)s"),
            field=field,
            chars=", ".join(f"«{seen_as(char)}»" for char in unknown),  # each on its own: «IVANO» read as a name
        )
    return part


def _day(values: Mapping[str, str], field: str) -> date:
    text = values.get(field, "").strip()
    if not text:
        raise RegistryError(_REQUIRED[field], field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RegistryError(N_("Дата в формате ГГГГ-ММ-ДД"), field=field) from None


#: What an empty document field is asked for with (the series may be empty).
_DOCUMENT_REQUIRED = {
    "document_number": N_("Укажите номер документа"),
    "document_issuer": N_("Укажите, кем выдан документ"),
}


def _document_text(words: str, field: str, width: int) -> None:
    if not words and field in _DOCUMENT_REQUIRED:
        raise RegistryError(_DOCUMENT_REQUIRED[field], field=field)
    if len(words) > width:
        raise RegistryError(N_("Не длиннее %(count)d знаков"), field=field, count=width)
    reasons.require_visible(words, field)


def _past_day(values: Mapping[str, str], field: str, today: date | None) -> date:
    """The day typed in `field`: a real date, and one the rules take (rules.require_past_day)."""
    day = _day(values, field)
    rules.require_past_day(day, field, today or clock.today_in_moscow(clock.now()))
    return day


@dataclass(frozen=True)
class NewData:
    """A person's data as a change gives it: the name parts in the registry's capitals, the birth date, sex "M"/"F"."""

    surname: str
    given_name: str
    patronymic: str
    birth_date: date
    sex: str

    def __post_init__(self) -> None:
        values = {"surname": self.surname, "given_name": self.given_name, "patronymic": self.patronymic}
        for field in values:
            object.__setattr__(self, field, _name_part(values, field))
        if self.sex not in SEX_WORDS:
            raise RegistryError(SEX_REQUIRED, field="sex")
        if sum(len(part) for part in (self.surname, self.given_name, self.patronymic)) > MAX_TOTAL_LENGTH:
            raise RegistryError(
                N_("Фамилия, имя и отчество вместе длиннее %(count)d знаков: код полиса их не вместит"),
                field="surname",
                count=MAX_TOTAL_LENGTH,
            )
        try:
            self.name  # noqa: B018 -- the code format's own check, the last word
        except InvalidValue as error:
            raise RegistryError.of_value(error, "surname") from None

    @property
    def name(self) -> FullName:
        return FullName(self.surname, self.given_name, self.patronymic)

    @classmethod
    def from_form(cls, values: Mapping[str, str], today: date | None = None) -> NewData:
        """The data from a form's (or a command's) text: `surname`, `given_name`, `patronymic`, `birth_date`
        (ГГГГ-ММ-ДД), `sex` ("M"/"F"). `InvalidFields` with every field's refusal otherwise; what only the whole
        name can be refused for (its length, the code format's word) is said once each field is right."""
        errors: list[RegistryError] = []
        for field in people.NAME_PARTS:
            part = checked(errors, field, partial(_name_part, values, field))
            if part:  # at entry only: NewData.of reads the names the registry already keeps
                checked(errors, field, partial(require_hyphens_between_letters, part, field))
        born = checked(errors, "birth_date", lambda: _past_day(values, "birth_date", today))
        sex = values.get("sex", "").strip()
        if sex not in SEX_WORDS:
            errors.append(RegistryError(SEX_REQUIRED, field="sex"))
        if errors or born is None:
            raise InvalidFields(errors)
        return cls(values.get("surname", ""), values.get("given_name", ""), values.get("patronymic", ""), born, sex)

    @classmethod
    def of(cls, person: Person | DataChangeRequest) -> NewData:
        """A person's data now, or the data a request asks for."""
        return cls(person.surname, person.given_name, person.patronymic, person.birth_date, person.sex)

    def columns(self) -> dict[str, object]:
        return {
            "surname": self.surname,
            "given_name": self.given_name,
            "patronymic": self.patronymic,
            "birth_date": self.birth_date,
            "sex": self.sex,
        }


@dataclass(frozen=True)
class Document:
    """The document that justified a change. It goes to the audit trail and the change's record, never into a code."""

    kind: str
    series: str
    number: str
    issued_on: date
    issuer: str

    @classmethod
    def from_form(cls, values: Mapping[str, str], today: date | None = None) -> Document:
        """From `document_kind`, `document_series`, `document_number`, `document_issued_on` (ГГГГ-ММ-ДД) and
        `document_issuer`; `InvalidFields` with every field's refusal otherwise. The series may be empty."""
        errors: list[RegistryError] = []
        kind = values.get("document_kind", "").strip()
        if kind not in DOCUMENT_KINDS:
            errors.append(RegistryError(N_("Выберите вид документа из списка"), field="document_kind"))
        text = {field: " ".join(values.get(field, "").split()) for field in _DOCUMENT_WIDTHS}
        for field, width in _DOCUMENT_WIDTHS.items():
            checked(errors, field, partial(_document_text, text[field], field, width))
        issued_on = checked(errors, "document_issued_on", lambda: _past_day(values, "document_issued_on", today))
        if errors or issued_on is None:
            raise InvalidFields(errors)
        return cls(kind, text["document_series"], text["document_number"], issued_on, text["document_issuer"])

    @classmethod
    def of(cls, row: PersonDataChange | DataChangeRequest) -> Document | None:
        """The document a change or a request names (None: an import's change, which has none)."""
        if not row.document_kind or row.document_issued_on is None:
            return None
        return cls(
            row.document_kind, row.document_series, row.document_number, row.document_issued_on, row.document_issuer
        )

    def columns(self) -> dict[str, object]:
        return {
            "document_kind": self.kind,
            "document_series": self.series,
            "document_number": self.number,
            "document_issued_on": self.issued_on,
            "document_issuer": self.issuer,
        }

    def details(self) -> dict[str, str]:
        """As the audit trail records it."""
        return {
            "kind": self.kind,
            "series": self.series,
            "number": self.number,
            "issued_on": self.issued_on.isoformat(),
            "issuer": self.issuer,
        }


def parse_reason(values: Mapping[str, str]) -> tuple[ChangeReason, str]:
    """The reason a form chose (`reason`), and its words (`reason_text`): required for «другое», optional else."""
    try:
        reason = ChangeReason(values.get("reason", ""))
    except ValueError:
        reason = None
    if reason not in FORM_REASONS:
        raise RegistryError(N_("Выберите причину из списка"), field="reason")
    return reason, _reason_text(reason, values.get("reason_text", ""))


def _reason_text(reason: ChangeReason, text: str) -> str:
    words = " ".join(text.split())
    if reason is ChangeReason.OTHER and not words:
        raise RegistryError(N_("Опишите причину своими словами"), field="reason_text")
    if len(words) > reasons.REASON_MAX:
        raise RegistryError(N_("Причина длиннее %(count)d знаков"), field="reason_text", count=reasons.REASON_MAX)
    reasons.require_visible(words, "reason_text")
    return words


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value as a confirmation page shows them side by side.

    `label` is a catalog id; so are `old` and `new` for `sex` (the words «мужской», «женский»). Names are shown
    as people write them, dates as ДД.ММ.ГГГГ, an empty patronymic as «—».
    """

    field: str
    label: str
    old: str
    new: str


def _shown(field: str, value: object) -> str:
    if field == "sex":
        return SEX_WORDS[str(value)]
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value).title() or "—"


def _field_changes(old: Mapping[str, object], new: Mapping[str, object]) -> list[FieldChange]:
    return [
        FieldChange(field, FIELD_LABELS[field], _shown(field, old[field]), _shown(field, new[field]))
        for field in FIELD_LABELS
        if old[field] != new[field]
    ]


def _changed_columns(person: Person, new: NewData | people.PersonData, today: date) -> dict[str, object]:
    """The columns `new` changes on `person`; RegistryError when none, when the rules refuse the birth date, or
    when the new СНИЛС is someone else's."""
    if isinstance(new, people.PersonData):
        if str(new.enp) != person.enp:
            raise RegistryError(N_("ЕНП не меняется"), field="enp")
        columns = {field: value for field, value in new.columns().items() if field != "enp"}
    else:
        columns = new.columns()
    rules.require_past_day(columns["birth_date"], "birth_date", today)  # type: ignore[arg-type]
    changed = {field: value for field, value in columns.items() if getattr(person, field) != value}
    if not changed:
        raise RegistryError(N_("Данные не изменились: менять нечего"))
    if changed.get("snils"):  # only the registry import changes a СНИЛС
        people.require_snils_free(str(changed["snils"]), person.id)
    return changed


def preview(enp: str, new: NewData, scope: str | None = None, reason: ChangeReason | None = None) -> list[FieldChange]:
    """What `change_person_data` would change, old beside new; it changes nothing.

    RegistryError when nothing would change, the data cannot be carried or the policy's state refuses the
    `reason`; NotFound outside the caller's scope.
    """
    person = people.person_by_enp(enp, scope)
    if reason is not None:
        _require_reason_allowed(person, reason)
    changed = _changed_columns(person, new, clock.today_in_moscow(clock.now()))
    current = NewData.of(person).columns()
    return _field_changes(current, current | changed)


def data_seen(person: Person) -> str:
    """A digest of the person's data as a page shows it, which the page sends back with its confirmation
    (`change_person_data`'s `seen`): what was confirmed is what the page showed, not data a colleague changed since.
    """
    columns = NewData.of(person).columns()
    text = "\x1f".join(_as_text(columns[field]) for field in FIELD_LABELS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _require_unchanged_since(person: Person, seen: str | None) -> None:
    if seen is not None and data_seen(person) != seen:
        raise RegistryError(
            N_("Данные застрахованного изменились, пока была открыта эта страница: проверьте изменение ещё раз")
        )


def _recorded_reason(reason: ChangeReason, reason_text: str) -> str:
    """The reason as the audit trail records it: the reason's words, or the words typed for «другое»."""
    return reason_text if reason is ChangeReason.OTHER else REASON_LABELS[reason]


def _check_grounds(reason: ChangeReason | str, reason_text: str, document: Document | None) -> tuple[ChangeReason, str]:
    try:
        reason = ChangeReason(reason)
    except ValueError:
        raise RegistryError(N_("Выберите причину из списка"), field="reason") from None
    reason_text = _reason_text(reason, reason_text)
    if document is None and reason is not ChangeReason.REGISTRY_IMPORT:
        raise RegistryError(N_("Укажите документ, на основании которого меняются данные"), field="document_kind")
    return reason, reason_text


def form_reasons(person: Person) -> tuple[ChangeReason, ...]:
    """The reasons a form offers for `person`: every one, but only corrections once the policy is terminated."""
    if people.policy_terminated(person):
        return tuple(reason for reason in FORM_REASONS if reason in TERMINATED_REASONS)
    return FORM_REASONS


def _require_reason_allowed(person: Person, reason: ChangeReason) -> None:
    if reason not in TERMINATED_REASONS and people.policy_terminated(person):
        raise RegistryError(
            N_(
                "Полис прекращён: исправить можно только ошибку в данных "
                "(причина «Ошибка в реестре» или «Решение суда»)"
            ),
            field="reason",
        )


def _as_text(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


@atomic
def change_person_data(
    enp: str,
    new: NewData | people.PersonData,
    reason: ChangeReason,
    reason_text: str,
    document: Document | None,
    actor: str,
    scope: str | None = None,
    now: datetime | None = None,
    request_id: int | None = None,
    seen: str | None = None,
) -> IssuedCode | None:
    """Change a person's data and sign the code that follows, in one transaction.

    `new` is a `NewData` (a form, a request, the CLI) or, from the registry import, a whole `people.PersonData`,
    whose category and end of the right may change too. The person is locked; the data written, the former name
    kept, the current code superseded (cause: a data change) and the next signed with the new data, or withdrawn
    if the policy is not in force (None returned). The change, its document and the old and new values go to
    `person_data_changes` and the audit trail. Two staff changing one person at once: the second waits for the
    first's lock, then finds the data changed (or not) and signs after it, so one code stays current. A page's
    confirmation gives `seen` (`data_seen` when it showed old → new): refused if the data changed since, so a
    colleague's change is never undone unseen.
    """
    reason, reason_text = _check_grounds(reason, reason_text, document)
    moment = clock.now(now)
    today = clock.today_in_moscow(moment)
    person = people.person_by_enp(enp, scope, lock=True)
    _require_reason_allowed(person, reason)
    _require_unchanged_since(person, seen)
    changed = _changed_columns(person, new, today)
    old = {field: getattr(person, field) for field in changed}
    if changed.keys() & lifecycle.CARRIED_BY_CODE:  # kept as a former name, for the search
        db.session.add(
            FormerName(
                person_id=person.id,
                surname=person.surname,
                given_name=person.given_name,
                patronymic=person.patronymic,
                birth_date=person.birth_date,
                changed_on=today,
            )
        )
    recorded = _recorded_reason(reason, reason_text)
    written = lifecycle.write_person_data(person, changed, moment, recorded)
    code = written.code
    old_values = {field: _as_text(value) for field, value in old.items()}
    new_values = {field: _as_text(value) for field, value in changed.items()}
    db.session.add(
        PersonDataChange(
            person_id=person.id,
            at=moment,
            actor=actor,
            reason=str(reason),
            reason_text=reason_text,
            old_values=old_values,
            new_values=new_values,
            new_serial=code and code.serial,
            request_id=request_id,
            **(document.columns() if document else {}),
        )
    )
    details: dict[str, object] = {"reason": str(reason), "old": old_values, "new": new_values}
    details |= {"serial": code and code.serial, "fields": sorted(changed)}
    if reason_text and reason is not ChangeReason.OTHER:
        details["reason_text"] = reason_text
    if document is not None:
        details["document"] = document.details()
    if request_id is not None:
        details["request"] = request_id
    if written.links_moved:
        details["representations"] = written.links_moved
    audit.record(actor, "correct", "person", enp, recorded, details, at=moment)
    return code


def changes_of(person: Person) -> list[PersonDataChange]:
    """The person's data changes, newest first."""
    return list(
        db.session.scalars(
            select(PersonDataChange).where(PersonDataChange.person_id == person.id).order_by(PersonDataChange.id.desc())
        )
    )


# The citizen's request ------------------------------------------------------------------------------------


def open_change_request_of(person_id: int) -> DataChangeRequest | None:
    return open_requests.open_of(DataChangeRequest, person_id)


def latest_change_request(person: Person) -> DataChangeRequest | None:
    """The person's newest request, waiting or answered: what their page shows (a declined one, with its reason);
    not one a former representative left."""
    mine = (DataChangeRequest.person_id == person.id, open_requests.shown(DataChangeRequest))
    return db.session.scalar(select(DataChangeRequest).where(*mine).order_by(DataChangeRequest.id.desc()).limit(1))


def open_change_requests(insurer_id: int) -> list[DataChangeRequest]:
    """Open requests of the people this insurer holds now, oldest first (a transfer takes them along)."""
    return open_requests.listed(DataChangeRequest, insurer_id)


def request_changes(request: DataChangeRequest) -> list[FieldChange]:
    """What accepting the request would change, from the person's data now (empty: nothing left to change)."""
    return _field_changes(NewData.of(request.person).columns(), NewData.of(request).columns())


@atomic
def request_change(
    person: Person,
    new: NewData,
    reason: ChangeReason,
    reason_text: str,
    document: Document | None,
    actor: str,
    now: datetime | None = None,
    filed_by: Person | None = None,
) -> DataChangeRequest:
    """A citizen tells their insurer their data changed, or `filed_by`, their representative, does. The person's
    row is locked, so two at once make one."""
    if reason not in FORM_REASONS:
        raise RegistryError(N_("Выберите причину из списка"), field="reason")
    reason, reason_text = _check_grounds(reason, reason_text, document)
    assert document is not None  # _check_grounds requires one for every reason a form offers
    moment = clock.now(now)
    locked = people.person_by_enp(person.enp, lock=True)
    _require_reason_allowed(locked, reason)
    if open_change_request_of(locked.id) is not None:
        raise ChangeRequestAlreadyOpen(N_("Заявление об изменении данных уже подано и ждёт ответа страховой компании"))
    _changed_columns(locked, new, clock.today_in_moscow(moment))
    open_requests.lapse(DataChangeRequest, locked.id, moment)
    request = DataChangeRequest(
        person=locked,
        insurer=locked.insurer,
        **new.columns(),
        reason=str(reason),
        reason_text=reason_text,
        status=RequestStatus.OPEN,
        decline_reason="",
        created_at=moment,
        filed_by_id=(filed_by or locked).id,
        **document.columns(),
    )
    db.session.add(request)
    db.session.flush()
    details = {"request": request.id, "insurer": locked.insurer.code, "reason": str(reason)}
    audit.record(
        actor, "request_data_change", "person", locked.enp, _recorded_reason(reason, reason_text), details, at=moment
    )
    return request


def open_change_request(request_id: int, scope: str | None, lock: bool = False) -> DataChangeRequest:
    """The request, to answer (`lock`: locked and read as it is now, a view read it before and a colleague may have
    answered it since); NotFound for another insurer's; RegistryError once it is closed or its filer no longer
    represents the person."""
    mine = DataChangeRequest.id == request_id
    request = db.session.scalar(locked(DataChangeRequest, mine) if lock else select(DataChangeRequest).where(mine))
    if request is None or (scope is not None and request.person.insurer.code != scope):
        raise NotFound(N_("Заявка не найдена"))
    if request.status != RequestStatus.OPEN:
        raise RegistryError(N_("Заявка уже закрыта"))
    open_requests.require_standing(request)
    return request


@atomic
def accept_change_request(
    request_id: int, actor: str, scope: str | None = None, now: datetime | None = None, seen: str | None = None
) -> IssuedCode | None:
    """Make the change the citizen asked for and close their request as done, in one transaction. A request
    whose data the person already has is refused («Данные не изменились») and stays open, for staff to decline;
    so is one whose person's data changed since the page showed it (`seen`, as `change_person_data`)."""
    request = open_change_request(request_id, scope, lock=True)
    code = change_person_data(
        request.person.enp,
        NewData.of(request),
        ChangeReason(request.reason),
        request.reason_text,
        Document.of(request),
        actor,
        scope=scope,
        now=now,
        request_id=request.id,
        seen=seen,
    )
    request.status = RequestStatus.DONE
    request.closed_at = clock.now(now)
    db.session.flush()
    return code


@atomic
def decline_change_request(
    request_id: int, reason: str, actor: str, scope: str | None = None, now: datetime | None = None
) -> DataChangeRequest:
    """Decline the request with a reason the citizen sees on their page."""
    words = reasons.decline_words(reason)
    request = open_change_request(request_id, scope, lock=True)
    moment = clock.now(now)
    request.status = RequestStatus.DECLINED
    request.decline_reason = words
    request.closed_at = moment
    db.session.flush()
    details = {"request": request.id}
    audit.record(actor, "decline_data_change", "person", request.person.enp, words, details, at=moment)
    return request
