"""The lifecycle of policies and codes: the one place where registry changes happen.

Every public function here is one transaction (`@atomic`): it commits whole,
or, on any error, leaves the registry as it was. Each records who, when, what
and why in the audit log. Views and CLI commands only call these.

`scope` is the insurer code of the staff member acting, or None for the
registry operator: an insurer never reaches another insurer's people.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update

from policy_codes.revocation import digest_of_text
from webapp.db import commit_order
from webapp.db.transactions import atomic, serialised
from webapp.extensions import db
from webapp.models import (
    Category,
    CodeStatus,
    Insurer,
    InsurerChange,
    IssuedCode,
    Person,
    Policy,
    PolicyKind,
    PolicyStatus,
    Representation,
    RevocationEvent,
    StatusCause,
)
from webapp.registry import accounts, audit, clock, people, public_holidays, reasons, representations
from webapp.registry.codes import claims_for, sign, text_hash
from webapp.registry.errors import N_, NotFound, RegistryError
from webapp.registry.keys import keystore
from webapp.registry.rules import (
    MOVED_REGION,
    Operation,
    check_application_date,
    corrected_end,
    in_force,
    may_change_insurer,
    policy_end,
    refusal,
    representation_until,
    require_grounds,
    temporary_certificate_end,
)

#: The person's data a code shows, by column: a change to any of them is a data change at the desk.
CARRIED_BY_CODE = frozenset({"surname", "given_name", "patronymic", "birth_date"})


class NoMatch(NotFound):
    """A transfer's application names no person the registry holds with that ЕНП and birth date."""


class NotMovable(RegistryError):
    """A transfer's person matched, but their policy cannot move now (none open, suspended, terminated). Its words
    say which, and so why (military service, a death): for the operator, not for another insurer's staff
    (`transfers.accept`)."""


def _policy_for(person: Person, operation: Operation) -> Policy:
    """The person's open policy, once the rules let `operation` act on it in its state: every operation
    on a policy goes through here."""
    policy = people.open_policy(person)
    if policy is None:
        raise RegistryError(N_("У застрахованного нет действующего полиса"))
    refused = _refusal(person, policy, operation)
    if refused is not None:
        raise refused
    return policy


def _refusal(person: Person, policy: Policy, operation: Operation) -> RegistryError | None:
    """The one gate: why `operation` may not act on the person's open policy now, or None if it may.
    Every change passes it (`_policy_for`), and the person's page asks it what to offer (`allowed`)."""
    refused = refusal(operation, PolicyStatus(policy.status))
    if refused is not None:
        return refused
    if operation is Operation.ISSUE_POLICY and policy.kind != PolicyKind.TEMPORARY_CERTIFICATE:
        return RegistryError(N_("Полис уже выдан: временного свидетельства нет"))
    if operation is Operation.RENEW and (policy.kind != PolicyKind.POLICY or policy.valid_to is None):
        return RegistryError(N_("Новый срок дают полису с датой окончания; временное свидетельство заменяют полисом"))
    if operation is Operation.REVOKE and people.current_code(person) is None:
        return RegistryError(N_("Действующего кода нет: отзывать нечего"))
    return None


def allowed(person: Person) -> frozenset[Operation]:
    """The operations the rules allow on the person's open policy in its state now (none without one)."""
    policy = people.open_policy(person)
    if policy is None:
        return frozenset()
    return frozenset(operation for operation in Operation if _refusal(person, policy, operation) is None)


def require_allowed(person: Person, operation: Operation) -> None:
    """Raise the gate's `RegistryError` unless `operation` may act on the person's open policy now: for a
    page that asks before it acts."""
    _policy_for(person, operation)


def may_issue_newborn_policy(person: Person) -> bool:
    """A newborn whose birth is registered and who has no policy of their own yet."""
    return person.birth_registered_on is not None and people.open_policy(person) is None


def require_newborn_policy_due(person: Person) -> None:
    """Raise unless `may_issue_newborn_policy`: for the newborn's policy, and the page that asks before it."""
    if not may_issue_newborn_policy(person):
        raise RegistryError(N_("Полис новорождённому выдают, пока у ребёнка нет своего полиса"))


#: A person's first code; each reissue counts one up (docs/code-format.md, claim 2).
FIRST_SERIAL = 1


def policy_term(
    category: Category,
    right_valid_until: date | None,
    kind: PolicyKind,
    issued_on: date,
    holidays: Container[date] = frozenset(),
) -> tuple[date, date | None]:
    """A new policy's first and last day (None: no end) by the rules; a certificate's counts working days."""
    end = policy_end(category, issued_on, right_valid_until)
    if kind is PolicyKind.TEMPORARY_CERTIFICATE:
        end = temporary_certificate_end(issued_on, holidays, end)
    return issued_on, end


def policy_fields(kind: PolicyKind, category: str, term: tuple[date, date | None], now: datetime) -> dict[str, Any]:
    """A new active policy's own columns, its person and insurer aside: how every policy is made, one by one
    here or a batch at a time by the import (webapp/registry/bulk_import.py)."""
    return {
        "kind": str(kind),
        "category": str(category),
        "valid_from": term[0],
        "valid_to": term[1],
        "status": str(PolicyStatus.ACTIVE),
        "status_reason": "",
        "created_at": now,
    }


def code_fields(serial: int, kid_hex: str, text: str, now: datetime) -> dict[str, Any]:
    """A new current code's own columns, its person and policy aside, as policy_fields is for policies."""
    return {
        "serial": serial,
        "kid": kid_hex,
        "issued_at": now,
        "status": str(CodeStatus.CURRENT),
        "status_reason": "",
        "status_changed_at": None,
        "status_cause": str(StatusCause.NONE),
        "text": text,
        "text_hash": text_hash(text),
    }


def _new_policy(
    person: Person, insurer: Insurer, kind: PolicyKind, now: datetime, term: tuple[date, date | None] | None = None
) -> Policy:
    """An active policy from today, to the end the rules give; or over `term` (a certificate carried over)."""
    if term is None:
        holidays: Container[date] = public_holidays.days() if kind is PolicyKind.TEMPORARY_CERTIFICATE else frozenset()
        today = clock.today_in_moscow(now)
        term = policy_term(Category(person.category), person.right_valid_until, kind, today, holidays)
    policy = Policy(
        person=person,
        insurer=insurer,
        region_code=person.region_code,
        **policy_fields(kind, person.category, term, now),
    )
    db.session.add(policy)
    return policy


def _close(policy: Policy, reason: str) -> None:
    policy.status = PolicyStatus.CLOSED
    policy.status_reason = reason
    db.session.flush()


def _set_code_status(
    code: IssuedCode, status: CodeStatus, reason: str, now: datetime, cause: StatusCause = StatusCause.NONE
) -> None:
    """Withdraw a code, and feed the published revocation list under its new status (the list's heading); `cause`
    says why where a verdict tells more than the status (a data change)."""
    code.status = status
    code.status_reason = reason
    code.status_cause = str(cause)
    code.status_changed_at = now
    listed_at = commit_order.take_turn(RevocationEvent.__table__.c.at, now)
    db.session.add(
        RevocationEvent(
            code_id=code.id, digest=digest_of_text(code.text), status=status, at=listed_at, region_code=code.region_code
        )
    )
    db.session.flush()  # before a new current code is inserted: one current code per person


def _sign_new_code(
    person: Person, policy: Policy, now: datetime, reason: str, cause: StatusCause = StatusCause.NONE
) -> IssuedCode:
    """Supersede the current code, if any, and sign the next serial with the policy's insurer key."""
    previous = people.current_code(person)
    if previous is not None:
        _set_code_status(previous, CodeStatus.SUPERSEDED, reason, now, cause)
    last_serial = db.session.scalar(select(func.max(IssuedCode.serial)).where(IssuedCode.person_id == person.id))
    serial = last_serial + 1 if last_serial else FIRST_SERIAL
    key = keystore.signing_key(policy.insurer.code, now, lock=True)
    text = sign(claims_for(person, policy, serial, now), key)
    code = IssuedCode(
        person=person, policy=policy, region_code=policy.region_code, **code_fields(serial, key.kid.hex(), text, now)
    )
    db.session.add(code)
    db.session.flush()
    return code


def _renew_code(
    person: Person, policy: Policy | None, now: datetime, reason: str, cause: StatusCause = StatusCause.NONE
) -> IssuedCode | None:
    """Sign the next code if the policy is in force today; otherwise withdraw the current one, if any.

    A suspended, terminated or ended policy gets no fresh code: offline, nobody could tell it from a
    valid one. Resuming a suspended policy signs the next code.
    """
    if policy is not None and in_force(PolicyStatus(policy.status), policy.valid_to, clock.today_in_moscow(now)):
        return _sign_new_code(person, policy, now, reason, cause)
    current = people.current_code(person)
    if current is not None:
        _set_code_status(current, CodeStatus.REVOKED, reason, now, cause)
    return None


def code_follows(person: Person, now: datetime | None = None) -> bool:
    """Whether a change to the person's data now would sign a new code (`_renew_code`): only while the policy
    is in force. What the data-change pages promise, before the change."""
    policy = people.open_policy(person)
    moment = clock.now(now)
    return policy is not None and in_force(PolicyStatus(policy.status), policy.valid_to, clock.today_in_moscow(moment))


@atomic
def register_person(
    data: people.PersonData,
    insurer_code: str,
    actor: str,
    *,
    temporary: bool = False,
    representative_enp: str | None = None,
    now: datetime | None = None,
) -> IssuedCode:
    """A new insured person with a policy (or a temporary certificate), its first code, and their representative."""
    moment = clock.now(now)
    people.require_unregistered(data)
    insurer = people.insurer_by_code(insurer_code)
    representative = people.person_by_enp(representative_enp) if representative_enp else None
    person = Person(**data.columns(), insurer=insurer, region_code=insurer.region_code)
    db.session.add(person)
    kind = PolicyKind.TEMPORARY_CERTIFICATE if temporary else PolicyKind.POLICY
    code = _sign_new_code(person, _new_policy(person, insurer, kind, moment), moment, "")
    audit.record(
        actor, "register", "person", person.enp, details={"kind": str(kind), "insurer": insurer.code}, at=moment
    )
    if representative is not None:
        _link(representative, person, actor, moment)
    return code


@atomic
def replace_certificate_with_policy(
    enp: str, actor: str, scope: str | None = None, now: datetime | None = None
) -> IssuedCode:
    """The policy is ready: it replaces the temporary certificate, and its code the old one."""
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    certificate = _policy_for(person, Operation.ISSUE_POLICY)
    _close(certificate, reasons.POLICY_ISSUED)
    code = _sign_new_code(
        person, _new_policy(person, certificate.insurer, PolicyKind.POLICY, moment), moment, reasons.POLICY_ISSUED
    )
    audit.record(actor, "issue_policy", "person", enp, details={"serial": code.serial}, at=moment)
    return code


@atomic
def renew_policy(enp: str, actor: str, scope: str | None = None, now: datetime | None = None) -> IssuedCode:
    """A time-limited policy's next term: a new policy from today to the end the rules give (the end of the year,
    of the next one from 1 November, never past the document), and its code; the old policy is closed and its code
    superseded. Refused when the next term would end no later than this one, or the document has ended.

    A permanently resident foreigner's policy runs to the end of each year, and nothing else gives the next one: a
    correction fixes the record and grants no new year (`rules.corrected_end`), a reissue signs no code for an
    ended policy, and a second registration is refused.
    """
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    old_policy = _policy_for(person, Operation.RENEW)
    term = _next_term(person, old_policy, clock.today_in_moscow(moment))
    _close(old_policy, "новый срок полиса")
    policy = _new_policy(person, old_policy.insurer, PolicyKind.POLICY, moment, term)
    code = _sign_new_code(person, policy, moment, "новый срок полиса")
    details = {"serial": code.serial, "valid_to": term[1].isoformat()}
    audit.record(actor, "renew", "person", enp, details=details, at=moment)  # Operation.RENEW
    return code


def _next_term(person: Person, old_policy: Policy, today: date) -> tuple[date, date]:
    """The next term of a time-limited policy from `today`, or why there is none yet."""
    start, end = policy_term(Category(person.category), person.right_valid_until, PolicyKind.POLICY, today)
    assert old_policy.valid_to is not None  # the gate refuses a policy with no end
    if end is None or end <= old_policy.valid_to:
        raise RegistryError(
            N_("Новый срок закончился бы не позже нынешнего (%(day)s): продлевать пока нечего"),
            day=old_policy.valid_to.strftime("%d.%m.%Y"),
        )
    return start, end


def next_term_end(person: Person, now: datetime | None = None) -> date:
    """The last day of the term `renew_policy` would give now, or the `RegistryError` it would refuse with: what the
    page that asks before renewing says."""
    today = clock.today_in_moscow(clock.now(now))
    return _next_term(person, _policy_for(person, Operation.RENEW), today)[1]


@atomic
def reissue(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> IssuedCode:
    """A new code for the same policy (lost phone, a new key): serial +1, the old one superseded."""
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    code = _sign_new_code(person, _policy_for(person, Operation.REISSUE), moment, reason or reasons.REISSUED)
    audit.record(actor, "reissue", "code", enp, reason, {"serial": code.serial}, at=moment)
    return code


@dataclass(frozen=True)
class WrittenData:
    """What writing a person's data did beside it: the code that follows (None if none is signed), and each
    representation whose last day a corrected birth date moved (`representations.follow_birth_date`)."""

    code: IssuedCode | None
    links_moved: list[dict[str, str | None]]


def write_person_data(person: Person, columns: Mapping[str, object], moment: datetime, reason: str) -> WrittenData:
    """Write changed `columns` onto the locked `person`, in the caller's transaction, and let the code follow: the
    one writer of a person's own data, called by webapp/registry/data_changes.py, which checks and records it.

    The current code is superseded (with the data-change cause when it showed what changed) and the next one
    signed with the new data. A new
    category or end of the right gives the policy the end the rules give it (`corrected_end`). If the policy is
    then no longer in force (it ended, or it is suspended or terminated), the current code is withdrawn and no code
    is signed for it. A newborn with no policy of their own yet has no code to follow. A corrected
    birth date moves the last day of the links that end at the person's majority (`representations.follow_birth_date`).
    """
    policy = people.open_policy(person)
    if policy is not None:
        refused = _refusal(person, policy, Operation.CORRECT)
        if refused is not None:
            raise refused
    born_before = person.birth_date
    for field, value in columns.items():
        setattr(person, field, value)
    links_moved = []
    if "birth_date" in columns:
        links_moved = representations.follow_birth_date(person, born_before, clock.today_in_moscow(moment))
    if policy is not None and columns.keys() & {"category", "right_valid_until"}:
        policy.category = person.category
        policy.valid_to = corrected_end(
            Category(person.category),
            PolicyKind(policy.kind),
            policy.valid_from,
            person.right_valid_until,
            public_holidays.days(),
        )
    db.session.flush()
    # The desk says «данные изменились» only when what the old code shows (the name, the birth date) changed.
    cause = StatusCause.DATA_CHANGE if columns.keys() & CARRIED_BY_CODE else StatusCause.NONE
    return WrittenData(_renew_code(person, policy, moment, reason, cause), links_moved)


@atomic
def revoke(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> IssuedCode:
    """Withdraw the current code (stolen, issued in error). No new code is signed."""
    if not reason.strip():
        raise RegistryError(N_("Укажите причину отзыва"))
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    _policy_for(person, Operation.REVOKE)
    code = people.current_code(person)
    assert code is not None  # the gate refuses REVOKE without one
    _set_code_status(code, CodeStatus.REVOKED, reason, moment)
    audit.record(actor, "revoke", "code", enp, reason, {"serial": code.serial}, at=moment)
    return code


def _set_policy_status(
    enp: str, operation: Operation, status: PolicyStatus, actor: str, reason: str, scope: str | None, moment: datetime
) -> Policy:
    if not reason.strip():
        raise RegistryError(N_("Укажите причину"))
    person = people.person_by_enp(enp, scope, lock=True)
    policy = _policy_for(person, operation)
    policy.status = status
    policy.status_reason = reason
    _code_follows_policy(person, policy, reason, moment)
    if status is PolicyStatus.TERMINATED:  # final: a one-time code given before opens no account for it
        accounts.void_one_time_codes(person.id, moment)
    audit.record(actor, str(operation), "policy", enp, reason, at=moment)
    return policy


def _code_follows_policy(person: Person, policy: Policy, reason: str, moment: datetime) -> None:
    """The person's code takes the policy's new status, so that the published lists say what the registry says.

    Suspending or terminating lists the code under that status: offline verifiers cannot ask the registry.
    Resuming supersedes the suspended code and signs the next serial: nothing ever comes off a list.
    """
    code = people.current_code(person) or db.session.scalar(
        select(IssuedCode).where(IssuedCode.person_id == person.id, IssuedCode.status == CodeStatus.SUSPENDED)
    )
    if policy.status == PolicyStatus.ACTIVE:
        if code is not None and code.status != CodeStatus.CURRENT:
            _set_code_status(code, CodeStatus.SUPERSEDED, reason, moment)
        _renew_code(person, policy, moment, reason)
    elif code is not None:  # none: withdrawn before (revoked, say), nothing to list
        _set_code_status(code, CodeStatus(policy.status), reason, moment)


@atomic
def suspend(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> Policy:
    """Suspend during military service; the current code is listed as `suspended`."""
    return _set_policy_status(enp, Operation.SUSPEND, PolicyStatus.SUSPENDED, actor, reason, scope, clock.now(now))


@atomic
def resume(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> Policy:
    """The service ended: the policy is active again, and the next serial supersedes the suspended code (or
    is signed now if the person had no code left, say because a key compromise withdrew it meanwhile)."""
    return _set_policy_status(enp, Operation.RESUME, PolicyStatus.ACTIVE, actor, reason, scope, clock.now(now))


@atomic
def terminate(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> Policy:
    """Terminate on death or when the right ends; it is final, and the code is listed as `terminated`."""
    return _set_policy_status(enp, Operation.TERMINATE, PolicyStatus.TERMINATED, actor, reason, scope, clock.now(now))


@atomic
def change_insurer(
    enp: str,
    new_insurer_code: str,
    applied_on: date,
    actor: str,
    exception: str = "",
    now: datetime | None = None,
    birth_date: date | None = None,
    *,
    document: str = "",
) -> IssuedCode:
    """The new insurer takes the record over and signs a new code; the number stays.

    Only an active policy moves (a suspended or terminated one stays where it is). The application is
    dated from the person's last change of insurer or registration up to today, entered within a few
    working days (`check_application_date`). Once a calendar year with the application by 1 November,
    unless the person moved region (`exception="moved_region"`) or the insurer left the system
    (`exception="insurer_left"`), on what the registry knows or on a `document` named and audited
    (`require_grounds`). The application's `birth_date`, when given, must match the locked record: a
    mistyped number must not move someone else (`NoMatch`, for a number not held as well). A temporary
    certificate moves with its term: a transfer gives it no new 45 working days.
    """
    moment = clock.now(now)
    person = _applicant(enp, birth_date)
    new_insurer = people.insurer_by_code(new_insurer_code)
    if new_insurer.id == person.insurer_id:
        raise RegistryError(N_("Застрахованный уже в этой СМО"))
    try:
        old_policy = _policy_for(person, Operation.CHANGE_INSURER)
    except RegistryError as refused:
        raise NotMovable(refused.message, field=refused.field, **refused.params) from None
    document = " ".join(document.split())
    _require_application(person, new_insurer, applied_on, exception, document, moment)
    db.session.add(
        InsurerChange(
            person_id=person.id,
            from_insurer_id=person.insurer_id,
            to_insurer_id=new_insurer.id,
            applied_on=applied_on,
            exception=exception,
        )
    )
    _close(old_policy, reasons.CHANGED_TO_INSURER % {"insurer": new_insurer.code})
    accounts.void_one_time_codes(person.id, moment)  # the former insurer's: its care of the person ends here
    person.insurer = new_insurer
    _move_to_region(person, new_insurer.region_code)
    if exception == MOVED_REGION and new_insurer.region is not None:
        person.region = new_insurer.region
    kind = PolicyKind(old_policy.kind)
    carried = (old_policy.valid_from, old_policy.valid_to) if kind is PolicyKind.TEMPORARY_CERTIFICATE else None
    code = _sign_new_code(
        person, _new_policy(person, new_insurer, kind, moment, carried), moment, reasons.INSURER_CHANGED
    )
    details = {"from": old_policy.insurer.code, "to": new_insurer.code, "applied_on": applied_on.isoformat()}
    details |= {"serial": code.serial} | ({"document": document} if document else {})
    audit.record(actor, "change_insurer", "person", enp, exception, details, at=moment)
    return code


def _move_to_region(person: Person, region_code: str) -> None:
    """The person and every row of theirs into the region of their new insurer.

    On PostgreSQL the person's UPDATE moves the row to the region's partition, and the references carry the
    move on to the policies, their codes and the codes' events (ON UPDATE CASCADE) and a trigger to the ЕНП
    directory (migrations/versions/0012_region_partitions.py); the UPDATEs below then find nothing left to
    change. SQLite's flat tables have no cascade: the UPDATEs do the work there.
    """
    if person.region_code == region_code:
        return
    person.region_code = region_code
    db.session.flush()
    codes = select(IssuedCode.id).where(IssuedCode.person_id == person.id).scalar_subquery()
    for model, theirs in (
        (Policy, Policy.person_id == person.id),
        (IssuedCode, IssuedCode.person_id == person.id),
        (RevocationEvent, RevocationEvent.code_id.in_(codes)),
    ):
        moved = update(model).where(theirs, model.region_code != region_code)
        db.session.execute(moved.values(region_code=region_code))


def _applicant(enp: str, birth_date: date | None) -> Person:
    """The person a transfer's application names, locked; with a birth date, any mismatch is `NoMatch`."""
    if birth_date is None:
        return people.person_by_enp(enp, lock=True)
    try:
        person = people.person_by_enp(enp, lock=True)
    except NotFound:
        person = None
    if person is None or person.birth_date != birth_date:
        raise NoMatch(N_("В реестре нет застрахованного с таким ЕНП и датой рождения"))
    return person


def _require_application(
    person: Person, new_insurer: Insurer, applied_on: date, exception: str, document: str, moment: datetime
) -> None:
    """The rules on the application itself: its date, once a year by 1 November, and an exception's grounds."""
    earliest = _earliest_application(person)
    check_application_date(applied_on, clock.today_in_moscow(moment), earliest, public_holidays.days())
    may_change_insurer(applied_on, _ordinary_changes_in(person, applied_on.year), exception)
    region_now = person.region or person.insurer.region
    new_region = new_insurer.region
    insurer_gone = not person.insurer.active
    require_grounds(exception, region_now and region_now.code, new_region and new_region.code, insurer_gone, document)


def _earliest_application(person: Person) -> date:
    """The first day an application to change insurer may carry: the last change's, or the registration's."""
    last_change = db.session.scalar(
        select(func.max(InsurerChange.applied_on)).where(InsurerChange.person_id == person.id)
    )
    registered = db.session.scalar(select(func.min(Policy.valid_from)).where(Policy.person_id == person.id))
    return max(day for day in (last_change, registered) if day is not None)


def _ordinary_changes_in(person: Person, year: int) -> int:
    """Changes of insurer without an exception applied for in `year`: the once-a-year rule's count."""
    return (
        db.session.scalar(
            select(func.count(InsurerChange.id)).where(
                InsurerChange.person_id == person.id,
                InsurerChange.exception == "",
                InsurerChange.applied_on >= date(year, 1, 1),
                InsurerChange.applied_on <= date(year, 12, 31),
            )
        )
        or 0
    )


@atomic
def link_representative(representative_enp: str, represented_enp: str, actor: str, now: datetime | None = None) -> bool:
    """Link a representative to the person they act for; False if the link was already there."""
    return _link(people.person_by_enp(representative_enp), people.person_by_enp(represented_enp), actor, clock.now(now))


def _link(representative: Person, represented: Person, actor: str, moment: datetime) -> bool:
    if representative.id == represented.id:
        raise RegistryError(N_("Человек не может представлять сам себя"))
    serialised("representations")  # two links closing one circle between them (two imports) each see no circle
    today = clock.today_in_moscow(moment)
    if representations.represents(represented, representative, today):
        raise RegistryError(representations.CIRCLE)
    link = db.session.scalar(
        select(Representation).where(
            Representation.representative_id == representative.id, Representation.represented_id == represented.id
        )
    )
    valid_to = representation_until(represented.birth_date, today)
    if link is not None and (link.valid_to is None or link.valid_to >= today):
        return False
    if link is not None and representations.ended_on_grounds(link):
        assert link.valid_to is not None
        raise RegistryError(representations.ENDED_ON_GROUNDS, day=link.valid_to.strftime("%d.%m.%Y"))
    if link is not None:  # a parent's, ended at majority: named again for the adult, a guardian's from now on
        link.valid_to = valid_to
        link.ended_grounds = None
    else:
        db.session.add(Representation(representative=representative, represented=represented, valid_to=valid_to))
    db.session.flush()
    audit.record(
        actor,
        "link_representative",
        "person",
        represented.enp,
        details={"representative": representative.enp},
        at=moment,
    )
    return True


@atomic
def issue_newborn_policy(enp: str, actor: str, scope: str | None = None, now: datetime | None = None) -> IssuedCode:
    """The newborn's own policy, with the insurer holding its record (the one covering it): the choice made.

    Until then the child is covered by the mother's (representative's) insurer for 30 days; after them it
    would have no policy at all.
    """
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    require_newborn_policy_due(person)
    code = _sign_new_code(person, _new_policy(person, person.insurer, PolicyKind.POLICY, moment), moment, "")
    details = {"insurer": person.insurer.code, "serial": code.serial}
    audit.record(actor, "issue_newborn_policy", "person", enp, details=details, at=moment)
    return code


@atomic
def register_newborn(
    data: people.PersonData, representative_enp: str, actor: str, now: datetime | None = None
) -> Person:
    """A newborn with no policy yet: covered by the representative's insurer for 30 days."""
    if data.birth_registered_on is None:
        raise RegistryError(N_("Укажите дату государственной регистрации рождения"), field="birth_registered_on")
    people.require_unregistered(data)
    representative = people.person_by_enp(representative_enp)
    child = Person(**data.columns(), insurer=representative.insurer, region_code=representative.insurer.region_code)
    until = representation_until(data.birth_date, clock.today_in_moscow(clock.now(now)))
    db.session.add_all([child, Representation(representative=representative, represented=child, valid_to=until)])
    db.session.flush()
    audit.record(
        actor,
        "register_newborn",
        "person",
        child.enp,
        details={"representative": representative_enp},
        at=clock.now(now),
    )
    return child
