"""Configuration from the environment (README.md, "Configuration").

Secrets that are not given are generated once into the instance folder, so a
developer's `make run` works and nothing secret is written in the code.
Production sets them in the environment.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import string
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from limits import parse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from policy_codes.words import N_
from signing.keys import KEY_ENCRYPTION
from webapp import private_files

#: A clinic's per-minute look-up limits (webapp/registry/clinic_checks.py), in Flask-Limiter's notation. A desk checks
#: about one patient a minute; a harvester sends hundreds a second. Number look-ups (a typed ЕНП, a Code128, a
#: legacy paper) are limited per login at the reception page, per token through the API, and per clinic through
#: both together; every scan of one login, signed codes too, more loosely. A clinic system's token serves several
#: desks, so it may look up more than one login, and less than the whole clinic: a leaked token leaves the desks
#: room.
LOOK_UP_LIMITS = {
    "CLINIC_NUMBER_LOOK_UPS_PER_USER": "20 per minute",
    "CLINIC_NUMBER_LOOK_UPS_PER_TOKEN": "40 per minute",
    "CLINIC_NUMBER_LOOK_UPS_PER_CLINIC": "60 per minute",
    "CLINIC_SCANS_PER_USER": "120 per minute",
}

#: Failed matches of a transfer's ЕНП and birth date (webapp/registry/transfers.py) one insurer login, and all
#: of one insurer's logins, may make: staff mistype a date now and then; a guesser needs thousands.
TRANSFER_LIMITS = {
    "TRANSFER_FAILURES_PER_USER": "10 per hour",
    "TRANSFER_FAILURES_PER_INSURER": "30 per hour",
}


class SettingError(ValueError):
    """A setting the server cannot start with; the message names it (and never a secret's value). Russian, a catalog
    id as a `RegistryError`'s, filled from `params`: a server or a command says it in the console's language
    (webapp/console.py `translated`)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


#: A secret set by hand (or written by hand into the instance folder) that is shorter, made of fewer different
#: characters, or worth fewer bits by the alphabet its characters come from is refused. This catches the
#: obviously weak (a word or two, a test value, a repeated pattern): the registry's secrets are guessed
#: offline, from the database or a session cookie, at computer speed. It cannot tell a long phrase of words
#: from random characters: the README asks for random ones.
MIN_SECRET_LENGTH = 32
MIN_SECRET_CHARACTERS = 8
MIN_SECRET_BITS = 128
_ALPHABETS = (string.digits, string.ascii_lowercase, string.ascii_uppercase, string.punctuation + " ")
#: What each secret protects, and how to replace a weak one.
_SECRETS = {
    "SECRET_KEY": N_("его смена выводит всех из системы и лишает силы неиспользованные коды активации"),
    "SIGNING_KEY_PASSPHRASE": N_(
        "затем перешифруйте под неё хранимые ключи: flask --app webapp keys reencrypt --change-passphrase "
        "(команда спросит прежнюю)"
    ),
    "AUDIT_KEY": N_("у журнала аудита нет смены ключа: записи под прежним ключом перестанут проверяться"),
}


def _estimated_bits(secret: str) -> float:
    """Length × log2 of the alphabets the characters come from: a ceiling on what a human choice is worth."""
    alphabet = sum(len(letters) for letters in _ALPHABETS if any(char in letters for char in secret))
    alphabet += 128 if any(not char.isascii() for char in secret) else 0
    return len(secret) * math.log2(max(alphabet, 2))


def strong_secret(name: str, secret: str) -> str:
    """`secret`, unless it is obviously weak: then a SettingError naming the setting, not its value."""
    if (
        len(secret) < MIN_SECRET_LENGTH
        or len(set(secret)) < MIN_SECRET_CHARACTERS
        or _estimated_bits(secret) < MIN_SECRET_BITS
    ):
        raise SettingError(
            N_(
                "%(name)s слишком слабый: задайте не меньше %(length)d случайных знаков, как печатает "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`. Учтите: %(note)s"
            ),
            name=name,
            length=MIN_SECRET_LENGTH,
            note=_SECRETS[name],
        )
    return secret


def _secret(instance_path: str, name: str) -> str:
    """A secret from the environment, or else generated once into the instance folder; checked either way."""
    return strong_secret(name, os.environ.get(name) or instance_secret(instance_path, name.lower()))


def instance_secret(instance_path: str, name: str) -> str:
    """A random secret kept in `instance/<name>` (mode 0600), made on first use."""
    path = Path(instance_path) / name
    if not path.exists():
        private_files.create_once(path, secrets.token_urlsafe(32))
    return path.read_text(encoding="ascii").strip()


#: The databases the registry runs on, each through the one driver installed with it.
DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


def _backend(url: str) -> str:
    """The database a URL names through its driver, sqlite or postgresql; empty for anything else, which otherwise
    failed with a traceback as the app built its engines: a port that is no number (ValueError), a driver that is
    not there (postgresql+psycopg2, postgresql+nosuch)."""
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        return backend if DRIVERS.get(backend) == parsed.get_driver_name() else ""
    except (ArgumentError, ValueError):
        return ""


def database_url(instance_path: str) -> str:
    """DATABASE_URL, a SQLite or PostgreSQL one: anything else failed with a traceback at the first query. The
    message never quotes it (it may hold a password)."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'oms.sqlite'}"
    if not _backend(url):
        raise SettingError(
            N_(
                "DATABASE_URL — не адрес базы SQLite или PostgreSQL: sqlite:///path/to/oms.sqlite или "
                "postgresql+psycopg://user@host:5432/name"
            )
        )
    path = sqlite_file(url, instance_path)
    if path is not None and path.parent != Path(instance_path) and not path.parent.is_dir():
        # SQLite cannot make the file: the server started warning that the database did not answer, as for one down.
        raise SettingError(
            N_("DATABASE_URL: нет папки %(folder)s для файла базы SQLite: создайте её или укажите другой путь"),
            folder=str(path.parent),
        )
    return url


#: The query values of a SQLite URI (?uri=true) with which it opens no file on disk.
_IN_MEMORY = {"mode": "memory", "vfs": "memdb"}


def sqlite_file(url: str, instance_path: str) -> Path | None:
    """The file on disk a SQLite URL opens, as Flask-SQLAlchemy and SQLite read it; None for another database and
    for one that opens no file (no name, `:memory:`, a URI's `mode=memory` or `vfs=memdb`).

    Flask-SQLAlchemy puts a relative name in the instance folder (which it makes), also a relative `file:` URI's
    path (`?uri=true`), so that `file::memory:` is a file named `:memory:` there. Of a URI it cuts the first five
    characters whatever they are: a name that is no `file:` URI, or one on another host, is refused."""
    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or name in ("", ":memory:"):
        return None
    if parsed.query.get("uri"):
        if any(parsed.query.get(option) == value for option, value in _IN_MEMORY.items()):
            return None
        name = _uri_path(name)
    return Path(instance_path) / name  # an absolute name stays itself


def _uri_path(name: str) -> str:
    """The path of a `file:` URI, percent-decoded as SQLite does, without an authority (none, or localhost)."""
    path = name.removeprefix("file:")
    if path.startswith("//"):
        authority, _, rest = path[2:].partition("/")
        path = f"/{rest}" if authority in ("", "localhost") else ""
    if not name.startswith("file:") or not path:
        raise SettingError(
            N_(
                "DATABASE_URL: с ?uri=true имя базы — адрес file: её файла, например "
                "sqlite:///file:/path/to/oms.sqlite?uri=true"
            )
        )
    return unquote(path)


#: What DATABASE_POOLER may name: nothing (PostgreSQL itself, or a pooler in session mode) or PgBouncer in transaction
#: mode, whose version and settings decide whether prepared statements survive it (webapp/db/poolers.py).
POOLERS = ("", "pgbouncer-transaction")
#: How far, in seconds, a replica may be behind the primary and still serve verification (webapp/db/replicas.py).
DEFAULT_MAX_REPLICA_LAG = 5


def _is_postgresql(url: str) -> bool:
    return _backend(url) == "postgresql"


def replica_urls(primary_url: str) -> list[str]:
    """DATABASE_REPLICA_URLS: PostgreSQL standbys of the primary, separated by commas or spaces. A message that
    names the setting and the entry's place in it, never the URL (it may hold a password)."""
    urls = os.environ.get("DATABASE_REPLICA_URLS", "").replace(",", " ").split()
    if urls and not _is_postgresql(primary_url):
        raise SettingError(
            N_("DATABASE_REPLICA_URLS требует DATABASE_URL базы PostgreSQL: реплики — её резервные серверы (standby)")
        )
    for place, url in enumerate(urls, start=1):
        if not _is_postgresql(url):
            raise SettingError(N_("DATABASE_REPLICA_URLS: адрес №%(place)d — не postgresql+psycopg://"), place=place)
    return urls


#: What redis-py (and so RQ) takes: a Redis over TCP, over TLS, or on a Unix socket.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: A name RQ can build its job ids from (webapp/registry/job_queue.py `rq_id`).
_QUEUE_NAME = re.compile("[A-Za-z0-9_-]{1,64}")


def job_queue_url() -> str:
    """JOB_QUEUE_URL: empty (jobs run where they start), or a Redis URL. Checked at start, not at the first
    key compromise; the message does not quote it (it may hold a password)."""
    url = os.environ.get("JOB_QUEUE_URL", "").strip()
    if url and not url.startswith(REDIS_SCHEMES):
        raise SettingError(N_("JOB_QUEUE_URL должен начинаться с redis://, rediss:// или unix://"))
    return url


def job_queue_name() -> str:
    name = os.environ.get("JOB_QUEUE_NAME", "oms").strip()
    if not _QUEUE_NAME.fullmatch(name):
        raise SettingError(N_("JOB_QUEUE_NAME: от 1 до 64 латинских букв, цифр, «_» и «-»"))
    return name


def pooler() -> str:
    value = os.environ.get("DATABASE_POOLER", "").strip()
    if value not in POOLERS:
        raise SettingError(
            N_("DATABASE_POOLER: одно из %(choices)s (задано %(value)s)"),
            choices=", ".join(repr(name) for name in POOLERS),
            value=repr(value),
        )
    return value


def whole_number(name: str, default: int, minimum: int = 0) -> int:
    """A setting that must be a whole number ≥ `minimum`, with a message naming it if it is not."""
    value = os.environ.get(name, str(default)).strip()
    if not (value.isascii() and value.isdigit()) or int(value) < minimum:
        raise SettingError(
            N_("%(name)s: целое число, не меньше %(minimum)d (задано %(value)s)"),
            name=name,
            minimum=minimum,
            value=repr(value),
        )
    return int(value)


#: Set over Flask's own defaults, which are weaker (a 31-day session, no limit on a request's body):
#: `setdefault` would never apply, as Flask's keys are always there.
DEFAULTS: dict[str, Any] = {
    # A login lasts 8 hours from the moment it is made, however busy (webapp/registry/login_sessions.py) …
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # … and staff (clinic, insurer, admin) are logged out after 30 minutes without a request.
    "STAFF_IDLE_TIMEOUT": timedelta(minutes=30),
    # An answer sets the session cookie only when it changes the session: a request in flight (the citizen's card
    # refreshing its live code) carried the session as sent, and setting it again put back a language just switched.
    # The login's life is the registry's session record's, not the cookie's.
    "SESSION_REFRESH_EACH_REQUEST": False,
    # A form's CSRF token lasts as long as its session, which the two settings above bound. Flask-WTF's default
    # hour refused every scan on a reception page drawn over an hour before, all shift long.
    "WTF_CSRF_TIME_LIMIT": None,
    # A database error's message leaves out the statement's values: they are names, ЕНП and birth dates, and such
    # messages reach logs (a command's traceback, a job queue's record of a failure).
    "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
    # The largest form (a scanned code of 4000 characters) is a few KB; the JSON API has its own, smaller
    # limit (webapp/web/api/__init__.py). The one page that takes a file, the insurer's import, has its own
    # (webapp/web/security.py, LARGER_BODIES): about 500,000 lines.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "IMPORT_MAX_BYTES": 64 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 16 * 1024,
    "MAX_FORM_PARTS": 100,
    # Wrong passwords one login may take from browsers it was never used in (webapp/registry/password_guesses.py).
    "PASSWORD_GUESSES_PER_LOGIN": "10 per 15 minutes",
    # What a guess at a stored private key's passphrase costs (scrypt, signing/keys.py); tests make it cheap.
    "SIGNING_KEY_ENCRYPTION": KEY_ENCRYPTION,
}


def rate_limit(name: str, default: str) -> str:
    """A limit setting such as "20 per minute", with a message naming it if it is not one."""
    value = os.environ.get(name, default).strip()
    try:
        parse(value)
    except ValueError:
        raise SettingError(
            N_("%(name)s: лимит вида '20 per minute' (задано %(value)s)"), name=name, value=repr(value)
        ) from None
    return value


def from_environment(instance_path: str) -> dict[str, Any]:
    # The instance folder holds the secrets made here and, by default, the SQLite database.
    private_files.folder(Path(instance_path))
    return {
        "SECRET_KEY": _secret(instance_path, "SECRET_KEY"),
        "SIGNING_KEY_PASSPHRASE": _secret(instance_path, "SIGNING_KEY_PASSPHRASE"),
        # The audit log's key and checkpoint, out of the database's reach (webapp/registry/audit.py).
        "AUDIT_KEY": _secret(instance_path, "AUDIT_KEY"),
        "AUDIT_CHECKPOINT": os.environ.get("AUDIT_CHECKPOINT") or str(Path(instance_path) / "audit_checkpoint.json"),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "DATABASE_REPLICA_URLS": replica_urls(database_url(instance_path)),
        "MAX_REPLICA_LAG": whole_number("MAX_REPLICA_LAG", DEFAULT_MAX_REPLICA_LAG, minimum=1),
        "DATABASE_POOLER": pooler(),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "SQLALCHEMY_ENGINE_OPTIONS": {**DEFAULTS["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": True},
        "IMPORT_BATCH_SIZE": whole_number("IMPORT_BATCH_SIZE", 5000, minimum=1),
        # Jobs (webapp/registry/job_queue.py): on RQ at this Redis when set, else run where they are started.
        "JOB_QUEUE_URL": job_queue_url(),
        "JOB_QUEUE_NAME": job_queue_name(),
        # An import of more lines than this is a job (webapp/registry/bulk_import.py) …
        "IMPORT_JOB_THRESHOLD": whole_number("IMPORT_JOB_THRESHOLD", 10_000),
        # … and an insurer's upload of the file may be this large (about 500,000 lines).
        "IMPORT_MAX_BYTES": whole_number("IMPORT_MAX_BYTES", DEFAULTS["IMPORT_MAX_BYTES"], minimum=1024),
        "REISSUE_BATCH_SIZE": whole_number("REISSUE_BATCH_SIZE", 5000, minimum=1),
        # Processes that sign in a job or a command (never in a web worker); 0: one per core.
        "SIGNING_PROCESSES": whole_number("SIGNING_PROCESSES", 0),
        # How often a worker tells Redis its job is alive, and looks for jobs whose worker died (RQ's
        # maintenance puts such a job back on the queue once its last heartbeat is 60 s older than this).
        "JOB_MONITORING_SECONDS": whole_number("JOB_MONITORING_SECONDS", 30, minimum=1),
        "JOB_MAINTENANCE_SECONDS": whole_number("JOB_MAINTENANCE_SECONDS", 600, minimum=1),
        # A running job whose last batch is older than this is taken for dead (pages offer to start it again).
        "JOB_STALE_SECONDS": whole_number("JOB_STALE_SECONDS", 300, minimum=1),
        # Behind a load balancer or reverse proxy: how many of them set X-Forwarded-For and -Proto.
        "PROXY_HOPS": whole_number("PROXY_HOPS", 0),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=whole_number("SESSION_HOURS", 8, minimum=1)),
        "STAFF_IDLE_TIMEOUT": timedelta(minutes=whole_number("STAFF_IDLE_MINUTES", 30, minimum=1)),
        # Secure cookies unless told otherwise: `make run` serves plain HTTP on loopback.
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "1") != "0",
        **{name: rate_limit(name, default) for name, default in (LOOK_UP_LIMITS | TRANSFER_LIMITS).items()},
        "PASSWORD_GUESSES_PER_LOGIN": rate_limit("PASSWORD_GUESSES_PER_LOGIN", DEFAULTS["PASSWORD_GUESSES_PER_LOGIN"]),
    }


#: Alembic's folder, at the project's top level beside webapp/.
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
