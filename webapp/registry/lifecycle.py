"""The lifecycle of policies and codes: the one place where registry changes happen.

Every public function here is one transaction (`@atomic`): it commits whole,
or, on any error, leaves the registry as it was. Each records who, when, what
and why in the audit log. Views and CLI commands only call these.

`scope` is the insurer code of the staff member acting, or None for the
registry operator: an insurer never reaches another insurer's people.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import func, select

from policy_codes import Enp, encode
from policy_codes.revocation import digest_of_text
from webapp.db.transactions import atomic
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
)
from webapp.registry import audit, clock, people, public_holidays
from webapp.registry.codes import claims_for, text_hash
from webapp.registry.errors import NotFound, RegistryError
from webapp.registry.keys import keystore
from webapp.registry.rules import (
    may_change_insurer,
    policy_end,
    temporary_certificate_end,
)


def _require_open_policy(person: Person) -> Policy:
    policy = people.open_policy(person)
    if policy is None:
        raise RegistryError("У застрахованного нет действующего полиса")
    return policy


def _new_policy(person: Person, insurer: Insurer, kind: PolicyKind, now: datetime) -> Policy:
    issued_on = clock.today_in_moscow(now)
    end = policy_end(Category(person.category), issued_on, person.right_valid_until)
    if kind is PolicyKind.TEMPORARY_CERTIFICATE:
        end = temporary_certificate_end(issued_on, public_holidays.days(), end)
    policy = Policy(
        person=person,
        insurer=insurer,
        kind=kind,
        category=person.category,
        valid_from=issued_on,
        valid_to=end,
        status=PolicyStatus.ACTIVE,
        created_at=now,
    )
    db.session.add(policy)
    return policy


def _close(policy: Policy, reason: str) -> None:
    policy.status = PolicyStatus.CLOSED
    policy.status_reason = reason
    db.session.flush()


def _set_code_status(code: IssuedCode, status: CodeStatus, reason: str, now: datetime) -> None:
    """Withdraw a code, and feed the published revocation list under its new status (the list's heading)."""
    code.status = status
    code.status_reason = reason
    code.status_changed_at = now
    db.session.add(RevocationEvent(code_id=code.id, digest=digest_of_text(code.text), status=status, at=now))
    db.session.flush()  # before a new current code is inserted: one current code per person


def _sign_new_code(person: Person, policy: Policy, now: datetime, reason: str) -> IssuedCode:
    """Supersede the current code, if any, and sign the next serial with the policy's insurer key."""
    previous = people.current_code(person)
    if previous is not None:
        _set_code_status(previous, CodeStatus.SUPERSEDED, reason, now)
    last_serial = db.session.scalar(select(func.max(IssuedCode.serial)).where(IssuedCode.person_id == person.id))
    serial = (last_serial or 0) + 1
    key = keystore.signing_key(policy.insurer.code, now)
    text = encode(claims_for(person, policy, serial, now), key)
    code = IssuedCode(
        person=person,
        policy=policy,
        serial=serial,
        kid=key.kid.hex(),
        issued_at=now,
        status=CodeStatus.CURRENT,
        text=text,
        text_hash=text_hash(text),
    )
    db.session.add(code)
    db.session.flush()
    return code


def _require_unregistered(enp: Enp) -> None:
    if db.session.scalar(select(Person.id).where(Person.enp == str(enp))):
        raise RegistryError("Застрахованный с таким ЕНП уже есть в реестре")


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
    _require_unregistered(data.enp)
    insurer = people.insurer_by_code(insurer_code)
    representative = people.person_by_enp(representative_enp) if representative_enp else None
    person = Person(**data.columns(), insurer=insurer)
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
    certificate = _require_open_policy(person)
    if certificate.kind != PolicyKind.TEMPORARY_CERTIFICATE:
        raise RegistryError("Полис уже выдан: временного свидетельства нет")
    _close(certificate, "выдан полис")
    code = _sign_new_code(
        person, _new_policy(person, certificate.insurer, PolicyKind.POLICY, moment), moment, "выдан полис"
    )
    audit.record(actor, "issue_policy", "person", enp, details={"serial": code.serial}, at=moment)
    return code


@atomic
def reissue(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> IssuedCode:
    """A new code for the same policy (lost phone, a new key): serial +1, the old one superseded."""
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    code = _sign_new_code(person, _require_open_policy(person), moment, reason or "перевыпуск")
    audit.record(actor, "reissue", "code", enp, reason, {"serial": code.serial}, at=moment)
    return code


@atomic
def correct_person(
    enp: str, data: people.PersonData, actor: str, reason: str, scope: str | None = None, now: datetime | None = None
) -> IssuedCode:
    """Correct name, birth date, sex or other data; the code is reissued with the new data."""
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    if str(data.enp) != enp:
        raise RegistryError("ЕНП не меняется")
    changed = {field: str(value) for field, value in data.columns().items() if getattr(person, field) != value}
    if not changed:
        raise RegistryError("Данные не изменились")
    for field, value in data.columns().items():
        setattr(person, field, value)
    code = _sign_new_code(person, _require_open_policy(person), moment, reason or "изменение данных")
    audit.record(actor, "correct", "person", enp, reason, {"fields": sorted(changed), "serial": code.serial}, at=moment)
    return code


@atomic
def revoke(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> IssuedCode:
    """Withdraw the current code (stolen, issued in error). No new code is signed."""
    if not reason.strip():
        raise RegistryError("Укажите причину отзыва")
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    code = people.current_code(person)
    if code is None:
        raise RegistryError("Действующего кода нет")
    _set_code_status(code, CodeStatus.REVOKED, reason, moment)
    audit.record(actor, "revoke", "code", enp, reason, {"serial": code.serial}, at=moment)
    return code


def _set_policy_status(
    enp: str,
    status: PolicyStatus,
    allowed_from: set[PolicyStatus],
    action: str,
    actor: str,
    reason: str,
    scope: str | None,
    now: datetime | None,
) -> Policy:
    if not reason.strip():
        raise RegistryError("Укажите причину")
    moment = clock.now(now)
    person = people.person_by_enp(enp, scope, lock=True)
    policy = _require_open_policy(person)
    if PolicyStatus(policy.status) not in allowed_from:
        raise RegistryError(f"Нельзя: полис в статусе «{policy.status}»")
    policy.status = status
    policy.status_reason = reason
    _code_follows_policy(person, policy, reason, moment)
    audit.record(actor, action, "policy", enp, reason, at=moment)
    return policy


def _code_follows_policy(person: Person, policy: Policy, reason: str, moment: datetime) -> None:
    """The person's code takes the policy's new status, so that the published lists say what the registry says.

    Suspending or terminating lists the code under that status: offline verifiers cannot ask the registry.
    Resuming supersedes the suspended code and signs the next serial: nothing ever comes off a list.
    """
    code = people.current_code(person) or db.session.scalar(
        select(IssuedCode).where(IssuedCode.person_id == person.id, IssuedCode.status == CodeStatus.SUSPENDED)
    )
    if code is None:  # withdrawn before (revoked, say): nothing to list, nothing to reissue
        return
    if policy.status == PolicyStatus.ACTIVE:
        _set_code_status(code, CodeStatus.SUPERSEDED, reason, moment)
        _sign_new_code(person, policy, moment, reason)
    else:
        _set_code_status(code, CodeStatus(policy.status), reason, moment)


@atomic
def suspend(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> Policy:
    """Suspend during military service; the current code is listed as `suspended`."""
    return _set_policy_status(enp, PolicyStatus.SUSPENDED, {PolicyStatus.ACTIVE}, "suspend", actor, reason, scope, now)


@atomic
def resume(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> Policy:
    """The suspension ends; the suspended code is superseded by the next serial."""
    return _set_policy_status(enp, PolicyStatus.ACTIVE, {PolicyStatus.SUSPENDED}, "resume", actor, reason, scope, now)


@atomic
def terminate(enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None) -> Policy:
    """Terminate on death or when the right ends; it is final, and the code is listed as `terminated`."""
    allowed = {PolicyStatus.ACTIVE, PolicyStatus.SUSPENDED}
    return _set_policy_status(enp, PolicyStatus.TERMINATED, allowed, "terminate", actor, reason, scope, now)


@atomic
def change_insurer(
    enp: str,
    new_insurer_code: str,
    applied_on: date,
    actor: str,
    exception: str = "",
    now: datetime | None = None,
    birth_date: date | None = None,
) -> IssuedCode:
    """The new insurer takes the record over and signs a new code; the number stays.

    Once a calendar year with the application by 1 November, unless the person
    moved region (`exception="moved_region"`) or the insurer left the system
    (`exception="insurer_left"`). The application's `birth_date`, when given, must
    match the locked record: a mistyped number must not move someone else.
    """
    moment = clock.now(now)
    person = people.person_by_enp(enp, lock=True)
    if birth_date is not None and person.birth_date != birth_date:
        raise NotFound("ЕНП и дата рождения не совпадают")
    new_insurer = people.insurer_by_code(new_insurer_code)
    if new_insurer.id == person.insurer_id:
        raise RegistryError("Застрахованный уже в этой СМО")
    earlier = db.session.scalar(
        select(func.count(InsurerChange.id)).where(
            InsurerChange.person_id == person.id,
            InsurerChange.exception == "",
            InsurerChange.applied_on >= date(applied_on.year, 1, 1),
            InsurerChange.applied_on <= date(applied_on.year, 12, 31),
        )
    )
    may_change_insurer(applied_on, earlier or 0, exception)
    old_policy = _require_open_policy(person)
    db.session.add(
        InsurerChange(
            person_id=person.id,
            from_insurer_id=person.insurer_id,
            to_insurer_id=new_insurer.id,
            applied_on=applied_on,
            exception=exception,
        )
    )
    _close(old_policy, f"смена СМО на {new_insurer.code}")
    person.insurer = new_insurer
    code = _sign_new_code(
        person, _new_policy(person, new_insurer, PolicyKind(old_policy.kind), moment), moment, "смена СМО"
    )
    audit.record(
        actor,
        "change_insurer",
        "person",
        enp,
        exception,
        {"from": old_policy.insurer.code, "to": new_insurer.code, "serial": code.serial},
        at=moment,
    )
    return code


@atomic
def link_representative(representative_enp: str, represented_enp: str, actor: str, now: datetime | None = None) -> bool:
    """Link a representative to the person they act for; False if the link was already there."""
    return _link(people.person_by_enp(representative_enp), people.person_by_enp(represented_enp), actor, clock.now(now))


def _link(representative: Person, represented: Person, actor: str, moment: datetime) -> bool:
    if representative.id == represented.id:
        raise RegistryError("Человек не может представлять сам себя")
    link = db.session.scalar(
        select(Representation).where(
            Representation.representative_id == representative.id, Representation.represented_id == represented.id
        )
    )
    if link is not None:
        return False
    db.session.add(Representation(representative=representative, represented=represented))
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
def register_newborn(
    data: people.PersonData, representative_enp: str, actor: str, now: datetime | None = None
) -> Person:
    """A newborn with no policy yet: covered by the representative's insurer for 30 days."""
    if data.birth_registered_on is None:
        raise RegistryError("Укажите дату государственной регистрации рождения")
    _require_unregistered(data.enp)
    representative = people.person_by_enp(representative_enp)
    child = Person(**data.columns(), insurer=representative.insurer)
    db.session.add_all([child, Representation(representative=representative, represented=child)])
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


def reissue_all_signed_by(
    kid_hex: str, actor: str, progress: Callable[[int, int], None] | None = None, batch_size: int = 500
) -> int:
    """After a key is marked compromised: reissue every current code it signed, with a new key.

    Works in batches, one transaction each, so an interrupted run is simply run
    again: it picks up the codes still current under the old key.
    """
    total = db.session.scalar(
        select(func.count(IssuedCode.id)).where(IssuedCode.kid == kid_hex, IssuedCode.status == CodeStatus.CURRENT)
    )
    done = 0
    while True:
        batch = db.session.scalars(
            select(IssuedCode.person_id)
            .where(IssuedCode.kid == kid_hex, IssuedCode.status == CodeStatus.CURRENT)
            .limit(batch_size)
        ).all()
        if not batch:
            return done
        done += _reissue_batch(list(batch), kid_hex, actor)
        if progress:
            progress(done, total or 0)


@atomic
def _reissue_batch(person_ids: list[int], kid_hex: str, actor: str) -> int:
    moment = clock.now()
    count = 0
    for person in db.session.scalars(select(Person).where(Person.id.in_(person_ids)).with_for_update()):
        code = people.current_code(person)
        if code is None or code.kid != kid_hex:
            continue  # reissued meanwhile
        reason = f"ключ {kid_hex} скомпрометирован"
        policy = people.open_policy(person)
        if policy is None:  # nothing to reissue for: the code is simply withdrawn
            _set_code_status(code, CodeStatus.REVOKED, reason, moment)
        else:
            _sign_new_code(person, policy, moment, reason)
        count += 1
    audit.record(actor, "mass_reissue", "key", kid_hex, "ключ скомпрометирован", {"codes": count}, at=moment)
    return count
