"""The browser tour (issue 18, "Must show"): every page of every role, at 390×844 and 1280×800, in Russian and English.

Each role logs in once per size and language, then goes through its stops:
pages, the pages a form answers with (errors, confirmations, a secret shown
once), error pages (404, 403) and each kind of verdict at the reception desk,
online and offline. At each stop the page is photographed into
test-artifacts/tour/ and checked (tests/browser/page_checks.py): raw internal
codes, controls under 44×44 px, a wrapped header, a split date, sideways
scrolling, axe-core's serious and critical violations, console errors, Python
reprs, and on a refused form how its errors show; a page must answer with its
status, a scan with its verdict. A stop's problems are reported together,
grouped by stop and check, and the tour goes on to the next stop, so one run
lists everything.

Every GET route of the app must be served during the tour (as a page, or as
what a page loads: its images, lists, live code) or be excused below with a
reason: a new page cannot escape the tour.

The tour has a demo registry of its own, with a few people of its own for the
verdicts (superseded, terminated, a compromised key), so it changes nothing
other browser tests read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, request_finished
from werkzeug.wrappers import Response

from policy_codes import Enp, FullName, decode, encode
from signing import SigningKey
from tests.browser.demo_codes import (
    MARRIED,
    MOTHER,
    NEWBORN,
    NEWCOMER,
    PETROV,
    SOLDIER,
    SON,
    STOLEN,
    code_text,
    enp_of,
    forged,
)
from tests.browser.page_checks import ConsoleErrors, form_errors, inspect
from tests.helpers.browser import ARTIFACTS, demo_app, log_in, serving
from tests.security.test_attack_harvest import legacy_paper
from webapp.extensions import db
from webapp.models import Category, CodeStatus, Role
from webapp.ops import demo
from webapp.registry import bulk_import, clinic_checks, lifecycle, mass_reissue, organisations, people
from webapp.registry.codes import live_code
from webapp.registry.keys import keystore
from webapp.registry.people import PersonData
from webapp.web.i18n import LANGUAGES

TOUR = ARTIFACTS / "tour"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
#: One demo login per role (webapp/ops/demo.py).
LOGINS = {login.role: (login.username, login.password) for login in reversed(demo.LOGINS)}
#: As the registry operator's command line writes it ("cli:<login>"), which pages show in words.
ACTOR = "cli:tour"
#: GET routes no person opens as a page, and why.
EXCUSED = {
    "api.openapi": "the API's description, YAML for clinic systems",
    "healthz": "the load balancer's probe, JSON",
    "admin.reissue_progress": "an htmx fragment the key page polls while a mass reissue runs; the tour's reissue "
    "is over before the page opens, and the key page is toured",
    "insurer.import_progress": "an htmx fragment the import's page polls while the job runs; with no queue the "
    "tour's import is over before its page opens, and the page is toured",
    "insurer.import_template": "a CSV header to download from the import page, not a page; tests/webapp/test_jobs.py "
    "fills it in and imports it",
    "insurer.import_refused": "a CSV of an import job's refused lines, a download from the job's page, not a page; "
    "tests/webapp/test_jobs.py reads it",
}
#: The tour's own people (apart from the demo's): a reissued code, a terminated policy, a compromised key.
REISSUED = enp_of("778800000000001")
TERMINATED = enp_of("778800000000002")
COMPROMISED = enp_of("778800000000003")
UNREGISTERED = enp_of("778899999999999")
#: A number as a clerk mistypes it: the check digit wrong.
MISTYPED = PETROV[:-1] + str((int(PETROV[-1]) + 1) % 10)
COMPROMISED_INSURER = "77003"
#: The statuses of a form sent back with errors: its errors must be shown by their fields.
REFUSED_FORM = (400, 401)
#: A stop that cannot be taken (a button gone, a page that never answers) fails after this long, not 30 s.
STOP_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Tour:
    url: str
    app: Flask
    #: GET endpoints served with a success (the test empties it before each walk).
    served: set[str]
    compromised_kid: str
    active_kid: str


def _register(enp: str, name: FullName, insurer: str) -> None:
    data = PersonData(Enp(enp), name, datetime(1980, 5, 6).date(), "F", None, Category.CITIZEN)
    lifecycle.register_person(data, insurer, ACTOR)


def _tour_people(app: Flask) -> tuple[str, str]:
    """The tour's people, and the key ids the admin's stops open: (compromised, active)."""
    with app.app_context():
        _register(REISSUED, FullName("Заменова", "Ольга", "Ивановна"), "77001")
        lifecycle.reissue(REISSUED, ACTOR, "тур: перевыпуск")
        _register(TERMINATED, FullName("Прекращенко", "Нина", "Олеговна"), "77001")
        lifecycle.terminate(TERMINATED, ACTOR, "тур: прекращение")
        organisations.create_insurer(COMPROMISED_INSURER, "Тур-Мед", ACTOR, "77")
        _register(COMPROMISED, FullName("Ключева", "Алла", "Юрьевна"), COMPROMISED_INSURER)
        compromised = people.current_code(people.person_by_enp(COMPROMISED)).kid
        mass_reissue.compromise(compromised, ACTOR)
        active = people.current_code(people.person_by_enp(PETROV)).kid
        db.session.remove()
    return compromised, active


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    # Loaded an hour ago, so a live code can be dated before its expiry (the keys are as old as the demo).
    # Every uploaded file is a job (IMPORT_JOB_THRESHOLD), so the import's job page is toured too.
    app = demo_app(
        tmp_path_factory.mktemp("tour"), loaded_at=datetime.now(UTC) - timedelta(hours=1), IMPORT_JOB_THRESHOLD=0
    )
    served: set[str] = set()

    def note(sender: Flask, response: Response, **extra: Any) -> None:
        if request.method == "GET" and request.endpoint and response.status_code < 400:
            served.add(request.endpoint)

    request_finished.connect(note, app)
    compromised, active = _tour_people(app)
    with serving(app) as url:
        yield Tour(url, app, served, compromised, active)
    request_finished.disconnect(note, app)


# ---- what the reception desk scans ----


def _in_app(app: Flask, make: Callable[[], str]) -> str:
    with app.app_context():
        text = make()
        db.session.remove()
    return text


def _live(app: Flask, age: timedelta) -> str:
    """Petrov's live code as his phone showed it `age` ago."""
    return _in_app(app, lambda: live_code(people.current_code(people.person_by_enp(PETROV)), datetime.now(UTC) - age))


def _unknown_key(app: Flask) -> str:
    def make() -> str:
        claims = decode(people.current_code(people.person_by_enp(PETROV)).text, keystore.trust_list()).claims
        return encode(claims, SigningKey.generate("77001", not_before=claims.issued_at - timedelta(days=1)))

    return _in_app(app, make)


#: Verdict → what is scanned for it (made when it is scanned: a live code lasts 90 s).
SCANS: dict[str, Callable[[Flask], str]] = {
    "valid": lambda app: code_text(app, PETROV),
    "valid-live": lambda app: _live(app, timedelta(0)),
    "valid-number": lambda app: PETROV,
    "expired": lambda app: _live(app, timedelta(minutes=5)),
    "revoked": lambda app: code_text(app, STOLEN, CodeStatus.REVOKED),
    "superseded": lambda app: code_text(app, REISSUED, CodeStatus.SUPERSEDED),
    "superseded-data-changed": lambda app: code_text(app, MARRIED, CodeStatus.SUPERSEDED),
    "suspended": lambda app: code_text(app, SOLDIER, CodeStatus.SUSPENDED),
    "terminated": lambda app: code_text(app, TERMINATED, CodeStatus.TERMINATED),
    "not_found": lambda app: UNREGISTERED,
    "forged": lambda app: forged(code_text(app, PETROV)),
    "unknown_key": _unknown_key,
    "key_compromised": lambda app: code_text(app, COMPROMISED, CodeStatus.SUPERSEDED),
    "malformed": lambda app: "OMS1:" + "Q" * 40,
    "malformed-number": lambda app: MISTYPED,
    "not_a_policy_code": lambda app: "https://example.org/",
    "legacy_paper": lambda app: legacy_paper(MOTHER),  # the paper carries her name and birth date
}


# ---- the walk ----


@dataclass
class Walk:
    """One role's browser at one size and language, going from stop to stop."""

    page: Any
    tour: Tour
    language: str
    size: str

    @property
    def tag(self) -> str:
        """What makes a record this walk creates its own: the same stops run once per size and language."""
        return f"{self.language}-{self.size}"

    def open(self, path: str) -> None:
        self.page.goto(self.tour.url + path)

    def follow(self, path: str, link: str) -> None:
        """Open the page and follow its first link that matches `link` (a CSS selector), as a person taps it."""
        self.open(path)
        with self.page.expect_navigation():
            self.page.locator(link).first.click()

    def submit(self, form: str, fields: dict[str, str]) -> None:
        """Fill the form's fields by name (text, select, radio, checkbox) and send it as a person would."""
        scope = self.page.locator(form).first
        for name, value in fields.items():
            control = scope.locator(f"[name={name}]")
            kind = control.first.evaluate("element => element.type")
            if kind in ("radio", "checkbox"):
                scope.locator(f"[name={name}][value='{value}']").check()
            elif kind.startswith("select"):
                control.select_option(value)
            else:
                control.fill(value)
        with self.page.expect_navigation():
            scope.locator("button[type=submit], button:not([type])").first.click()

    def scan(self, text: str) -> None:
        """The reception form, as a USB scanner types a code and presses Enter; waits for the verdict."""
        self.page.evaluate("document.getElementById('verdict').replaceChildren()")
        self.page.fill("input[name=code]", text)
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector("#verdict [data-verdict], #verdict [data-refused]")


@dataclass(frozen=True)
class Stop:
    name: str
    go: Callable[[Walk], None]
    #: The page's HTTP status; for a stop that swaps part of the page (`swapped`), the swapped part's.
    status: int = 200
    swapped: bool = False
    #: The verdict the reception page must show (its data-verdict), for a scan.
    verdict: str = ""


def page(path: str, status: int = 200, wait: str = "") -> Stop:
    def go(walk: Walk) -> None:
        walk.open(path)
        if wait:
            walk.page.wait_for_selector(wait)

    return Stop(path, go, status)


Fields = dict[str, str] | Callable[["Walk"], dict[str, str]]


def form(name: str, path: str, fields: Fields, status: int = 200, selector: str = "main form") -> Stop:
    """Open the page and send its form (`selector`) with these fields, or the fields a walk makes."""

    def go(walk: Walk) -> None:
        walk.open(path)
        walk.submit(selector, fields(walk) if callable(fields) else fields)

    return Stop(name, go, status)


def click(name: str, path: str, button: str) -> Stop:
    """Open the page and press the button: a form of buttons only."""

    def go(walk: Walk) -> None:
        walk.open(path)
        with walk.page.expect_navigation():
            walk.page.locator(button).first.click()

    return Stop(name, go)


def verdict(kind: str) -> Stop:
    """A scan of SCANS[kind]; the verdict is the kind up to its dash ("valid-live" is a valid)."""

    def go(walk: Walk) -> None:
        walk.scan(SCANS[kind](walk.tour.app))

    return Stop(f"verdict {kind}", go, swapped=True, verdict=kind.split("-")[0])


def _set_ceiling(app: Flask, ceiling: int) -> None:
    """The demo clinic's daily ceiling of number look-ups, as the operator sets it."""
    _in_app(app, lambda: clinic_checks.set_daily_ceiling("GP-001", str(ceiling), ACTOR).code)


def _refused(walk: Walk) -> None:
    _set_ceiling(walk.tour.app, 0)
    try:
        walk.scan(PETROV)
    finally:
        _set_ceiling(walk.tour.app, 2000)


def _offline(kind: str) -> Callable[[Walk], None]:
    def go(walk: Walk) -> None:
        walk.page.context.set_offline(True)
        try:
            walk.scan(SCANS[kind](walk.tour.app))
        finally:
            walk.page.context.set_offline(False)

    return go


def _downloads(walk: Walk) -> None:
    """The card, and each of its downloads answers (fetched as the browser would, not saved)."""
    walk.open("/me/")
    walk.page.wait_for_selector("#live svg")
    for link in walk.page.locator(".downloads a").all():
        response = walk.page.request.get(walk.tour.url + link.get_attribute("href"))
        assert response.ok, f"download {link.get_attribute('href')}: {response.status}"


def _reissue_request(details: str) -> Callable[[Walk], None]:
    def go(walk: Walk) -> None:
        walk.open("/me/")
        walk.page.locator("#reissue summary").click()
        walk.submit("#reissue form", {"reason": "other", "details": details})

    return go


#: A marriage certificate, as the data-change forms take it (issue 20).
DOCUMENT = {
    "document_kind": "marriage_certificate",
    "document_number": "654321",
    "document_issued_on": "2026-11-20",
    "document_issuer": "Отдел ЗАГС",
}


def _data_change(surname: str) -> dict[str, str]:
    return {"surname": surname, "reason": "marriage", **DOCUMENT}


#: The data as the form opens with them: the form's own error, at its top, under the page's hint.
UNCHANGED = {"reason": "marriage", **DOCUMENT}


def _decline_reissue(walk: Walk) -> None:
    """The insurer declines the citizen's request for a new code, through the page that says what that does."""
    walk.open("/insurer/requests")
    with walk.page.expect_navigation():
        walk.page.locator("#reissue-requests ~ article a[href$='/decline']").first.click()
    walk.submit(ACTION_FORM, {"decline_reason": "тур: новый код уже выпущен по звонку"})


def _decline_data_change(walk: Walk) -> None:
    """The insurer declines the citizen's request of this walk (so the next walk's citizen may send one)."""
    walk.open("/insurer/requests")
    with walk.page.expect_navigation():
        walk.page.locator("#data-requests ~ article a[href$='/decline']").first.click()
    walk.submit("main form", {"decline_reason": "тур: нужна копия свидетельства"})


def _new_person(enp: Callable[[Walk], str]) -> Callable[[Walk], dict[str, str]]:
    return lambda walk: {
        "enp": enp(walk),
        "surname": "Турова",
        "given_name": "Ирина",
        "birth_date": "1991-02-03",
        "sex": "F",
    }


def _tour_enp(walk: Walk) -> str:
    """A new person's number per walk: the same stops run once per size and language."""
    index = [f"{language}-{size}" for language in LANGUAGES for size in VIEWPORTS].index(walk.tag)
    return enp_of(f"7788000000001{index:02d}")


def _import_columns(walk: Walk) -> None:
    """The import page with its list of the file's columns open."""
    walk.open("/insurer/import")
    walk.page.locator("main details").first.evaluate("details => { details.open = true }")


def _import(walk: Walk) -> None:
    """The insurer's upload of a registry CSV of one new person (a job: IMPORT_JOB_THRESHOLD is 0 here), with two
    columns of another system, which the report names as not loaded."""
    index = [f"{language}-{size}" for language in LANGUAGES for size in VIEWPORTS].index(walk.tag)
    enp = enp_of(f"7788000000002{index:02d}")
    header = ",".join([*bulk_import.COLUMNS, "phone", "external_system_record_identifier"])
    line = f"{enp},Импортова,Вера,Петровна,1990-01-02,F,,77001,citizen,,,+7 900 000-00-00,A-1"
    walk.open("/insurer/import")
    walk.page.set_input_files("input[name=file]", files=[
        {"name": "registry.csv", "mimeType": "text/csv", "buffer": f"{header}\n{line}\n".encode()}
    ])  # fmt: skip
    with walk.page.expect_navigation():
        walk.page.locator("main form button").first.click()


def _new_user(**fields: str) -> Callable[[Walk], dict[str, str]]:
    return lambda walk: {"username": f"tour-{walk.tag}", "role": "clinic", "clinic": "GP-001", **fields}


def _ask_new_password(walk: Walk) -> None:
    """The operator's new password for the walk's own new login: the demo's logins serve every walk."""
    walk.follow(f"/admin/users?q=tour-{walk.tag}", "a[href*='/password?']")


def _new_password(walk: Walk) -> None:
    _ask_new_password(walk)
    with walk.page.expect_navigation():
        walk.page.locator("main form button.primary").click()


ACTION_FORM = "main form.action-form"
PASSWORDS_DIFFER = {"password": "new-password-1", "password_again": "other-pass-2"}
SIGNED_OUT = [
    page("/"),
    page("/login"),
    form("login: wrong password", "/login", {"username": "petrov", "password": "not-it-123"}, 401),
    page("/activate"),
    form(
        "activate: passwords differ",
        "/activate",
        {"enp": PETROV, "code": "ABCD-EFGH", "username": "tour-new", **PASSWORDS_DIFFER},
        400,
    ),
    page("/recover"),
    form(
        "new password: a wrong code",
        "/recover",
        {"enp": PETROV, "code": "ABCD-EFGH", "password": "new-password-1", "password_again": "new-password-1"},
        400,
    ),
    page("/no-such-page", 404),
]
CITIZEN = [
    Stop("/me/ and its downloads", _downloads),
    page(f"/me/?person={SON}", wait="#live svg"),
    page(f"/me/?person={NEWBORN}"),
    page(f"/me/not-representative?person={SON}"),
    page("/me/show"),
    Stop("reissue request: no reason given", _reissue_request(""), 400),
    Stop("reissue request sent", _reissue_request("тур: проверка")),
    page("/me/data-change"),
    form("data change request: latin surname", "/me/data-change", _data_change("Ivanova"), 400),
    form("data change request: nothing changed", "/me/data-change", UNCHANGED, 400),
    form("data change request sent", "/me/data-change", _data_change("Турова")),
    page("/account/password"),
    form("password change: passwords differ", "/account/password", {"current_password": "x", **PASSWORDS_DIFFER}, 400),
    page(f"/me/?person={PETROV}", 404),
    page("/admin/", 403),
]
CLINIC = [
    page("/clinic/", wait="#offline-lists[data-state=ready]"),
    *(verdict(kind) for kind in SCANS),
    Stop("verdict refused: daily ceiling", _refused, 429, swapped=True),
    Stop("offline verdict of a signed code", _offline("valid"), swapped=True, verdict="valid"),
    Stop("offline verdict of a number", _offline("valid-number"), swapped=True),
    page("/clinic/history"),
    page("/account/password"),
    page("/insurer/", 403),
]
INSURER = [
    page("/insurer/"),
    page(f"/insurer/?q={PETROV}"),
    page("/insurer/?q=Иванова", 400),
    page(f"/insurer/?q={UNREGISTERED}"),
    page(f"/insurer/person/{MOTHER}"),
    page(f"/insurer/person/{NEWBORN}"),
    page(f"/insurer/person/{SOLDIER}"),
    page(f"/insurer/person/{TERMINATED}"),
    page(f"/insurer/person/{NEWCOMER}", 404),
    page("/insurer/requests"),
    click("reissue request: decline?", "/insurer/requests", "#reissue-requests ~ article a[href$='/decline']"),
    click("reissue request: new code?", "/insurer/requests", "#reissue-requests ~ article a[href$='/reissue']"),
    Stop("reissue request declined", _decline_reissue),
    page(f"/insurer/person/{REISSUED}/activation-code"),
    click("activation code issued", f"/insurer/person/{REISSUED}/activation-code", f"{ACTION_FORM} button.primary"),
    page(f"/insurer/person/{NEWBORN}/newborn-policy"),
    page(f"/insurer/person/{PETROV}/terminate"),
    page(f"/insurer/person/{SON}/representative/{MOTHER}/end"),
    # Ended and restored in one walk: the citizen's tour, and the next walk, show the son as before.
    form(
        "representation ended",
        f"/insurer/person/{SON}/representative/{MOTHER}/end",
        {"grounds": "court"},
        200,
        ACTION_FORM,
    ),
    page(f"/insurer/person/{SON}/representative/{MOTHER}/restore"),
    form(
        "representation restore: other, no words",
        f"/insurer/person/{SON}/representative/{MOTHER}/restore",
        {"reason": "other"},
        400,
        ACTION_FORM,
    ),
    form(
        "representation restored",
        f"/insurer/person/{SON}/representative/{MOTHER}/restore",
        {"reason": "ended_in_error"},
        200,
        ACTION_FORM,
    ),
    page(f"/insurer/person/{PETROV}/data"),
    form("data change: latin surname", f"/insurer/person/{PETROV}/data", _data_change("Petrov"), 400),
    form("data change: nothing changed", f"/insurer/person/{PETROV}/data", UNCHANGED, 400),
    form("data change: old and new", f"/insurer/person/{PETROV}/data", _data_change("Петровский")),
    click("data change request: accept?", "/insurer/requests", "#data-requests ~ article a[href$='/accept']"),
    Stop("data change request declined", _decline_data_change),
    form("code reissued", f"/insurer/person/{PETROV}/reissue", {"reason": "lost_phone"}, 200, ACTION_FORM),
    page("/insurer/import"),
    Stop("import: the file's columns", _import_columns),
    Stop("registry imported", _import),
    page("/insurer/new"),
    form("new person: wrong check digit", "/insurer/new", _new_person(lambda walk: MISTYPED), 400),
    form("new person registered", "/insurer/new", _new_person(_tour_enp)),
    page("/insurer/transfer"),
    form(
        "transfer: wrong check digit",
        "/insurer/transfer",
        {"enp": MISTYPED, "birth_date": "1978-01-30", "applied_on": "2026-01-10"},
        400,
    ),
    page("/account/password"),
    page("/clinic/", 403),
]
ADMIN = [
    page("/admin/"),
    page("/admin/insurers"),
    form("new insurer: code taken", "/admin/insurers", {"code": "77001", "name": "Дубль"}, 400, "main form.admin-form"),
    page("/admin/clinics"),
    page("/admin/users"),
    page("/admin/users?role=clinic"),
    Stop("disable a login? (confirmation)", lambda walk: walk.follow("/admin/users?role=clinic", "a[href*='disable']")),
    page("/admin/users/new"),
    form("new user: passwords differ", "/admin/users/new", _new_user(**PASSWORDS_DIFFER), 400),
    form("new user: password shown once", "/admin/users/new", _new_user(generate="1")),
    Stop("new password? (confirmation)", lambda walk: _ask_new_password(walk)),
    Stop("new password shown once", lambda walk: _new_password(walk)),
    page("/admin/tokens"),
    form("new token: shown once", "/admin/tokens", lambda walk: {"clinic": "GP-001", "name": f"МИС {walk.tag}"}),
    Stop("revoke a token? (confirmation)", lambda walk: walk.follow("/admin/tokens", "a[href$='/revoke']")),
    page("/admin/keys"),
    page("/admin/keys/rotate?insurer=77001"),
    Stop("active key", lambda walk: walk.open(f"/admin/keys/{walk.tour.active_kid}")),
    Stop("key compromised? (confirmation)", lambda walk: walk.open(f"/admin/keys/{walk.tour.active_kid}/compromise")),
    Stop("compromised key and its reissue", lambda walk: walk.open(f"/admin/keys/{walk.tour.compromised_kid}")),
    page("/account/password"),
    page("/me/", 403),
]
ROLES: dict[Role | None, list[Stop]] = {
    None: SIGNED_OUT,
    Role.CITIZEN: CITIZEN,
    Role.CLINIC: CLINIC,
    Role.INSURER: INSURER,
    Role.ADMIN: ADMIN,
}


# ---- running it ----

Problems = dict[str, dict[str, list[str]]]


def _choose_language(page: Any, language: str) -> None:
    if page.get_attribute("html", "lang") != language:
        with page.expect_navigation():
            page.click(f"header button[name=language][value={language}]")


def _document_status(page: Any) -> int:
    return page.evaluate("performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0")


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-zА-Яа-яЁё]+", "-", text).strip("-")[:60]


def _visit(walk: Walk, stop: Stop, console: ConsoleErrors, shot: Path) -> dict[str, list[str]]:
    """Take the stop and check the page it leads to; every problem found, by check."""
    try:
        stop.go(walk)
        walk.page.wait_for_load_state("load")
    except Exception as error:  # a stop that cannot be taken is a finding too; the tour goes on
        return {"stop could not be taken": [str(error).splitlines()[0]]}
    problems = inspect(walk.page, walk.language)
    if stop.status in REFUSED_FORM and not stop.swapped and (found := form_errors(walk.page)):
        problems["form error"] = found
    status = _document_status(walk.page)
    if not stop.swapped and status != stop.status:
        problems["HTTP status"] = [f"{status}, expected {stop.status}"]
    shown = stop.verdict and walk.page.get_attribute("#verdict [data-verdict]", "data-verdict")
    if shown != stop.verdict:
        problems["verdict"] = [f"{shown}, expected {stop.verdict}: the scan does not show what the stop is for"]
    if errors := console.take(stop.status):
        problems["console error"] = errors
    walk.page.screenshot(path=str(shot), full_page=True)
    return problems


def _walk_role(browser: Any, tour: Tour, role: Role | None, language: str, size: str) -> Problems:
    context = browser.new_context(viewport=VIEWPORTS[size], device_scale_factor=1, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(STOP_TIMEOUT_MS)
    console = ConsoleErrors()
    console.attach(page)
    page.goto(f"{tour.url}/login")
    if role is not None:
        log_in(page, tour.url, *LOGINS[role])
        page.wait_for_load_state("load")
    _choose_language(page, language)
    console.take()
    walk = Walk(page, tour, language, size)
    who = role.value if role else "signed-out"
    folder = TOUR / f"{language}-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{who}-*.png"):  # a renamed or removed stop leaves no stale screenshot
        old.unlink()
    found: Problems = {}
    for number, stop in enumerate(ROLES[role], 1):
        shot = folder / f"{who}-{number:02d}-{_slug(stop.name)}.png"
        if problems := _visit(walk, stop, console, shot):
            found[f"{who}: {stop.name}"] = problems
    context.close()
    return found


def _unvisited(app: Flask, served: set[str]) -> list[str]:
    gets = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    stale = sorted(set(EXCUSED) - gets)
    assert not stale, f"excused routes that no longer exist: {stale}"
    return sorted(gets - served - set(EXCUSED))


def _report(found: Problems) -> str:
    lines = []
    for stop, problems in found.items():
        lines.append(stop)
        for check, listed in problems.items():
            lines.append(f"  {check}:")
            lines.extend(f"    - {problem}" for problem in listed)
    return "\n".join(lines)


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_every_role_reads_well(tour: Tour, browser: Any, language: str, size: str) -> None:
    tour.served.clear()
    found: Problems = {}
    for role in ROLES:
        found |= _walk_role(browser, tour, role, language, size)
    if missing := _unvisited(tour.app, tour.served):
        found["every page toured"] = {"GET routes neither visited nor excused": missing}
    if found:
        pytest.fail(f"the tour in {language} at {size} found:\n{_report(found)}", pytrace=False)
