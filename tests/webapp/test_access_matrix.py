"""Every route × every role, and another insurer's person: allowed, or 403/404/login as designed.

The table below must name every endpoint of the app, so a new route fails here
until someone decides who may use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from tests.webapp.pages import CHILD, MOTHER, PASSWORD, STRANGER, csrf, logged_in
from webapp.extensions import db
from webapp.models import Role, SigningKeyRecord
from webapp.registry import accounts, bulk_import, data_changes, people, reissue_requests

ANONYMOUS, CITIZEN, CLINIC, INSURER, OTHER_INSURER, ADMIN = (
    "anonymous",
    "citizen",
    "clinic",
    "insurer",
    "other_insurer",
    "admin",
)
ROLES = [ANONYMOUS, CITIZEN, CLINIC, INSURER, OTHER_INSURER, ADMIN]
LOGINS = {CITIZEN: "ivanova", CLINIC: "clinic", INSURER: "smo", OTHER_INSURER: "smo-other", ADMIN: "admin"}
EVERYONE = frozenset(ROLES)
INSURERS = frozenset({INSURER, OTHER_INSURER})

#: endpoint → who may use it. The JSON API takes clinic bearer tokens, never a session: see the test below.
WHO_MAY = {
    "index": EVERYONE,
    "static": EVERYONE,
    "healthz": EVERYONE,
    "pwa.service_worker": EVERYONE,
    "auth.login": EVERYONE,
    "auth.activate": EVERYONE,
    "auth.recover": EVERYONE,
    "auth.logout": EVERYONE,
    "auth.change_password": EVERYONE - {ANONYMOUS},
    "language.choose": EVERYONE,
    "api.openapi": EVERYONE,
    "api.trust_list": EVERYONE,
    "api.revocations": EVERYONE,
    "api.verify": frozenset(),
    **dict.fromkeys(
        [
            "citizen.policy",
            "citizen.show",
            "citizen.code_svg",
            "citizen.code_png",
            "citizen.barcode_svg",
            "citizen.extract_pdf",
            "citizen.live",
            "citizen.request_reissue",
            "citizen.data_change",
            "citizen.request_data_change",
            "citizen.confirm_decline",
            "citizen.decline",
        ],
        frozenset({CITIZEN}),
    ),
    **dict.fromkeys(["clinic.scan", "clinic.verify", "clinic.history"], frozenset({CLINIC})),
    **dict.fromkeys(
        [
            "insurer.search",
            "insurer.new_person",
            "insurer.transfer",
            "insurer.request_list",
            "insurer.person",
            "insurer.confirm",
            "insurer.act",
            "insurer.confirm_end_link",
            "insurer.end_link",
            "insurer.confirm_restore_link",
            "insurer.restore_link",
            "insurer.activation_code",
            "insurer.show_activation_code",
            "insurer.issue_policy",
            "insurer.newborn_policy",
            "insurer.renew_policy",
            "insurer.answer_request",
            "insurer.answer_request_page",
            "insurer.edit_data",
            "insurer.preview_data_change",
            "insurer.change_data",
            "insurer.change_request_page",
            "insurer.answer_change_request",
            "insurer.import_form",
            "insurer.import_template",
            "insurer.import_upload",
            "insurer.import_job",
            "insurer.import_progress",
            "insurer.import_refused",
        ],
        INSURERS,
    ),
    **dict.fromkeys(
        [
            "admin.index",
            "admin.clinics",
            "admin.create_clinic",
            "admin.set_ceiling",
            "admin.insurers",
            "admin.create_insurer",
            "admin.keys",
            "admin.key",
            "admin.confirm_compromise",
            "admin.compromise",
            "admin.reissue_progress",
            "admin.resume",
            "admin.confirm_rotation",
            "admin.rotate_key",
            "admin.tokens",
            "admin.create_token",
            "admin.confirm_token_revocation",
            "admin.revoke_token",
            "admin.users",
            "admin.confirm_disable_user",
            "admin.set_user_active",
            "admin.reset_password",
            "admin.new_user",
            "admin.create_user",
            "admin.password_shown",
            "admin.confirm_password_reset",
        ],
        frozenset({ADMIN}),
    ),
}


@pytest.fixture
def matrix_app(site: Flask) -> Flask:
    """The page-test registry, plus staff of the other insurer, a clinic token, an open reissue request and an
    open request to change data."""
    with site.app_context():
        accounts.create_user("smo-other", PASSWORD, Role.INSURER, "test", insurer_code="77002")
        accounts.create_token("GP-001", "МИС", "test")
        request = reissue_requests.request_reissue(people.person_by_enp(MOTHER), "телефон потерян", "test")
        change = data_changes.request_change(
            people.person_by_enp(MOTHER),
            data_changes.NewData.of(people.person_by_enp(CHILD)),
            data_changes.ChangeReason.REGISTRY_ERROR,
            "",
            data_changes.Document("passport", "45 00", "123456", date(2020, 1, 2), "ОВД"),
            "test",
        )
        kid = db.session.scalars(select(SigningKeyRecord.kid)).first()
        refused_line = ",".join(["1"] * len(bulk_import.COLUMNS))  # for the job's CSV of refused lines
        job = bulk_import.start_job(
            f"{','.join(bulk_import.COLUMNS)}\n{refused_line}\n".encode(), "test", scope="77001"
        )
        site.config["MATRIX_ARGS"] = {
            "enp": MOTHER,
            "action": "reissue",
            "request_id": request.id,
            "outcome": "decline",
            "kid": kid,
            "token_id": 1,
            "user_id": 1,
            "filename": "css/app.css",
            "code": "GP-001",
            "job_id": job.id,
            "change_id": change.id,
            "side": "dependant",
            "other": CHILD,
        }
    return site


def routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def client_for(app: Flask, role: str) -> FlaskClient:
    return app.test_client() if role == ANONYMOUS else logged_in(app, LOGINS[role])


def test_the_table_names_every_endpoint(matrix_app: Flask) -> None:
    assert {rule.endpoint for rule, _ in routes(matrix_app)} == set(WHO_MAY)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(matrix_app: Flask, role: str) -> None:
    client = client_for(matrix_app, role)
    token = csrf(client, "/activate")
    arguments = matrix_app.config["MATRIX_ARGS"]
    unexpected = []
    for rule, method in routes(matrix_app):
        url = rule.build({name: arguments[name] for name in rule.arguments}, append_unknown=False)[1]
        allowed = role in WHO_MAY[rule.endpoint]
        if method == "POST" and allowed:
            continue  # what an allowed change does is each page's own test; here: who is turned away
        data = {"csrf_token": token} if method == "POST" else None
        status = client.open(url, method=method, data=data).status_code
        if rule.endpoint == "api.verify":
            expected = {401}
        elif not allowed:
            expected = {302} if role == ANONYMOUS else {403}
        elif rule.endpoint == "admin.reissue_progress":
            expected = {404}  # no mass reissue has run for this key
        elif rule.endpoint == "citizen.confirm_decline":
            expected = {404}  # no `?person=`: the citizen's own card, which nobody declines
        elif role == OTHER_INSURER and ({"enp", "request_id", "job_id", "change_id"} & rule.arguments):
            expected = {404}  # another insurer's person or import, exactly like a number that does not exist
        else:
            expected = {200, 302}
        if status not in expected:
            unexpected.append(f"{method} {url}: {status}, expected {sorted(expected)}")
    assert unexpected == []


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (CITIZEN, f"/me/?person={STRANGER}"),
        (CITIZEN, f"/me/code.png?person={STRANGER}"),
        (CITIZEN, f"/me/extract.pdf?person={STRANGER}"),
        (CITIZEN, f"/me/live?person={STRANGER}"),
        (CITIZEN, f"/me/data-change?person={STRANGER}"),
        (CITIZEN, f"/me/not-representative?person={STRANGER}"),
        (OTHER_INSURER, f"/insurer/?q={MOTHER}"),
    ],
)
def test_nobody_reaches_someone_elses_person_by_a_parameter(matrix_app: Flask, role: str, path: str) -> None:
    response = client_for(matrix_app, role).get(path)
    if path.startswith("/insurer/"):
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Иванова" not in page, "search finds only the insurer's own site"
        assert "Никого не нашли" in page
    else:
        assert response.status_code == 404


def test_a_citizen_reaches_their_dependants_extract(matrix_app: Flask) -> None:
    assert client_for(matrix_app, CITIZEN).get(f"/me/extract.pdf?person={CHILD}").status_code == 200


def test_every_state_changing_route_refuses_a_post_without_csrf_token(matrix_app: Flask) -> None:
    arguments = matrix_app.config["MATRIX_ARGS"]
    client = client_for(matrix_app, ADMIN)
    refused = {}
    for rule, method in routes(matrix_app):
        if method != "POST" or rule.endpoint == "api.verify":
            continue
        url = rule.build({name: arguments[name] for name in rule.arguments}, append_unknown=False)[1]
        refused[url] = client.post(url).status_code
    assert set(refused.values()) == {400}, refused
