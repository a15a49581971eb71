"""Citizens open their own accounts with a one-time code their insurer hands them, and set a new password
with one when they forget theirs: the insurer, who sees them in person, is who vouches for them either way.

The code is short enough to read out or print on a slip (8 letters and digits,
without look-alikes: webapp/registry/readable.py), valid for a week, used once, and stored only as a keyed hash.
Issuing a new code voids the person's earlier unused ones, and disabling the staff login that issued a code
voids it (webapp/registry/accounts.py `set_active`).

A code has 40 bits: anyone holding a plain hash of it (a copy of the database or a
backup) could try them all in minutes. So the registry keeps HMAC-SHA256 of the
code under a key derived from SECRET_KEY, which is not in the database. Changing
SECRET_KEY voids every unused code (the insurer issues new ones); codes issued
before the keyed hash, stored as plain SHA-256, no longer match anything.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import ActivationCode, Person, Role
from webapp.registry import accounts, audit, people, readable
from webapp.registry.errors import N_, InvalidFields, RegistryError

CODE_LENGTH = 8  # 40 bits
CODE_LIFETIME = timedelta(days=7)
#: One message for every way a code can fail, so it tells nothing about which part was wrong; and what to do
#: next, since the person cannot tell which part to fix: compare both, and failing that get a new code.
REJECTED = N_(
    "ЕНП или код не подходят, или код уже использован либо истёк. Сверьте 16 цифр ЕНП с полисом и код — с "
    "выданным; если не получается, новый код выдаст ваша страховая компания"
)
#: Said only to whoever holds the person's good code.
HAS_ACCOUNT = N_("У вас уже есть учётная запись. С этим кодом задайте новый пароль: «Забыли пароль?» на странице входа")
NO_ACCOUNT = N_("Учётной записи ещё нет. С этим кодом создайте её на странице «Первый вход»")
LOGIN_DISABLED = N_(
    "Вход для вашей учётной записи отключён. Включить его может только оператор реестра: обратитесь в свою "
    "страховую компанию"
)


#: The audit action of guesses at a person's code reaching the day's limit from every address (webapp/web/auth.py).
GUESS_LIMIT_ACTION = "code_guess_limit_reached"


#: What the key for codes is derived under: the same SECRET_KEY also signs session cookies.
_KEY_PURPOSE = b"oms-activation-code"


def _hash(code: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    key = hmac.new(secret if isinstance(secret, bytes) else secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, readable.typed(code).encode("ascii", "ignore"), hashlib.sha256).hexdigest()


def display(code: str) -> str:
    """XXXX-XXXX, easier to read out."""
    return readable.in_groups(code, CODE_LENGTH // 2)


def require_may_issue(person: Person) -> None:
    """Raise the `RegistryError` `issue_code` refuses the person with: for it, and the page that asks before it."""
    if people.policy_terminated(person):  # final: no account to open or recover for it
        raise RegistryError(N_("Полис прекращён: код для входа в личный кабинет не выдаётся"))
    account = accounts.citizen_account(person)
    if account is not None and not account.active:
        raise RegistryError(N_("Вход в личный кабинет отключён оператором реестра: код ничего не изменит"))


def unused_code_issued_at(person: Person, now: datetime | None = None) -> datetime | None:
    """When the person's newest code still good (unused, in date) was issued, if there is one: a new code voids it."""
    moment = now or datetime.now(UTC)
    return db.session.scalar(
        select(func.max(ActivationCode.created_at)).where(
            ActivationCode.person_id == person.id, ActivationCode.used_at.is_(None), ActivationCode.expires_at > moment
        )
    )


@atomic
def issue_code(enp: str, actor: str, scope: str | None = None, now: datetime | None = None) -> str:
    """A new one-time code for one of the insurer's people, to open their account or, if they have one, to set
    a new password for it; shown once, never stored."""
    moment = now or datetime.now(UTC)
    person = people.person_by_enp(enp, scope, lock=True)
    require_may_issue(person)
    account = accounts.citizen_account(person)
    accounts.void_one_time_codes(person.id, moment)
    code = readable.random_text(CODE_LENGTH)
    db.session.add(
        ActivationCode(
            person=person,
            code_hash=_hash(code),
            created_at=moment,
            expires_at=moment + CODE_LIFETIME,
            issued_by=actor[: ActivationCode.__table__.c.issued_by.type.length],
        )
    )
    audit.record(actor, "issue_recovery_code" if account else "issue_activation_code", "person", enp, at=moment)
    return code


def _usable_code(enp: str, code: str, moment: datetime) -> ActivationCode:
    """The code's record, locked, if the code is this person's, unused and in date."""
    missing = [
        RegistryError(message, field=field)
        for field, message, typed in (
            ("enp", N_("Укажите ЕНП"), enp.strip()),
            ("code", N_("Укажите код"), readable.typed(code)),
        )
        if not typed
    ]
    if missing:
        raise InvalidFields(missing)
    record = db.session.scalar(select(ActivationCode).where(ActivationCode.code_hash == _hash(code)).with_for_update())
    if record is None or record.person.enp != enp.strip() or record.used_at is not None or record.expires_at <= moment:
        raise RegistryError(REJECTED, field="code")
    return record


@atomic
def activate(enp: str, code: str, username: str, password: str, now: datetime | None = None) -> accounts.Vouched:
    """The person's own account, if the code is theirs, unused and in date."""
    moment = now or datetime.now(UTC)
    record = _usable_code(enp, code, moment)
    if accounts.citizen_account(record.person) is not None:
        raise RegistryError(HAS_ACCOUNT, field="code")
    record.used_at = moment
    actor = f"citizen:{username.strip().lower()}"  # the login as it is stored
    user = accounts.create_user(username, password, Role.CITIZEN, actor, enp=record.person.enp)
    audit.record(f"citizen:{user.username}", "activate", "person", record.person.enp, at=moment)
    return accounts.Vouched(user, user.password_hash)


@atomic
def recover(enp: str, code: str, password: str, now: datetime | None = None) -> accounts.Vouched:
    """A new password for the person's own account, if the code is theirs, unused and in date. The login
    stays as it was; every session of it ends, wherever someone is logged in with the forgotten password."""
    moment = now or datetime.now(UTC)
    record = _usable_code(enp, code, moment)
    user = accounts.citizen_account(record.person)
    if user is None:
        raise RegistryError(NO_ACCOUNT, field="code")
    if not user.active:
        raise RegistryError(LOGIN_DISABLED, field="code")
    record.used_at = moment
    accounts.set_password(user, password)
    audit.record(f"citizen:{user.username}", "recover_password", "person", record.person.enp, at=moment)
    return accounts.Vouched(user, user.password_hash)


@atomic
def note_guess_limit(enp: str, allowed: int, until: datetime) -> None:
    """Guesses at the code of whoever holds `enp` reached the day's limit from every address: noted on the person's
    trail, where their insurer reads it, once a window (the caller's part). A number nobody holds (any text typed)
    has no trail, and is noted nowhere."""
    if db.session.scalar(select(Person.id).where(people.by_enp(enp))) is None:
        return
    details = {"allowed": allowed, "until": until.isoformat()}
    audit.record("anonymous", GUESS_LIMIT_ACTION, "person", enp, details=details)
