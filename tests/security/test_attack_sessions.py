"""Issue 16, the sessions part: what an attacker did with sessions, logins, ids, files and look-alike input.

Each test was seen to fail on main before its fix. They run on SQLite and PostgreSQL where the database
holds what is attacked (sessions, users, ids); the rest on SQLite only.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select

from tests.security.world import MOTHER, client_as
from tests.webapp.conftest import make_app, register
from tests.webapp.pages import PASSWORD, csrf
from webapp import accounts, activation, backup, config, organisations
from webapp.database import dispose_engines
from webapp.errors import RegistryError
from webapp.extensions import db
from webapp.models import ActivationCode, Role, User

OVERSIZED_ID = "99999999999999999999"
NEW_PASSWORD = "another-long-pass"


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "a logged-in client holds a session cookie"
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser, holding a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    assert found is not None
    return found


def post(client: FlaskClient, path: str, data: dict[str, str], form_page: str = "/") -> int:
    return client.post(path, data={**data, "csrf_token": csrf(client, form_page)}).status_code


# 2. Login timing


@pytest.fixture
def argon2_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification the app runs (the real one, counted on its way through)."""
    calls: list[str] = []
    real = argon2.PasswordHasher.verify

    def counted(self: argon2.PasswordHasher, hash: str, password: str) -> bool:
        calls.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counted)
    return calls


def test_an_unknown_or_disabled_login_costs_one_argon2_verification(
    world: Flask, argon2_verifications: list[str]
) -> None:
    with world.app_context():
        accounts.set_active(user_id(world, "smo"), False, "test")
        db.session.remove()
    client = world.test_client()
    token = csrf(client)
    spent = {}
    for login in ("nobody-here", "smo", "ivanova"):
        argon2_verifications.clear()
        status = client.post("/login", data={"username": login, "password": "wrong-password", "csrf_token": token})
        assert status.status_code == 401
        spent[login] = len(argon2_verifications)
    assert spent == {"nobody-here": 1, "smo": 1, "ivanova": 1}


# 3. Oversized ids


def test_an_oversized_id_is_404_on_every_integer_route(world: Flask) -> None:
    rules = [rule for rule in world.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(rules) >= 3, "the app has integer routes"
    answers = {}
    for role in ("anonymous", "citizen", "clinic", "insurer", "admin"):
        client = client_as(world, role)
        token = csrf(client, "/activate")
        for rule in rules:
            url = re.sub(r"<[^>]+>", "decline", re.sub(r"<int:\w+>", OVERSIZED_ID, rule.rule))
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method == "POST" else None
                answers[(role, method, url)] = client.open(url, method=method, data=data).status_code
    assert set(answers.values()) == {404}, {key: status for key, status in answers.items() if status != 404}


# 4. Files and activation codes


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask of a typical server shell, which makes new files world-readable unless asked otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_instance_folder_and_the_sqlite_database_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usual_umask: None
) -> None:
    for name in ("SECRET_KEY", "SIGNING_KEY_PASSPHRASE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    settings = config.from_environment(str(instance))
    assert mode(instance) == 0o700
    app = make_app(settings["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        upgrade()
        dispose_engines()
    files = sorted(instance.iterdir())
    assert instance / "oms.sqlite" in files
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_a_backup_and_a_registry_export_are_private(registry: Flask, tmp_path: Path, usual_umask: None) -> None:
    target = tmp_path / "registry.backup"
    backup.create(db.engine, target)
    assert mode(target) == 0o600
    register()
    exported, overwritten = tmp_path / "registry.csv", tmp_path / "old.csv"
    overwritten.write_text("an earlier export, world-readable\n")
    for path in (exported, overwritten):
        result = registry.test_cli_runner().invoke(args=["registry", "export", str(path)])
        assert result.exit_code == 0, result.output
        assert "ИВАНОВА" in path.read_text(encoding="utf-8")
        assert mode(path) == 0o600, path.name


def test_an_activation_code_is_stored_under_a_keyed_hash(registry: Flask) -> None:
    """A database reader cannot try all 2^40 codes against an unsalted SHA-256."""
    register()
    code = activation.issue_code(str(MOTHER.enp), "test")
    stored = db.session.scalar(select(ActivationCode.code_hash))
    assert stored != hashlib.sha256(code.encode()).hexdigest()
    registry.config["SECRET_KEY"] = "another-server-secret"
    with pytest.raises(RegistryError):
        activation.activate(str(MOTHER.enp), code, "maria", PASSWORD)


# 5. Look-alike input


LOOK_ALIKES = [
    "ivanovа",  # Cyrillic а at the end
    "аdmin",  # Cyrillic а at the start
    "\u202eadmin",  # right-to-left override
    "admin\u200b",  # zero-width space
    "smo\u2011x",  # non-breaking hyphen
    "ｉｖａｎｏｖａ",  # fullwidth
    "ivan ova",
    "-admin",
]


@pytest.mark.parametrize("username", LOOK_ALIKES)
def test_a_username_is_ascii_letters_digits_and_separators(registry: Flask, username: str) -> None:
    with pytest.raises(RegistryError, match="латинских букв"):
        accounts.create_user(username, PASSWORD, Role.ADMIN, "test")


def test_usernames_differing_only_in_case_cannot_both_exist(world: Flask) -> None:
    with world.app_context():
        with pytest.raises(RegistryError, match="уже есть"):
            accounts.create_user("Ivanova", PASSWORD, Role.ADMIN, "test")
        db.session.remove()
    client = world.test_client()
    login = {"username": "IVANOVA", "password": PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/login", data=login).status_code == 302, "logins are compared case-insensitively"


def test_a_look_alike_username_is_refused_on_the_web_in_russian_without_cli_flags(world: Flask) -> None:
    admin = client_as(world, "admin")
    token = csrf(admin, "/admin/users/new")
    form = {"username": "аdmin2", "role": "admin", "generate": "1", "csrf_token": token}
    response = admin.post("/admin/users/new", data=form)
    assert response.status_code == 400
    assert "латинских букв" in response.get_data(as_text=True)
    no_insurer = admin.post("/admin/users/new", data={**form, "username": "anna", "role": "insurer"})
    assert no_insurer.status_code == 400
    assert "--" not in no_insurer.get_data(as_text=True).split("<main>")[1].split("</main>")[0]


NON_ASCII_DIGITS = {
    "Arabic-Indic": "\u0667\u0667\u0660\u0660\u0663",
    "fullwidth": "\uff17\uff17\uff10\uff10\uff13",
    "Devanagari": "\u096d\u096d\u0966\u0966\u0969",
}


@pytest.mark.parametrize("digits", NON_ASCII_DIGITS.values(), ids=NON_ASCII_DIGITS.keys())
def test_codes_are_ascii_digits(registry: Flask, digits: str) -> None:
    with pytest.raises(RegistryError, match="5 цифр"):
        organisations.create_insurer(digits, "Не та СМО", "test")
    with pytest.raises(RegistryError, match="2 цифры"):
        organisations.create_region(digits[:2], "Не тот регион", "test")
    with pytest.raises(RegistryError, match="латинских букв"):
        organisations.create_clinic(f"GP-{digits}", "Не та клиника", "test")
