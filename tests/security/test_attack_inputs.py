"""Attacks through what a client types: password guessing per login (F6), NUL bytes (F9), weak secrets and
cheap key encryption (F12). The red team's findings: /work/redteam-findings.md; the log redaction (F10) is in
tests/security/test_logs.py.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
import redis
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from signing import SigningKey
from signing.keys import KEY_ENCRYPTION
from tests.faults.server import app_environment
from tests.helpers.registry import PASSPHRASE, make_app, person_data, register
from tests.security.test_attack_harvest import legacy_paper
from tests.security.world import MOTHER, client_as
from tests.webapp.pages import PASSWORD, csrf
from tests.webapp.test_shared_rate_limits import DOWN_URL, REDIS_URL
from webapp import config
from webapp.extensions import db
from webapp.models import AuditEntry, Role, SigningKeyRecord
from webapp.registry import accounts, organisations
from webapp.registry.keys import keystore, publication

ROOT = Path(__file__).resolve().parents[2]
#: webapp/config.py: wrong passwords one login may take, from browsers it was never used in, each window.
PER_LOGIN = 10
WRONG = "Неверный логин или пароль"
TOO_MANY = "Вход под этим логином временно закрыт"
LIMIT_ACTION = "password_guess_limit_reached"


# F6. Password guessing: one count per login, whatever the address and the spelling.


def from_address(app: Flask, address: str) -> tuple[FlaskClient, str]:
    """A browser that never logged in here, at its own address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client, csrf(client)


def log_in(client: FlaskClient, token: str, username: str, password: str) -> tuple[int, str]:
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return answer.status_code, answer.get_data(as_text=True)


def guesses_from_many_addresses(app: Flask, username: str, count: int, first: int = 1) -> list[int]:
    """One wrong password from each of `count` addresses: no address reaches its own limits."""
    return [
        log_in(*from_address(app, f"198.51.100.{first + index}"), username, f"guess-{index}-guess")[0]
        for index in range(count)
    ]


def limit_notes(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == LIMIT_ACTION)).all()
        db.session.remove()
        return [(entry.entity_key, entry.actor) for entry in entries]


def test_guesses_at_one_login_from_many_addresses_share_one_limit(world: Flask) -> None:
    assert guesses_from_many_addresses(world, "admin", PER_LOGIN) == [401] * PER_LOGIN
    stranger, token = from_address(world, "203.0.113.50")
    answer = stranger.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 429, "the right password from a browser never used for admin waits too"
    assert TOO_MANY in answer.get_data(as_text=True)
    assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60
    assert log_in(stranger, token, "smo", PASSWORD)[0] == 302, "other logins are not affected"


def test_reaching_the_limit_is_noted_once_in_the_audit_log(world: Flask) -> None:
    guesses_from_many_addresses(world, "smo", PER_LOGIN + 5)
    guesses_from_many_addresses(world, "nobody-here", PER_LOGIN)
    assert sorted(limit_notes(world)) == [("nobody-here", "anonymous"), ("smo", "anonymous")]


def test_a_login_as_long_as_the_rule_allows_is_counted_and_noted(world: Flask) -> None:
    """80 characters: the audit log's entity key held 50, so PostgreSQL refused the note (and the login's creation)."""
    longest = "a" * 80
    with world.app_context():
        accounts.create_user(longest, PASSWORD, Role.ADMIN, "test")
        db.session.remove()
    assert guesses_from_many_addresses(world, longest.upper(), PER_LOGIN) == [401] * PER_LOGIN
    assert limit_notes(world) == [(longest, "anonymous")]


def test_a_browser_the_login_was_used_in_is_not_locked_out_by_guesses(world: Flask) -> None:
    """The owner's desk or phone logged in before: an attacker spending the login's guesses does not lock it out."""
    owner, token = from_address(world, "192.0.2.10")
    assert log_in(owner, token, "clinic", PASSWORD)[0] == 302
    owner.post("/logout", data={"csrf_token": csrf(owner, "/clinic/")})
    guesses_from_many_addresses(world, "clinic", PER_LOGIN + 2)
    assert log_in(*from_address(world, "203.0.113.51"), "clinic", PASSWORD)[0] == 429
    assert log_in(owner, csrf(owner), "clinic", PASSWORD)[0] == 302, "the owner's browser still logs in"


def test_a_copied_known_browser_cookie_is_worth_one_allowance_and_one_login(world: Flask) -> None:
    owner, token = from_address(world, "192.0.2.10")
    assert log_in(owner, token, "clinic", PASSWORD)[0] == 302
    copied = owner.get_cookie("known_browser")
    assert copied is not None
    assert "clinic" not in copied.value, "the cookie names no login"

    def with_copy(address: str) -> tuple[FlaskClient, str]:
        client, token = from_address(world, address)
        client.set_cookie("known_browser", copied.value)
        return client, token

    answers = [log_in(*with_copy(f"192.0.2.{100 + index}"), "clinic", "guess-guess")[0] for index in range(PER_LOGIN)]
    assert answers == [401] * PER_LOGIN
    assert log_in(*with_copy("192.0.2.200"), "clinic", PASSWORD)[0] == 429
    assert log_in(*from_address(world, "192.0.2.201"), "clinic", PASSWORD)[0] == 302, "the login's own count is whole"
    guesses_from_many_addresses(world, "admin", PER_LOGIN)
    assert log_in(*with_copy("192.0.2.202"), "admin", PASSWORD)[0] == 429, "for another login it is nothing"


def test_every_spelling_of_a_login_counts_against_it(world: Flask) -> None:
    spellings = ["ivanova", "IVANOVA", " Ivanova", "ivanova\t", "IvAnOvA "]
    answers = [
        log_in(*from_address(world, f"198.51.100.{index}"), spellings[index % len(spellings)], "guess-guess")[0]
        for index in range(PER_LOGIN)
    ]
    assert answers == [401] * PER_LOGIN
    assert log_in(*from_address(world, "203.0.113.52"), "Ivanova", PASSWORD)[0] == 429


@pytest.mark.parametrize(
    "spelling",
    [
        "admİn",  # Turkish dotted capital I: PostgreSQL's lower() makes it "admin"
        "ADMİN",
        "аdmin",  # Cyrillic а
        "admin\u200b",  # zero-width space
        "ａｄｍｉｎ",  # full-width
        "admın",  # dotless ı
    ],
)
def test_a_login_that_is_not_ascii_is_refused_like_a_wrong_password(world: Flask, spelling: str) -> None:
    status, page = log_in(*from_address(world, "192.0.2.20"), spelling, PASSWORD)
    assert (status, WRONG in page) == (401, True)


def test_wrong_current_passwords_at_the_password_form_count_against_the_login(world: Flask) -> None:
    """A copied session cookie (no known-browser cookie with it) guessing the current password spends the
    same guesses as the login form."""
    thief = world.test_client()
    thief.set_cookie("session", client_as(world, "insurer").get_cookie("session").value)  # type: ignore[union-attr]
    for index in range(5):
        form = {"current_password": f"guess-{index}-guess", "password": "a-new-long-pass", "password_again": ""}
        form["password_again"] = form["password"]
        answer = thief.post("/account/password", data={**form, "csrf_token": csrf(thief, "/account/password")})
        assert answer.status_code == 400
    assert guesses_from_many_addresses(world, "smo", PER_LOGIN - 5) == [401] * (PER_LOGIN - 5)
    assert log_in(*from_address(world, "203.0.113.53"), "smo", PASSWORD)[0] == 429


def test_the_limit_lets_go_when_its_window_ends(world: Flask) -> None:
    # 4 s: four password checks (argon2) must fit in one window on a loaded machine too
    world.config["PASSWORD_GUESSES_PER_LOGIN"] = "3 per 4 seconds"
    assert guesses_from_many_addresses(world, "admin", 3) == [401] * 3
    assert log_in(*from_address(world, "203.0.113.54"), "admin", PASSWORD)[0] == 429
    time.sleep(4.1)
    assert log_in(*from_address(world, "203.0.113.55"), "admin", PASSWORD)[0] == 302


def test_two_workers_count_one_logins_guesses_together_through_redis(world: Flask, database_url: str) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    username = f"nobody-{uuid.uuid4().hex[:8]}"  # a fresh count: Redis keeps earlier runs'
    workers = [make_app(database_url, RATELIMIT_STORAGE_URI=REDIS_URL, WTF_CSRF_ENABLED=True) for _ in range(2)]
    answers = [
        log_in(*from_address(workers[index % 2], f"198.51.100.{index}"), username, "guess-guess")[0]
        for index in range(PER_LOGIN + 1)
    ]
    assert answers == [401] * PER_LOGIN + [429], "ten in all, whichever worker took them"
    assert limit_notes(world) == [(username, "anonymous")], "noted once, by the worker that reached the limit"


def test_with_redis_down_each_worker_still_counts_a_logins_guesses(
    world: Flask, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    worker = make_app(database_url, RATELIMIT_STORAGE_URI=DOWN_URL, WTF_CSRF_ENABLED=True)
    answers = [
        log_in(*from_address(worker, f"198.51.100.{index}"), "admin", "guess-guess")[0]
        for index in range(PER_LOGIN + 1)
    ]
    assert answers == [401] * PER_LOGIN + [429], "no 500, and the limit holds in the worker"
    assert "counting wrong passwords in this worker" in caplog.text


def test_the_limit_setting_is_checked_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PASSWORD_GUESSES_PER_LOGIN", "ten a minute")
    with pytest.raises(ValueError, match="PASSWORD_GUESSES_PER_LOGIN"):
        config.from_environment(str(tmp_path / "instance"))


# F9. A NUL byte: refused as bad input before anything reaches the database, not a database outage.

#: (role, method, path, form) with a NUL in a path, a query argument or a form field.
WITH_NUL = [
    ("anonymous", "POST", "/login", {"username": "adm\x00in", "password": "guess-guess"}),
    ("anonymous", "POST", "/login", {"username": "admin", "password": "guess\x00guess"}),
    ("anonymous", "POST", "/activate", {"enp": "77\x00", "code": "x", "username": "x", "password": "x"}),
    ("anonymous", "GET", "/login?next=/a%00b", None),
    ("insurer", "GET", "/insurer/person/77%00", None),
    ("insurer", "GET", "/insurer/?q=%D0%98%00", None),
    ("insurer", "GET", "/insurer/?q=x&birth_date=1990-04-12%00", None),
    ("insurer", "POST", "/insurer/transfer", {"enp": "77\x00", "birth_date": "1990-04-12", "applied_on": "2026-01-05"}),
    ("insurer", "POST", f"/insurer/person/{MOTHER.enp}/revoke", {"reason": "x\x00y"}),
    ("insurer", "POST", "/insurer/new", {"enp": "770000000000005", "surname": "Си\x00дорова"}),
    ("citizen", "POST", "/me/reissue-request", {"reason": "lost", "details": "a\x00b"}),
    ("citizen", "GET", "/me/?person=77%00", None),
    ("admin", "GET", "/admin/keys/5d%00", None),
    ("admin", "GET", "/admin/users?q=a%00b", None),
    ("admin", "POST", "/admin/tokens", {"clinic": "GP\x00", "name": "МИС"}),
    ("admin", "POST", "/admin/keys/rotate", {"insurer": "77\x00"}),
    ("admin", "POST", "/admin/users/new", {"username": "anna\x00", "role": "admin", "password": "long-enough-pass"}),
    ("clinic", "POST", "/clinic/verify", {"code": str(MOTHER.enp), "x\x00": "1"}),
]
NUL_MESSAGE = "нулевой символ"
HOME = {"anonymous": "/login", "citizen": "/me/", "clinic": "/clinic/", "insurer": "/insurer/", "admin": "/admin/"}


@pytest.fixture
def statements_with_nul(world: Flask) -> Iterator[list[str]]:
    """Every SQL statement sent to the database with a NUL among its parameters."""
    seen: list[str] = []

    def texts(parameters: object) -> Iterator[str]:
        if isinstance(parameters, str):
            yield parameters
        elif isinstance(parameters, dict):
            yield from texts(list(parameters.values()))
        elif isinstance(parameters, list | tuple):
            for parameter in parameters:
                yield from texts(parameter)

    def check(_conn: object, _cursor: object, statement: str, parameters: object, *_args: object) -> None:
        if any("\x00" in text for text in texts(parameters)):
            seen.append(statement)

    with world.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", check)
    yield seen
    event.remove(engine, "before_cursor_execute", check)


def test_a_nul_anywhere_is_refused_as_bad_input(
    world: Flask, statements_with_nul: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    clients = {role: client_as(world, role) for role in HOME}
    tokens = {role: csrf(client, HOME[role]) for role, client in clients.items()}
    caplog.set_level(logging.WARNING)
    answers = {}
    for role, method, path, form in WITH_NUL:
        client = clients[role]
        if method == "GET":
            answer = client.get(path)
        else:
            answer = client.post(path, data={**(form or {}), "csrf_token": tokens[role]})
        answers[f"{role} {method} {path} {form}"] = (answer.status_code, NUL_MESSAGE in answer.get_data(as_text=True))
    assert answers == dict.fromkeys(answers, (400, True))
    assert statements_with_nul == [], "nothing with a NUL reached the database"
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_a_nul_in_the_apis_query_gets_a_json_refusal(world: Flask) -> None:
    answer = world.test_client().get("/api/v1/revocations?since=1%00")
    assert answer.status_code == 400
    assert answer.is_json
    assert NUL_MESSAGE in answer.get_json()["message"]


def test_the_refusal_is_in_english_for_an_english_page(world: Flask) -> None:
    client = world.test_client()
    client.post("/language", data={"language": "en", "csrf_token": csrf(client)})
    answer = client.get("/login?next=/a%00b")
    assert answer.status_code == 400
    assert "NUL" in answer.get_data(as_text=True)
    assert NUL_MESSAGE not in answer.get_data(as_text=True)


def test_a_paper_barcode_with_nul_bytes_is_still_read_at_reception(world: Flask) -> None:
    """A 2011 paper policy's barcode is binary, with NUL bytes in its number: the scanned code is not refused."""
    scanned = legacy_paper(str(MOTHER.enp))
    assert "\x00" in scanned
    clinic = client_as(world, "clinic")
    answer = clinic.post("/clinic/verify", data={"code": scanned, "csrf_token": csrf(clinic, "/clinic/")})
    assert answer.status_code == 200
    assert "ИВАНОВА" in answer.get_data(as_text=True).upper()


# F12. Private keys at rest, and the secrets a server is started with.


def der_items(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The (tag, contents) of each DER item in `data`, depth first."""
    while data:
        tag, length, offset = data[0], data[1], 2
        if length & 0x80:
            offset = 2 + (length & 0x7F)
            length = int.from_bytes(data[2:offset], "big")
        contents = data[offset : offset + length]
        yield tag, contents
        if tag & 0x20:  # constructed
            yield from der_items(contents)
        data = data[offset + length :]


def scrypt_cost(pem: bytes) -> tuple[int, int, int]:
    """(N, r, p) of a PKCS#8 key encrypted with PBES2 and scrypt; fails for any other encryption."""
    der = base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))
    items = list(der_items(der))
    scrypt_oid = bytes.fromhex("2b06010401da47040b")  # 1.3.6.1.4.1.11591.4.11
    at = next(index for index, (tag, contents) in enumerate(items) if tag == 0x06 and contents == scrypt_oid)
    n, r, p = (int.from_bytes(contents, "big") for tag, contents in items[at + 3 : at + 6])
    return n, r, p


def stored_keys() -> dict[str, bytes]:
    return dict(db.session.execute(select(SigningKeyRecord.kid, SigningKeyRecord.encrypted_private_pem)).all())


def old_way(pem: bytes, passphrase: str) -> bytes:
    """A key as the registry stored it before: cryptography's BestAvailableEncryption (PBKDF2, 2048 rounds)."""
    key = serialization.load_pem_private_key(pem, passphrase.encode())
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


#: OWASP's Password Storage Cheat Sheet: scrypt's minimum configurations, of equal strength (N, r, p).
OWASP_SCRYPT = [(2**17, 8, 1), (2**16, 8, 2), (2**15, 8, 3), (2**14, 8, 5), (2**13, 8, 10)]


def test_a_new_private_key_costs_a_guesser_scrypt_not_2048_rounds(registry: Flask) -> None:
    registry.config["SIGNING_KEY_ENCRYPTION"] = KEY_ENCRYPTION  # production's cost, not the tests' cheap one
    organisations.create_insurer("77003", "Третья СМО", "test", "77")
    record = db.session.scalar(select(SigningKeyRecord).where(SigningKeyRecord.owner == "77003"))
    assert record is not None
    n, r, p = scrypt_cost(record.encrypted_private_pem)
    assert any(n >= N and r >= R and p >= P for N, R, P in OWASP_SCRYPT), "one of OWASP's minimums, or more"
    started = time.perf_counter()
    SigningKey.from_encrypted_pem(record.encrypted_private_pem, PASSPHRASE.encode(), keystore.public_key_of(record))
    assert time.perf_counter() - started < 2, "a server still opens a key fast enough, once per process"


def test_keys_stored_the_old_way_still_sign_and_the_command_reencrypts_them(registry: Flask) -> None:
    publication.registry_key()  # the insurers' keys and the registry's
    for kid, pem in stored_keys().items():
        db.session.execute(
            update(SigningKeyRecord)
            .where(SigningKeyRecord.kid == kid)
            .values(encrypted_private_pem=old_way(pem, PASSPHRASE))
        )
    db.session.commit()
    registry.extensions.pop("oms_key_cache", None)  # a new process: nothing decrypted yet
    register()  # signs a code with 77001's key, stored the old way
    publication.trust_list_document()  # signs with the registry's key, stored the old way
    result = registry.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "Перешифровано ключей: 3" in result.output
    cost = astuple(registry.config["SIGNING_KEY_ENCRYPTION"])
    assert {kid: scrypt_cost(pem) for kid, pem in stored_keys().items()} == dict.fromkeys(stored_keys(), cost)
    registry.extensions.pop("oms_key_cache", None)  # a new process: nothing decrypted yet
    register(person_data("770000000000002"))
    publication.registry_jwks()


def test_the_command_moves_the_keys_to_a_new_passphrase(registry: Flask) -> None:
    before = stored_keys()
    new = "Xq3v9LmT2wPz8KrN5sBd7HfJ4cGy6eUa"
    registry.config["SIGNING_KEY_PASSPHRASE"] = new
    wrong = registry.test_cli_runner().invoke(args=["keys", "reencrypt", "--change-passphrase"], input="not-it\n")
    assert wrong.exit_code == 1
    assert "Traceback" not in wrong.output
    db.session.rollback()
    assert stored_keys() == before, "nothing changed"
    done = registry.test_cli_runner().invoke(args=["keys", "reencrypt", "--change-passphrase"], input=f"{PASSPHRASE}\n")
    assert done.exit_code == 0, done.output
    for pem in stored_keys().values():
        serialization.load_pem_private_key(pem, new.encode())
    assert PASSPHRASE not in done.output


WEAK = {
    "short": "rt-passphrase-xyz",
    "the tests' old one": "test-signing-passphrase",
    "one character": "a" * 48,
    "a few characters": "abcabcabcabcabcabcabcabcabcabcabcabc",
    "digits only": "1234567890" * 3 + "12",
}


@pytest.mark.parametrize("setting", ["SIGNING_KEY_PASSPHRASE", "SECRET_KEY", "AUDIT_KEY"])
@pytest.mark.parametrize("value", WEAK.values(), ids=WEAK.keys())
def test_a_weak_secret_set_by_hand_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setting: str, value: str
) -> None:
    monkeypatch.setenv(setting, value)
    with pytest.raises(ValueError, match=setting) as refused:
        config.from_environment(str(tmp_path / "instance"))
    assert value not in str(refused.value)


def test_generated_and_random_secrets_are_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SIGNING_KEY_PASSPHRASE", "SECRET_KEY", "AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    config.from_environment(str(tmp_path / "generated"))
    for value in ("3f9c2a7d41e8b6c05a9d3e7f1b2c4d6e", "kJ8_Tq2vX9-mLp4RzW7nB3sYc6Hd1FgAeU5oIiK0tVw"):
        for name in ("SIGNING_KEY_PASSPHRASE", "SECRET_KEY", "AUDIT_KEY"):
            monkeypatch.setenv(name, value)
        config.from_environment(str(tmp_path / "set"))


def test_the_real_command_line_names_a_weak_setting_without_its_value(registry: Flask, database_url: str) -> None:
    environment = {**app_environment(database_url), "SECRET_KEY": "test-secret"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "keys", "list"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr
    assert "test-secret" not in done.stderr
