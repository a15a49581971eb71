"""Security headers, the CSP and cookie flags on every response: every page, every role, errors and the JSON API.

The routes come from app.url_map, so a page added later is checked without anyone listing it here.
Headers do not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response

from tests.security.world import ANONYMOUS, LOGINS, MOTHER, STRANGER, client_as, plain_get_routes
from tests.webapp.pages import PASSWORD, csrf
from webapp import config
from webapp.registry import accounts, people

#: Directives the CSP must hold exactly, and sources no directive may allow.
REQUIRED_CSP = {
    "default-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}
FORBIDDEN_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "'unsafe-hashes'"}
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
ONE_YEAR = 31_536_000


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def csp_directives(value: str) -> dict[str, set[str]]:
    directives: dict[str, set[str]] = {}
    for part in value.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


def problems(response: Response) -> Iterator[str]:
    """Everything wrong with one response's headers."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy")
    if not csp:
        yield "no Content-Security-Policy"
    else:
        directives = csp_directives(csp)
        for name, sources in REQUIRED_CSP.items():
            if directives.get(name) != sources:
                yield f"CSP {name} is {directives.get(name)}"
        if "'self'" not in directives.get("script-src", set()):
            yield "CSP script-src does not name 'self'"
        for name, sources in directives.items():
            if sources & FORBIDDEN_SOURCES:
                yield f"CSP {name} allows {sources & FORBIDDEN_SOURCES}"
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for name, value in expected.items():
        if headers.get(name) != value:
            yield f"{name} is {headers.get(name)!r}"
    if headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        yield f"Referrer-Policy is {headers.get('Referrer-Policy')!r}"
    if "camera" not in headers.get("Permissions-Policy", ""):
        yield "no Permissions-Policy for the camera"
    hsts = headers.get("Strict-Transport-Security", "")
    if not hsts.startswith("max-age=") or int(hsts.split("=")[1].split(";")[0]) < ONE_YEAR:
        yield f"Strict-Transport-Security is {hsts!r}"
    if response.mimetype == "text/html" and "no-store" not in headers.get("Cache-Control", ""):
        yield "an HTML page a shared cache may keep"
    for cookie in headers.getlist("Set-Cookie"):
        flags = {flag.strip().split("=")[0].lower(): flag.strip() for flag in cookie.split(";")[1:]}
        if cookie.split(";")[0].endswith("=") and flags.get("max-age") == "Max-Age=0":
            continue  # a deletion (Flask-Login clears its remember cookie so): no value to protect
        if "httponly" not in flags or "secure" not in flags:
            yield f"cookie without HttpOnly or Secure: {cookie.split('=')[0]}"
        if flags.get("samesite", "").lower() not in ("samesite=lax", "samesite=strict"):
            yield f"cookie without SameSite Lax or Strict: {cookie.split('=')[0]}"


def test_the_checker_sees_missing_headers() -> None:
    """The tests below could not fail if `problems` found nothing on a bare response."""
    found = " | ".join(problems(Response("x", mimetype="text/html", headers={"Set-Cookie": "session=1; Path=/"})))
    for problem in ("no Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security", "shared cache"):
        assert problem in found
    assert "cookie without HttpOnly or Secure: session" in found


#: Pages behind a login: whatever they answer (HTML, SVG, PNG, PDF) is someone's and no cache may keep it.
PERSONAL_PREFIXES = ("/me/", "/clinic/", "/insurer/", "/admin/")


def check(failures: list[str], role: str, label: str, response: TestResponse) -> None:
    assert response.status_code < 500, f"{role} {label}: {response.status_code}"
    failures += [f"{role} {label} ({response.status_code}): {problem}" for problem in problems(response)]
    personal = label.startswith(PERSONAL_PREFIXES) and response.status_code == 200
    if personal and "no-store" not in response.headers.get("Cache-Control", ""):
        failures.append(f"{role} {label}: Cache-Control {response.headers.get('Cache-Control')!r} lets a cache keep it")


def error_responses(app: Flask, client: FlaskClient) -> Iterator[tuple[str, TestResponse]]:
    """A 404, a 405, a refused CSRF token, an unknown dependant, the API's 401/404/405/413 and a static file."""
    yield "/no-such-page", client.get("/no-such-page")
    yield "GET /logout", client.get("/logout")
    yield "POST /logout without CSRF", client.post("/logout")
    yield "/me/ of a stranger", client.get(f"/me/?person={STRANGER.enp}")
    yield "/insurer/person of a stranger", client.get(f"/insurer/person/{STRANGER.enp}")
    yield "API without token", client.post("/api/v1/verify", json={"code": "x"})
    yield "API oversized", client.post("/api/v1/verify", data=b"{" * 9000, headers={"Authorization": "Bearer x"})
    yield "API 404", client.get("/api/v1/nothing")
    yield "API 405", client.get("/api/v1/verify")
    yield "page over MAX_CONTENT_LENGTH", client.post("/login", data={"username": "x" * (2 * 1024 * 1024)})
    static = next(path for path in sorted(Path(app.static_folder or "").rglob("*.css")))
    yield "static file", client.get(f"/static/{static.relative_to(app.static_folder or '').as_posix()}")


def test_every_page_and_error_carries_the_headers(world: Flask) -> None:
    routes = plain_get_routes(world)
    assert {"/", "/login", "/me/", "/clinic/", "/insurer/", "/api/v1/trust-list", "/healthz"} <= set(routes)
    failures: list[str] = []
    for role in LOGINS:
        client = client_as(world, role)
        statuses = set()
        for path in routes:
            response = client.get(path)
            statuses.add(response.status_code)
            check(failures, role, path, response)
        for label, response in error_responses(world, client):
            statuses.add(response.status_code)
            check(failures, role, label, response)
        assert {200, 400, 401, 404, 405, 413} <= statuses, role
        assert (403 in statuses) is (role != ANONYMOUS), f"{role} is refused some other role's page"
    assert failures == []


def test_the_login_cookie_and_the_rate_limit_page(world: Flask) -> None:
    client = world.test_client()
    token = csrf(client)
    failures: list[str] = []
    login = client.post("/login", data={"username": "ivanova", "password": PASSWORD, "csrf_token": token})
    assert login.status_code == 302
    assert any(cookie.startswith("session=") for cookie in login.headers.getlist("Set-Cookie"))
    check(failures, "citizen", "login", login)
    check(failures, "citizen", "logout", client.post("/logout", data={"csrf_token": csrf(client, "/me/")}))
    stranger = world.test_client()
    token = csrf(stranger)
    for attempt in range(6):
        refused = stranger.post("/login", data={"username": "ivanova", "password": f"x{attempt}", "csrf_token": token})
    assert refused.status_code == 429
    check(failures, ANONYMOUS, "429", refused)
    assert failures == []


def test_an_unexpected_error_page_carries_the_headers(world: Flask) -> None:
    """A 500 (a view that raises), as an HTML page and as the API's JSON."""

    def boom() -> str:
        raise RuntimeError("boom")

    world.add_url_rule("/test-boom", "test_boom", boom)
    world.add_url_rule("/api/v1/test-boom", "test_api_boom", boom)
    world.config["PROPAGATE_EXCEPTIONS"] = False
    client = world.test_client()
    failures: list[str] = []
    for path in ("/test-boom", "/api/v1/test-boom"):
        response = client.get(path)
        assert response.status_code == 500
        assert "Traceback" not in response.get_data(as_text=True)
        failures += [f"{path}: {problem}" for problem in problems(response)]
    assert failures == []


def test_production_configuration_sets_secure_cookies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unless told otherwise (SESSION_COOKIE_SECURE=0, as `make run` does for plain HTTP), cookies are Secure."""
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_proxy_headers_are_trusted_only_when_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PROXY_HOPS defaults to 0 (X-Forwarded-For ignored); a value that is not a count is refused by name."""
    monkeypatch.delenv("PROXY_HOPS", raising=False)
    assert config.from_environment(str(tmp_path))["PROXY_HOPS"] == 0
    monkeypatch.setenv("PROXY_HOPS", "1")
    assert config.from_environment(str(tmp_path))["PROXY_HOPS"] == 1
    monkeypatch.setenv("PROXY_HOPS", "yes")
    with pytest.raises(ValueError, match="PROXY_HOPS: целое число"):
        config.from_environment(str(tmp_path))


def test_the_apis_verdict_naming_a_holder_is_kept_by_no_cache(world: Flask) -> None:
    """A verdict names the holder and their birth date, for a signed code and a typed number alike: no cache on the
    way (a clinic's proxy) or in the clinic system may keep it, as none keeps a page behind a login."""
    with world.app_context():
        token = accounts.create_token("GP-001", "МИС", "test")[1]
        code = people.current_code(people.person_by_enp(str(MOTHER.enp))).text
    client = world.test_client()
    for scanned in (code, str(MOTHER.enp)):
        answer = client.post("/api/v1/verify", json={"code": scanned}, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert answer.json["holder"]["birth_date"] == MOTHER.birth_date.isoformat()
        assert "no-store" in answer.headers.get("Cache-Control", ""), scanned
