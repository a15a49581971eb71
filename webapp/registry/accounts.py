"""Users and API tokens: creation, password checks, token look-up."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Select, bindparam, func, select, update

from webapp.db import prepared_reads, worker_state
from webapp.db.transactions import atomic, locked
from webapp.extensions import db
from webapp.models import ActivationCode, ApiToken, Clinic, Person, Role, User
from webapp.registry import audit, login_sessions, password_guesses, people, readable, typed_names
from webapp.registry.errors import N_, InvalidFields, NotFound, RegistryError

MIN_PASSWORD_LENGTH = 10
#: A login: ASCII letters, digits, dots, hyphens and underscores, a letter or a digit first, kept in small
#: letters. No letters of other scripts that look like Latin ones, nothing invisible or right-to-left, and
#: `Ivanova` and `ivanova` are one login.
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
USERNAME_RULE = N_("Логин — до 80 латинских букв, цифр, точек, дефисов и подчёркиваний; первый знак — буква или цифра")
TOKEN_PREFIX = "oms_"  # noqa: S105 -- a visible marker, not a secret
#: How long a worker trusts a token it found live without asking the database again (API_TOKEN_TRUST_SECONDS).
#: A revocation takes effect at once on the worker that made it, and within this time on every other.
TOKEN_TRUST_SECONDS = 10.0

#: The admin's form asks «Для чего», the command `--name`: the refusal names both.
TOKEN_NAME_TOO_LONG = N_("Название токена (для чего он): не длиннее %(count)d знаков")

_DEFAULTS = PasswordHasher()


def _hasher() -> PasswordHasher:
    """argon2id with the library's defaults; tests may lower the cost (ARGON2_TIME_COST, ARGON2_MEMORY_KIB)."""
    config = current_app.config
    return PasswordHasher(
        time_cost=config.get("ARGON2_TIME_COST", _DEFAULTS.time_cost),
        memory_cost=config.get("ARGON2_MEMORY_KIB", _DEFAULTS.memory_cost),
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _tries(password: str) -> tuple[str, ...]:
    """The password as typed, then, where it reads as a generated password typed another way (without its dashes,
    in small letters), as it was shown: a member of staff copying it off a slip need not copy the dashes. Only
    such a password costs a second argon2 verification, and only when the first fails."""
    shown = readable.as_shown(password, GENERATED_PASSWORD_LENGTH, GENERATED_PASSWORD_GROUP)
    return (password,) if shown in (None, password) else (password, shown)


def password_matches(user: User, password: str) -> bool:
    return any(_verify(user.password_hash, tried) for tried in _tries(password))


@functools.cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """A hash of no one's password, made at the cost real ones are made at."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib).hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Vouched:
    """A login, and the password hash this request set or checked for it: a session is started for that hash only
    (webapp/registry/login_sessions.py `start`), so that a new password someone else set meanwhile (the operator's
    reset of a stolen one) is not outlived by a session of the old."""

    user: User
    password_hash: str


class LoginDisabled(RegistryError):
    """The right password for a login the operator disabled."""


LOGIN_DISABLED = N_(
    "Вход для этой учётной записи отключён оператором реестра. Застрахованным поможет их страховая компания, "
    "сотрудникам — оператор реестра"
)


class WrongPassword(RegistryError):
    """The password given as one's own is not: a guess, which counts (webapp/registry/password_guesses.py)."""


def login_name(typed: str) -> str | None:
    """The login `typed` stands for, trimmed and in small letters; None if it cannot be one.

    Only the login rule's ASCII gets as far as a look-up or a count: in another script "admİn" would be
    "admin" to PostgreSQL's lower() and yet a login of its own to a count kept in Python.
    """
    login = typed.strip()
    return login.lower() if _USERNAME.fullmatch(login) else None


def authenticate(username: str, password: str) -> User | None:
    """The active user with this login and password, or None; `LoginDisabled` for the right password of a login
    the operator disabled.

    Every attempt costs the same argon2 verifications whether the login exists or not (one, or two for a
    generated password typed another way: `_tries`): an unknown login is checked against a dummy hash, so the
    time a refusal takes does not tell which logins exist.
    """
    login = login_name(username)
    user = db.session.scalar(_by_username(login)) if login else None
    if user is None:
        hasher = _hasher()
        for tried in _tries(password):  # as many verifications as a wrong password of a real login costs
            _verify(_dummy_hash(hasher.time_cost, hasher.memory_cost), tried)
        return None
    if not password_matches(user, password):
        return None
    if not user.active:  # said only to who knows the password: they would otherwise think they forgot it
        raise LoginDisabled(LOGIN_DISABLED)
    return user


def _by_username(login: str) -> Select[tuple[User]]:
    """The user of a login (`login_name`'s, in small letters), by the unique index on lower(username)."""
    return select(User).where(func.lower(User.username) == login)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RegistryError(
            N_("Пароль должен быть не короче %(count)d знаков"), field="password", count=MIN_PASSWORD_LENGTH
        )


#: Symbols of a generated password: 20 × 5 = 100 bits (it was 96: `secrets.token_urlsafe(12)`, whose alphabet
#: has 0/O/o and 1/l/I in it), shown in groups of 4 with the dashes part of it.
GENERATED_PASSWORD_LENGTH = 20
GENERATED_PASSWORD_GROUP = 4


def generated_password() -> str:
    """A password made for the operator to hand to a member of staff once (a new login's, or a reset's), read off
    the screen and typed: no symbol in it can be taken for another (webapp/registry/readable.py)."""
    return readable.in_groups(readable.random_text(GENERATED_PASSWORD_LENGTH), GENERATED_PASSWORD_GROUP)


def set_password(user: User, password: str) -> None:
    """The login's new password. Every session of the login ends, so no copy of any of its cookies stays live
    (a caller that has just checked who is at this browser starts it a new one); a citizen's unused one-time
    codes end, so none handed out before sets another password over this one; and the wrong passwords counted
    against the old one are forgotten."""
    check_new_password(password)
    user.password_hash = hash_password(password)
    login_sessions.end_all(user.id)
    if user.person_id is not None:
        void_one_time_codes(user.person_id, datetime.now(UTC))
    password_guesses.forget(user.username)


def void_one_time_codes(person_id: int, moment: datetime) -> None:
    """The person's unused one-time codes from their insurer (webapp/registry/activation.py) end at `moment`."""
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.person_id == person_id, ActivationCode.used_at.is_(None))
        .values(expires_at=moment)
    )


def clinic_by_code(code: str) -> Clinic:
    clinic = db.session.scalar(select(Clinic).where(Clinic.code == code))
    if clinic is None:
        raise NotFound(N_("Клиника с кодом %(code)s не найдена"), field="clinic", code=code)
    return clinic


@atomic
def create_user(
    username: str,
    password: str,
    role: Role,
    actor: str,
    *,
    insurer_code: str | None = None,
    clinic_code: str | None = None,
    enp: str | None = None,
) -> User:
    """A login. Insurer staff need an insurer, clinic staff a clinic, a citizen their ЕНП."""
    check_new_login(username, password, role, insurer_code=insurer_code, clinic_code=clinic_code, enp=enp)
    username = username.strip().lower()
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        insurer=people.insurer_by_code(insurer_code) if role is Role.INSURER and insurer_code else None,
        clinic=clinic_by_code(clinic_code) if role is Role.CLINIC and clinic_code else None,
        person=_person_without_account(enp) if role is Role.CITIZEN and enp else None,
        created_at=datetime.now(UTC),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "create_user", "user", username, details={"role": str(role)})
    return user


#: What each role must be tied to, the field that names it, and the refusal without it.
_ROLE_NEEDS = {
    Role.INSURER: ("insurer", N_("Укажите СМО")),
    Role.CLINIC: ("clinic", N_("Укажите клинику")),
    Role.CITIZEN: ("enp", N_("Укажите ЕНП")),
}


def check_new_login(
    username: str,
    password: str,
    role: Role | None,
    *,
    insurer_code: str | None = None,
    clinic_code: str | None = None,
    enp: str | None = None,
) -> None:
    """`InvalidFields` with every reason a new login would be refused (a form shows them all at once), the
    login's, the password's and the organisation's; a role not yet chosen (None) needs no organisation."""
    errors: list[RegistryError] = []
    login = username.strip()
    if not login:
        errors.append(RegistryError(N_("Укажите имя пользователя"), field="username"))
    elif not _USERNAME.fullmatch(login):
        errors.append(RegistryError(USERNAME_RULE, field="username"))
    elif db.session.scalar(_by_username(login.lower())):
        errors.append(RegistryError(N_("Пользователь %(username)s уже есть"), field="username", username=login.lower()))
    try:
        check_new_password(password)
    except RegistryError as error:
        errors.append(error)
    given = {Role.INSURER: insurer_code, Role.CLINIC: clinic_code, Role.CITIZEN: enp}
    if role in _ROLE_NEEDS and not given[role]:
        field, message = _ROLE_NEEDS[role]
        errors.append(RegistryError(message, field=field))
    if errors:
        raise InvalidFields(errors)


def citizen_account(person: Person) -> User | None:
    """The person's own login, if they opened one."""
    return db.session.scalar(select(User).where(User.person_id == person.id))


def require_no_account(person: Person) -> None:
    if citizen_account(person) is not None:
        raise RegistryError(N_("У застрахованного уже есть учётная запись"))


def _person_without_account(enp: str) -> Person:
    """The person, locked, so two activations (or a login made while one runs) cannot both succeed."""
    person = people.person_by_enp(enp, lock=True)
    require_no_account(person)
    return person


def hash_token(token: str) -> str:
    """What the registry keeps of a token (SHA-256): a worker finds the token by it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@atomic
def create_token(clinic_code: str, name: str, actor: str) -> tuple[ApiToken, str]:
    """A new bearer token for a clinic system. The token itself is shown once and never stored."""
    clinic = clinic_by_code(clinic_code)
    name = typed_names.kept(name, ApiToken.__table__.c.name, too_long=TOKEN_NAME_TOO_LONG)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(clinic=clinic, name=name, token_hash=hash_token(token), created_at=datetime.now(UTC))
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "create_token", "clinic", clinic.code, details={"token_id": record.id, "name": name})
    return record, token


def token(token_id: int) -> ApiToken:
    record = db.session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(N_("Токен не найден"))
    return record


@atomic
def revoke_token(token_id: int, actor: str) -> ApiToken:
    record = token(token_id)
    if record.revoked_at is None:
        record.revoked_at = datetime.now(UTC)
        audit.record(actor, "revoke_token", "clinic", record.clinic.code, details={"token_id": token_id})
    _trusted_tokens().pop(record.token_hash, None)
    return record


@dataclass(frozen=True)
class LiveToken:
    """A live bearer token as the API counts it: the token's id, and its clinic's (webapp/registry/clinic_checks.py)."""

    id: int
    clinic_id: int


#: An indexed look-up: a plain statement, built once (no ORM objects on the hot path).
_LIVE_TOKEN = select(ApiToken.id, ApiToken.clinic_id).where(
    ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None)
)


def _trusted_tokens() -> dict[str, tuple[float, LiveToken]]:
    """This worker's live tokens: token hash → the monotonic time until which it is trusted unasked, and who it is."""
    return worker_state.current().trusted_api_tokens


def live_token(token: str) -> LiveToken | None:
    """Who a clinic system's bearer token is, if it exists and was not revoked; None otherwise.

    A busy clinic system sends many requests a second; each worker asks the database about its token
    once per API_TOKEN_TRUST_SECONDS instead of on every request. Only live tokens are remembered.
    """
    token_hash = hash_token(token)
    trusted = _trusted_tokens()
    now = time.monotonic()
    until, known = trusted.get(token_hash, (0.0, None))
    if known is not None and until > now:
        return known
    row = prepared_reads.first_row(_LIVE_TOKEN, {"token_hash": token_hash})
    if row is None:
        trusted.pop(token_hash, None)
        return None
    live = LiveToken(row.id, row.clinic_id)
    trusted[token_hash] = (now + current_app.config.get("API_TOKEN_TRUST_SECONDS", TOKEN_TRUST_SECONDS), live)
    return live


def user_by_login(typed: str) -> User:
    login = login_name(typed)
    user = db.session.scalar(_by_username(login)) if login else None
    if user is None:
        raise NotFound(N_("Пользователь %(username)s не найден"), username=typed.strip())
    return user


def user_by_id(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("Пользователь не найден"))
    return user


@atomic
def set_active(user_id: int, active: bool, actor: str) -> User:
    """Let a login in, or keep it out: a disabled login's sessions end for good (enabling it again
    brings none back), and so do the one-time codes it issued."""
    user = user_by_id(user_id)
    if not active:
        login_sessions.end_all(user.id)
        _void_codes_issued_by(user)
    if user.active != active:
        user.active = active
        audit.record(actor, "enable_user" if active else "disable_user", "user", user.username)
    return user


def _void_codes_issued_by(user: User) -> None:
    """The unused one-time codes a member of an insurer's staff issued end with their login: a code sets a citizen's
    password, so one issued under a stolen staff password would otherwise open the citizen's account for a week
    after the operator disabled that login. Whoever got a code from them honestly asks their insurer for another."""
    if user.role != Role.INSURER:
        return
    now = datetime.now(UTC)
    db.session.execute(
        update(ActivationCode)
        .where(
            ActivationCode.issued_by == f"smo:{user.username}",
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > now,
        )
        .values(expires_at=now)
    )


@atomic
def change_password(user_id: int, current: str, new: str, actor: str) -> Vouched:
    """The user's own password change: the current password first. Every session of the login ends,
    this browser's too (the caller starts it a new one)."""
    user = db.session.scalar(locked(User, User.id == user_id))  # a reset meanwhile waits, or is what is checked
    if user is None:
        raise NotFound(N_("Пользователь не найден"))
    if not password_matches(user, current):
        raise WrongPassword(N_("Текущий пароль неверен"), field="current_password")
    set_password(user, new)
    audit.record(actor, "change_password", "user", user.username)
    return Vouched(user, user.password_hash)


def require_staff(user: User) -> None:
    """Only staff get a new password from the operator."""
    if user.role == Role.CITIZEN:
        raise RegistryError(N_("Новый пароль гражданину выдаёт его страховая компания, по коду"))


@atomic
def reset_password(user_id: int, actor: str, password: str | None = None) -> tuple[User, str]:
    """A new password for a member of staff who forgot theirs: made here for the operator to hand over once,
    or typed at the command line (the only operator's own). A citizen gets theirs back from their insurer,
    who sees them in person (webapp/registry/activation.py)."""
    user = user_by_id(user_id)
    require_staff(user)
    password = generated_password() if password is None else password
    set_password(user, password)
    audit.record(actor, "reset_password", "user", user.username)
    return user, password


def find_users(query: str = "", role: str = "", limit: int = 100) -> list[User]:
    """Logins whose name holds `query`, of one role if given, by name: the operator's list."""
    found = select(User).order_by(User.username).limit(limit)
    if query:
        found = found.where(User.username.icontains(query, autoescape=True))
    if role in set(Role):
        found = found.where(User.role == role)
    return list(db.session.scalars(found))


def tokens() -> list[ApiToken]:
    """Every clinic API token, by clinic, newest first."""
    return list(
        db.session.scalars(select(ApiToken).join(ApiToken.clinic).order_by(Clinic.code, ApiToken.created_at.desc()))
    )


def live_tokens_by_clinic() -> dict[int, int]:
    """Clinic id → how many of its API tokens are not revoked."""
    return dict(
        db.session.execute(
            select(ApiToken.clinic_id, func.count()).where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.clinic_id)
        ).all()
    )
