"""Issue 16, the sessions part: what an attacker did with sessions, logins, ids, files and look-alike input.

Each test was seen to fail on main before its fix. They run on SQLite and PostgreSQL where the database
holds what is attacked (sessions, users, ids); the rest on SQLite only.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.synchronize
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import encode_cookie
from flask_migrate import upgrade
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from tests.helpers.browser import serving
from tests.helpers.registry import make_app, register, staff_idle_limit
from tests.security.world import MOTHER, client_as
from tests.webapp.pages import PASSWORD, csrf
from webapp import config
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import ActivationCode, Role, User
from webapp.ops import backup
from webapp.registry import accounts, activation, login_sessions, organisations
from webapp.registry.errors import RegistryError

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


# 1. Sessions


def test_a_session_cookie_lasts_eight_hours_not_31_days(world: Flask) -> None:
    client = world.test_client()
    response = client.post("/login", data={"username": "ivanova", "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.status_code == 302
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert expires - datetime.now(UTC) <= timedelta(hours=8, minutes=1)


def test_a_session_ends_eight_hours_after_login_however_busy(world: Flask) -> None:
    """A cookie refreshed by every request still dies at the lifetime counted from the login."""
    world.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=2)
    citizen = client_as(world, "citizen")
    answers = []
    for _ in range(4):
        time.sleep(0.8)
        answers.append(citizen.get("/me/").status_code)
    assert answers[-1] == 302, answers


def test_an_idle_staff_session_ends_and_a_citizens_does_not(world: Flask) -> None:
    world.config["STAFF_IDLE_TIMEOUT"] = timedelta(seconds=1)
    staff = {role: client_as(world, role) for role in ("clinic", "insurer", "admin")}
    citizen = client_as(world, "citizen")
    time.sleep(1.5)
    homes = {"clinic": "/clinic/", "insurer": "/insurer/", "admin": "/admin/"}
    answers = {role: client.get(homes[role]) for role, client in staff.items()}
    assert {role: answer.status_code for role, answer in answers.items()} == dict.fromkeys(staff, 302)
    assert answers["clinic"].headers["Location"].startswith("/login")
    assert citizen.get("/me/").status_code == 200


def test_after_an_idle_timeout_the_login_says_so_and_returns_to_the_page(world: Flask) -> None:
    """A clerk back at the desk after the idle limit is told the session ended, logs in, and is back on the person
    they were working on, not on the search page."""
    world.config["STAFF_IDLE_TIMEOUT"] = timedelta(seconds=1)
    insurer = client_as(world, "insurer")
    time.sleep(1.5)
    person = f"/insurer/person/{MOTHER.enp}"
    sent = insurer.get(person)
    assert sent.status_code == 302
    login_page = insurer.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Сеанс завершён. Войдите снова, чтобы продолжить." in login_page
    assert "Сеанс завершён" not in insurer.get(sent.headers["Location"]).get_data(as_text=True), "said once"
    form = {"username": "smo", "password": PASSWORD, "csrf_token": csrf(insurer, sent.headers["Location"])}
    assert insurer.post(sent.headers["Location"], data=form).headers["Location"] == person


@pytest.mark.parametrize(
    ("wanted", "lands"),
    [
        ("/insurer/person/{enp}", "/insurer/person/{enp}"),
        ("/insurer/person/{enp}/data/confirm", "/insurer/person/{enp}/data"),  # a form's POST: its page
        ("/admin/users", "/insurer/"),  # another role's page: its home instead
        ("//evil.example/insurer/", "/insurer/"),
        ("https://evil.example/insurer/", "/insurer/"),
        ("http://localhost/insurer/?q=x", "/insurer/?q=x"),
        ("http://[/insurer/", "/insurer/"),  # no URL at all: urllib refuses it
        ("/insurer/person/../../admin/", "/insurer/"),  # the browser would resolve the dots
        ("/insurer/person/%2E%2E/%2e%2e/admin/", "/insurer/"),
        ("/insurer/" + "a/" * 20, "/insurer/"),
        ("/insurer/?q=" + "x" * 2000, "/insurer/"),
    ],
)
def test_the_login_returns_only_to_the_roles_own_pages(world: Flask, wanted: str, lands: str) -> None:
    client = world.test_client()
    login = "/login?" + urlencode({"next": wanted.format(enp=MOTHER.enp)})
    form = {"username": "smo", "password": PASSWORD, "csrf_token": csrf(client, login)}
    assert client.post(login, data=form).headers["Location"] == lands.format(enp=MOTHER.enp)


def test_a_cookie_copied_before_logout_is_refused_after_it(world: Flask) -> None:
    clinic = client_as(world, "clinic")
    copied = session_cookie(clinic)
    assert with_cookie(world, copied).get("/clinic/").status_code == 200
    assert post(clinic, "/logout", {}, "/clinic/") == 302
    assert with_cookie(world, copied).get("/clinic/").status_code == 302
    thief = with_cookie(world, copied)
    verdict = thief.post("/clinic/verify", data={"code": str(MOTHER.enp), "csrf_token": csrf(thief, "/login")})
    assert verdict.status_code in {302, 401}


def test_logging_in_again_ends_the_browsers_earlier_session(world: Flask) -> None:
    clinic = client_as(world, "clinic")
    copied = session_cookie(clinic)
    login = {"username": "clinic", "password": PASSWORD, "csrf_token": csrf(clinic, "/clinic/")}
    assert clinic.post("/login", data=login).status_code == 302
    assert clinic.get("/clinic/").status_code == 200
    assert with_cookie(world, copied).get("/clinic/").status_code == 302


def test_logging_out_at_one_desk_leaves_a_colleague_on_the_same_login_working(world: Flask) -> None:
    first_desk, second_desk = client_as(world, "clinic"), client_as(world, "clinic")
    assert post(first_desk, "/logout", {}, "/clinic/") == 302
    assert first_desk.get("/clinic/").status_code == 302
    assert second_desk.get("/clinic/").status_code == 200


def change_password(client: FlaskClient, current: str, new: str, again: str | None = None) -> tuple[int, str]:
    form = {"current_password": current, "password": new, "password_again": new if again is None else again}
    response = client.post("/account/password", data={**form, "csrf_token": csrf(client, "/account/password")})
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["citizen", "clinic", "insurer", "admin"])
def test_changing_the_password_ends_every_other_session_and_every_copy(world: Flask, role: str) -> None:
    here, elsewhere = client_as(world, role), client_as(world, role)
    copied = session_cookie(here)
    home = here.get("/", follow_redirects=True).request.path
    status, _ = change_password(here, PASSWORD, NEW_PASSWORD)
    assert status == 302
    assert here.get(home).status_code == 200, "the browser that changed it stays logged in"
    assert elsewhere.get(home).status_code == 302, "the other desk or phone is logged out"
    assert with_cookie(world, copied).get(home).status_code == 302, "a copy of this very cookie dies too"
    fresh = world.test_client()
    login = {"username": LOGIN_OF[role], "csrf_token": csrf(fresh)}
    assert fresh.post("/login", data={**login, "password": PASSWORD}).status_code == 401
    assert fresh.post("/login", data={**login, "password": NEW_PASSWORD}).status_code == 302


LOGIN_OF = {"citizen": "ivanova", "clinic": "clinic", "insurer": "smo", "admin": "admin"}


def test_a_password_change_is_refused_without_the_current_password_or_matching_twins(world: Flask) -> None:
    client = client_as(world, "citizen")
    refusals = {
        "wrong current": change_password(client, "not-my-password", NEW_PASSWORD),
        "short": change_password(client, PASSWORD, "short"),
        "twins differ": change_password(client, PASSWORD, NEW_PASSWORD, "another-long-pas"),
    }
    assert {name: status for name, (status, _) in refusals.items()} == dict.fromkeys(refusals, 400)
    assert "Текущий пароль неверен" in refusals["wrong current"][1]
    assert "не короче 10 знаков" in refusals["short"][1]
    assert "Пароли не совпадают" in refusals["twins differ"][1]
    assert client.get("/me/").status_code == 200
    assert world.test_client().post("/account/password").status_code in {302, 400}, "no session, or no CSRF token"
    no_token = client.post("/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert no_token.status_code == 400, "CSRF"


def test_guessing_the_current_password_is_rate_limited(world: Flask) -> None:
    client = client_as(world, "citizen")
    tries = [change_password(client, f"guess-{n}-guess", NEW_PASSWORD)[0] for n in range(6)]
    assert tries == [400] * 5 + [429]


def test_disabling_a_user_ends_their_sessions_for_good(world: Flask) -> None:
    citizen, admin = client_as(world, "citizen"), client_as(world, "admin")
    target = user_id(world, "ivanova")
    assert post(admin, f"/admin/users/{target}/active", {"active": "0"}, "/admin/users") == 302
    assert post(admin, f"/admin/users/{target}/active", {"active": "1"}, "/admin/users") == 302
    assert citizen.get("/me/").status_code == 302, "enabling the login again does not bring the old session back"


def test_a_session_starts_only_for_the_password_and_state_it_was_checked_against(world: Flask) -> None:
    """The check a login's session starts under (tests/security/test_attack_login_races.py races it for real):
    a password checked before a new one was set, or a login disabled meanwhile, starts none."""
    with world.app_context():
        user = db.session.scalar(select(User).where(User.username == "smo"))
        assert user is not None
        checked = user.password_hash
        assert login_sessions.start(user, checked) is not None
        accounts.set_password(user, "a-new-long-password")
        db.session.commit()
        assert login_sessions.start(user, checked) is None, "the old password's check"
        fresh = user.password_hash
        accounts.set_active(user.id, False, "test")
        assert login_sessions.start(user, fresh) is None, "a disabled login"
        accounts.set_active(user.id, True, "test")
        assert login_sessions.start(user, fresh) is not None


def test_a_forged_remember_me_cookie_does_not_log_in(world: Flask) -> None:
    """Flask-Login logs in from a `remember_token` cookie; the app never sets one, and one made with the
    server's secret (as a stolen one would be) opens nothing without a live session record."""
    with world.test_request_context():
        remember = encode_cookie(str(user_id(world, "admin")))
    client = world.test_client()
    client.set_cookie("remember_token", remember)
    assert client.get("/admin/").status_code == 302


def test_a_cookie_planted_before_login_is_not_logged_in_by_it(world: Flask) -> None:
    """Session fixation: the attacker's anonymous cookie, planted in the victim's browser, stays anonymous."""
    attacker = world.test_client()
    csrf(attacker)
    planted = session_cookie(attacker)
    victim = with_cookie(world, planted)
    login = {"username": "admin", "password": PASSWORD, "csrf_token": csrf(victim)}
    assert victim.post("/login", data=login).status_code == 302
    assert session_cookie(victim) != planted
    assert with_cookie(world, planted).get("/admin/").status_code == 302


def test_the_csrf_token_keeps_working_through_login_activity_and_a_password_change(world: Flask) -> None:
    clinic = client_as(world, "clinic")
    token = csrf(clinic, "/clinic/")
    for _ in range(3):
        verdict = clinic.post("/clinic/verify", data={"code": str(MOTHER.enp), "csrf_token": token})
        assert verdict.status_code == 200
    status, _ = change_password(clinic, PASSWORD, NEW_PASSWORD)
    assert status == 302
    assert clinic.post("/clinic/verify", data={"code": str(MOTHER.enp), "csrf_token": token}).status_code == 200
    assert clinic.post("/clinic/verify", data={"code": "x"}, headers={"X-CSRFToken": token}).status_code == 200


class _TwoHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 3600


def test_the_reception_page_s_csrf_token_lasts_as_long_as_its_session(world: Flask) -> None:
    """A receptionist opens the page at the start of a shift and scans all day. Its form's token, made when the
    page was drawn two hours ago (signed then, as Flask-WTF signs it), must still be taken: Flask-WTF's default
    of one hour refused every scan after the first hour, while the session (8 hours) lived on."""
    clinic = client_as(world, "clinic")
    csrf(clinic, "/clinic/")
    with clinic.session_transaction() as session:
        raw = session["csrf_token"]
    page_drawn_two_hours_ago = URLSafeTimedSerializer(
        world.secret_key, salt="wtf-csrf-token", signer=_TwoHoursAgo
    ).dumps(raw)
    scan = {"code": str(MOTHER.enp), "csrf_token": page_drawn_two_hours_ago}
    assert clinic.post("/clinic/verify", data=scan).status_code == 200
    stranger = client_as(world, "clinic")
    assert stranger.post("/clinic/verify", data=scan).status_code == 400, "bound to its session still"


def test_an_htmx_request_without_a_session_is_told_to_log_in_not_given_the_login_page(world: Flask) -> None:
    clinic = client_as(world, "clinic")
    token = csrf(clinic, "/clinic/")
    with staff_idle_limit(world, 1):
        time.sleep(1.5)
        scan = clinic.post("/clinic/verify", data={"code": "1"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert scan.status_code == 401
    assert scan.headers["HX-Redirect"].startswith("/login")
    other_tab = client_as(world, "clinic")
    token = csrf(other_tab, "/clinic/")
    assert other_tab.post("/logout", data={"csrf_token": token}).status_code == 302
    scan = other_tab.post("/clinic/verify", data={"code": "1"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert (scan.status_code, scan.headers.get("HX-Redirect")) == (401, "/login"), "logged out in another tab"
    citizen = client_as(world, "citizen")
    assert post(citizen, "/logout", {}, "/me/") == 302
    live = citizen.get("/me/live", headers={"HX-Request": "true"})
    assert live.status_code == 401, "the card falls back to its static code (static/js/live-code.js)"
    assert "HX-Redirect" not in live.headers, "and stays on screen: the person may be at the reception desk"


def huge_form(size: int) -> str:
    return "username=ivanova&password=" + "x" * size


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_anonymous_login_with_a_huge_body_is_refused_unread(world: Flask) -> None:
    client = world.test_client()
    for size in (50 * 1024 * 1024, 1024 * 1024, 100 * 1024):
        response = client.post("/login", data=huge_form(size), content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413, size
        assert "Слишком большой запрос" in response.get_data(as_text=True)
    many_parts = {f"field{n}": "x" for n in range(500)}
    assert client.post("/login", data=many_parts, content_type="multipart/form-data").status_code == 413
    big_part = {"username": "ivanova", "password": "x" * 40_000}
    assert client.post("/login", data=big_part, content_type="multipart/form-data").status_code == 413


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chunked_body_with_no_length_is_capped_too(world: Flask) -> None:
    """Over a real socket, without Content-Length: the cap counts what arrives, and the answer comes
    without waiting for the rest."""
    head = b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"

    def send(connection: socket.socket) -> None:
        try:
            connection.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(40):
                connection.sendall(chunk)
            connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed the connection before the end: as it should

    with serving(world, threaded=False) as base:
        address = urlsplit(base)
        with socket.create_connection((address.hostname or "", address.port or 0), timeout=30) as connection:
            threading.Thread(target=send, args=(connection,), daemon=True).start()
            status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413", status_line


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


def _secret_when_released(instance: str, start: multiprocessing.synchronize.Event) -> str:
    start.wait()
    return config.instance_secret(instance, "SECRET_KEY")


def test_workers_starting_at_once_read_one_secret(tmp_path: Path) -> None:
    """gunicorn's workers (without --preload, no secret in the environment) each read the instance's secrets as
    they start: those that found none at once each wrote one, and a worker could read another's, or a file
    truncated and not yet written (an empty key). Every worker must read the one secret on disk, whole."""
    for attempt in range(20):
        instance = tmp_path / str(attempt)
        instance.mkdir()
        with multiprocessing.Manager() as manager, ProcessPoolExecutor(8) as workers:
            start = manager.Event()
            read = [workers.submit(_secret_when_released, str(instance), start) for _ in range(8)]
            time.sleep(0.3)  # every process has started and waits
            start.set()
            secrets_read = {future.result() for future in read}
        on_disk = (instance / "SECRET_KEY").read_text(encoding="ascii").strip()
        assert secrets_read == {on_disk}, f"attempt {attempt}"
        assert len(on_disk) >= 43
        assert [path.name for path in instance.iterdir()] == ["SECRET_KEY"]
        assert mode(instance / "SECRET_KEY") == 0o600


def test_a_secret_is_made_where_hard_links_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A filesystem without hard links (vfat, some network mounts) refuses the link with an OSError: the secret is
    made in place instead, and no file of the attempt is left."""

    def refused(_source: object, _target: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", refused)
    secret = config.instance_secret(str(tmp_path), "SECRET_KEY")
    assert len(secret) >= 43
    assert config.instance_secret(str(tmp_path), "SECRET_KEY") == secret
    assert [path.name for path in tmp_path.iterdir()] == ["SECRET_KEY"]
    assert mode(tmp_path / "SECRET_KEY") == 0o600


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
    main = no_insurer.get_data(as_text=True).split("<main>")[1].split("</main>")[0]
    # What the page says, not its tags: a random CSRF token in an attribute holds "--" in about one page of fifty.
    assert "--" not in re.sub(r"<[^>]*>", " ", main), "no command-line flags in the operator's words"


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
