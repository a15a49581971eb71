"""Issue 20's personal-data changes attacked from outside, through the test client on SQLite and PostgreSQL:
ways in the pages' own tests (tests/webapp/test_data_change_pages.py) do not try.

- Accepting and declining one citizen's request at once: both answered «готово», the data changed and the
  request declined (a request the view had read before the other's commit was taken as still open).
- An uploaded registry file whose name holds a NUL: the import's corrections record the name, and PostgreSQL
  refused it as a database failure (503) instead of bad input.
- Invisible and control characters (a bidi override, a zero-width space, ESC) in a document's number, series,
  issuer and a reason's words: stored, and shown to staff as other than what was typed; in a name, refused
  with «нельзя «»», the character not shown.
- A confirmation sent the whole form back: a colleague's change made after the page showed old → new (a
  corrected birth date) was undone by «Подтвердить» or «Принять», unseen.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.security.test_logs import everything_logged, leaks, spellings
from tests.security.world import CHILD, MOTHER, STRANGER
from tests.webapp.pages import PASSWORD, csrf, field_error, logged_in
from webapp.extensions import db
from webapp.models import AuditEntry, DataChangeRequest, RequestStatus, Role
from webapp.registry import accounts, bulk_import, clock, data_changes, lifecycle, people

ENP = str(MOTHER.enp)
#: Мария Иванова becomes Петрова on marrying, on her marriage certificate.
MARRIED = {
    "surname": "Петрова",
    "given_name": "Мария",
    "patronymic": "Петровна",
    "birth_date": MOTHER.birth_date.isoformat(),
    "sex": "F",
    "reason": "marriage",
    "reason_text": "",
    "document_kind": "marriage_certificate",
    "document_series": "II-МЮ",
    "document_number": "654321",
    "document_issued_on": "2026-11-20",
    "document_issuer": "Отдел ЗАГС Тверского района",
}


def staff(world: Flask) -> tuple[FlaskClient, str]:
    client = logged_in(world, "smo")
    return client, csrf(client, "/insurer/")


def citizen(world: Flask) -> tuple[FlaskClient, str]:
    client = logged_in(world, "ivanova")
    return client, csrf(client, "/me/")


def open_request(world: Flask) -> int:
    """MOTHER's request to take her husband's surname, as her page sends it."""
    me, token = citizen(world)
    assert me.post("/me/data-change", data=MARRIED | {"csrf_token": token}).status_code == 302
    with world.app_context():
        return data_changes.latest_change_request(people.person_by_enp(ENP)).id


def surname(world: Flask) -> str:
    with world.app_context():
        return people.person_by_enp(ENP).surname


def audit_actions(world: Flask) -> list[str]:
    with world.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_key == ENP)))


# ---- accepting and declining one request at once ----


@contextmanager
def requests_held(world: Flask) -> Iterator[None]:
    """Hold the data-change requests (PostgreSQL: their rows; SQLite: the database's write lock) while the
    block runs, as a colleague's answer in progress would; released when it ends."""
    with world.app_context():
        connection = db.engine.connect()
    try:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT id FROM data_change_requests FOR UPDATE"))
        yield
    finally:
        connection.rollback()
        connection.close()


def wait_for_waiters(world: Flask, count: int) -> None:
    """Until `count` requests wait for the held lock (PostgreSQL), or a while (SQLite cannot tell)."""
    with world.app_context():
        if db.engine.dialect.name == "sqlite":
            time.sleep(1.5)
            return
        with db.engine.connect() as connection:
            for _ in range(200):
                waiting = connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
                if waiting >= count:
                    return
                time.sleep(0.05)
    raise AssertionError(f"fewer than {count} requests waited for the lock")


def test_accepting_and_declining_one_request_at_once_do_one_of_the_two(world: Flask) -> None:
    request_id = open_request(world)
    answers: dict[str, int] = {}
    posts = {
        "accept": {},
        "decline": {"decline_reason": "Свидетельство о браке не читается"},
    }

    clients = {outcome: staff(world) for outcome in posts}

    def answer(outcome: str) -> None:
        client, token = clients[outcome]
        path = f"/insurer/data-requests/{request_id}/{outcome}"
        answers[outcome] = client.post(path, data=posts[outcome] | {"csrf_token": token}).status_code

    threads = [threading.Thread(target=answer, args=(outcome,)) for outcome in posts]
    with requests_held(world):
        for thread in threads:
            thread.start()
        wait_for_waiters(world, len(threads))
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers.values()) == [302, 400], answers
    with world.app_context():
        request = db.session.get(DataChangeRequest, request_id)
        changed = people.person_by_enp(ENP).surname == "ПЕТРОВА"
        assert (request.status, changed) in {(RequestStatus.DONE, True), (RequestStatus.DECLINED, False)}, (
            request.status,
            changed,
        )
    answered = [action for action in audit_actions(world) if action in ("correct", "decline_data_change")]
    assert len(answered) == 1, answered


# ---- an uploaded file's name ----


def test_an_upload_named_with_a_nul_is_refused_as_bad_input_and_imports_nothing(world: Flask) -> None:
    """The import's corrections record the file's name (issue 20): a NUL in it reached PostgreSQL (503)."""
    client, _token = staff(world)
    token = csrf(client, "/insurer/import")
    line = f"{ENP},Петрова,Мария,Петровна,{MOTHER.birth_date},F,{MOTHER.snils},77001,citizen,,"
    data = f"{','.join(bulk_import.COLUMNS)}\n{line}\n".encode()
    world.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(
        "/insurer/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "zags\x00.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "нулевой символ" in response.get_data(as_text=True)
    assert surname(world) == "ИВАНОВА"
    assert "correct" not in audit_actions(world)


# ---- what a document and a reason may hold ----

#: Characters nobody sees, or that turn the text around them: a document number could read as another.
INVISIBLE = {"bidi override": "\u202e", "zero-width space": "\u200b", "escape": "\x1b[31m", "soft hyphen": "\u00ad"}
TYPED_FIELDS = ("document_series", "document_number", "document_issuer", "reason_text")


def with_invisible(field: str, character: str) -> dict[str, str]:
    typed = {"reason": "other", "reason_text": "Смена фамилии"} if field == "reason_text" else {}
    form = MARRIED | typed
    return form | {field: f"{form[field][:3]}{character}{form[field][3:]}"}


@pytest.mark.parametrize("character", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("field", TYPED_FIELDS)
def test_invisible_characters_in_a_document_or_reason_are_refused_beside_the_field(
    world: Flask, field: str, character: str
) -> None:
    client, token = staff(world)
    me, my_token = citizen(world)
    form = with_invisible(field, character)
    for step in ("data", "data/confirm"):
        response = client.post(f"/insurer/person/{ENP}/{step}", data=form | {"csrf_token": token})
        assert response.status_code == 400, step
        assert "невидимые" in field_error(response.get_data(as_text=True), field), step
    sent = me.post("/me/data-change", data=form | {"csrf_token": my_token})
    assert sent.status_code == 400
    assert "невидимые" in field_error(sent.get_data(as_text=True), field)
    assert surname(world) == "ИВАНОВА"
    with world.app_context():
        assert data_changes.latest_change_request(people.person_by_enp(ENP)) is None


def test_an_invisible_character_in_a_decline_reason_is_refused(world: Flask) -> None:
    request_id = open_request(world)
    client, token = staff(world)
    reason = {"decline_reason": "Свидетельство \u202eне читается", "csrf_token": token}
    response = client.post(f"/insurer/data-requests/{request_id}/decline", data=reason)
    assert response.status_code == 400
    assert "невидимые" in field_error(response.get_data(as_text=True), "decline_reason")
    with world.app_context():
        assert db.session.get(DataChangeRequest, request_id).status == RequestStatus.OPEN


def test_the_command_refuses_an_invisible_character_in_the_document(world: Flask) -> None:
    document = "marriage_certificate;II-МЮ;654\u202e321;2026-11-20;Отдел ЗАГС"
    arguments = ["persons", "correct", ENP, "--surname", "Петрова", "--reason", "marriage", "--document", document]
    result = world.test_cli_runner().invoke(args=arguments)
    assert result.exit_code == 1
    assert "--document" in result.output
    assert "невидимые" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert surname(world) == "ИВАНОВА"


@pytest.mark.parametrize("character", ["\u200b", "\u00ad", "\x1b"], ids=["zero-width space", "soft hyphen", "escape"])
def test_an_invisible_character_in_a_name_is_named_in_the_refusal(world: Flask, character: str) -> None:
    """«нельзя «»» said nothing: the character nobody sees is named by its code."""
    client, token = staff(world)
    me, my_token = citizen(world)
    form = MARRIED | {"surname": f"Пет{character}рова"}
    for response in (
        client.post(f"/insurer/person/{ENP}/data", data=form | {"csrf_token": token}),
        me.post("/me/data-change", data=form | {"csrf_token": my_token}),
    ):
        assert response.status_code == 400
        assert f"U+{ord(character):04X}" in field_error(response.get_data(as_text=True), "surname")
    assert surname(world) == "ИВАНОВА"


# ---- what the confirmation showed is what is changed ----


def hidden_fields(page: str) -> dict[str, str]:
    """The confirmation's form as the browser will send it back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def birth_date(world: Flask) -> str:
    with world.app_context():
        return people.person_by_enp(ENP).birth_date.isoformat()


def test_a_confirmation_never_reverts_a_colleagues_change_it_did_not_show(world: Flask) -> None:
    """Staff A reads old → new (the surname only); meanwhile B corrects the birth date; A's «Подтвердить» sent the
    whole form back, the old birth date with it, and B's correction was undone without anyone seeing it."""
    first, token = staff(world)
    preview = first.post(f"/insurer/person/{ENP}/data", data=MARRIED | {"csrf_token": token})
    confirmation = hidden_fields(preview.get_data(as_text=True))
    corrected = MARRIED | {"surname": "Иванова", "birth_date": "1990-04-21", "reason": "registry_error"}
    second, second_token = staff(world)
    assert (
        second.post(f"/insurer/person/{ENP}/data/confirm", data=corrected | {"csrf_token": second_token}).status_code
        == 302
    )

    refused = first.post(f"/insurer/person/{ENP}/data/confirm", data=confirmation)
    assert refused.status_code == 400
    assert "изменились" in field_error(refused.get_data(as_text=True), "form")
    assert (surname(world), birth_date(world)) == ("ИВАНОВА", "1990-04-21")


def test_accepting_a_request_never_reverts_a_change_made_since_the_page_was_read(world: Flask) -> None:
    request_id = open_request(world)  # the surname; her birth date as it stood
    client, token = staff(world)
    page = client.get(f"/insurer/data-requests/{request_id}/accept").get_data(as_text=True)
    assert "<del>Иванова</del>" in page
    assert "12.04.1990" not in page, "the page shows the surname only"
    accept = hidden_fields(page)
    corrected = MARRIED | {"surname": "Иванова", "birth_date": "1990-04-21", "reason": "registry_error"}
    assert client.post(f"/insurer/person/{ENP}/data/confirm", data=corrected | {"csrf_token": token}).status_code == 302

    refused = client.post(f"/insurer/data-requests/{request_id}/accept", data=accept)
    assert refused.status_code == 400
    assert "<ins>12.04.1990</ins>" in refused.get_data(as_text=True), "the page now shows what accepting would do"
    assert (surname(world), birth_date(world)) == ("ИВАНОВА", "1990-04-21")
    with world.app_context():
        assert db.session.get(DataChangeRequest, request_id).status == RequestStatus.OPEN


# ---- ways in that held: kept as tests ----


def test_a_confirmation_sent_twice_with_fields_slipped_in_changes_the_name_once_and_nothing_else(world: Flask) -> None:
    """A double tap, or a replay, of «Подтвердить», with the person's category, insurer, ЕНП and end of the right
    added to the form: one change, one code, one audit entry; the rest is not the form's to set."""
    client, token = staff(world)
    with world.app_context():
        before = people.person_by_enp(ENP)
        kept = (before.category, before.insurer_id, before.right_valid_until)
        serial = people.current_code(before).serial
    slipped = {
        "category": "foreign_temporary",
        "insurer_id": "2",
        "enp": "1234567890123458",
        "right_valid_until": "2027-01-01",
    }
    form = MARRIED | slipped | {"csrf_token": token}
    assert client.post(f"/insurer/person/{ENP}/data/confirm", data=form).status_code == 302
    assert client.post(f"/insurer/person/{ENP}/data/confirm", data=form).status_code == 400
    with world.app_context():
        after = people.person_by_enp(ENP)
        assert (after.category, after.insurer_id, after.right_valid_until) == kept
        assert after.surname == "ПЕТРОВА"
        assert people.current_code(after).serial == serial + 1
    assert audit_actions(world).count("correct") == 1


def test_a_request_follows_its_person_to_the_new_insurer(world: Flask) -> None:
    """The old insurer no longer sees or answers it; the new one does."""
    request_id = open_request(world)
    with world.app_context():
        accounts.create_user("smo-other", PASSWORD, Role.INSURER, "test", insurer_code="77002")
        today = clock.today_in_moscow(clock.now())
        lifecycle.change_insurer(ENP, "77002", today, "test", "insurer_left", document="письмо ТФОМС № 12-345")
    old, token = staff(world)
    assert "Петрова" not in old.get("/insurer/requests").get_data(as_text=True)
    assert old.get(f"/insurer/data-requests/{request_id}/accept").status_code == 404
    assert old.post(f"/insurer/data-requests/{request_id}/accept", data={"csrf_token": token}).status_code == 404
    new = logged_in(world, "smo-other")
    new_token = csrf(new, "/insurer/")
    assert "Петрова" in new.get("/insurer/requests").get_data(as_text=True)
    assert new.post(f"/insurer/data-requests/{request_id}/accept", data={"csrf_token": new_token}).status_code == 302
    assert surname(world) == "ПЕТРОВА"


def test_only_a_data_change_gives_the_reason_data_changed(world: Flask) -> None:
    """A code superseded by a plain reissue, or revoked, reads with no reason, and the desk does not say the
    data changed; only a data change's superseded code does."""
    with world.app_context():
        token = accounts.create_token("GP-001", "МИС", "test")[1]
        reissued = people.current_code(people.person_by_enp(ENP)).text
        lifecycle.reissue(ENP, "test", "Телефон потерян или украден")
        revoked = lifecycle.revoke(ENP, "test", "Кодом пользуется посторонний").text
        changed = lifecycle.reissue(ENP, "test", "Застрахованный попросил новый код").text
        data_changes.change_person_data(
            ENP, data_changes.NewData.from_form(MARRIED), data_changes.ChangeReason.MARRIAGE, "",
            data_changes.Document.from_form(MARRIED), "test",
        )  # fmt: skip
    api = world.test_client()
    desk = logged_in(world, "clinic")
    desk_token = csrf(desk, "/clinic/")
    expected = {reissued: ("superseded", None), revoked: ("revoked", None), changed: ("superseded", "data_changed")}
    for code, (verdict, reason) in expected.items():
        body = api.post("/api/v1/verify", json={"code": code}, headers={"Authorization": f"Bearer {token}"}).get_json()
        assert (body["verdict"], body["reason"]) == (verdict, reason)
        page = desk.post("/clinic/verify", data={"code": code, "csrf_token": desk_token}).get_data(as_text=True)
        assert ("Данные изменились" in page) is (reason is not None), verdict


def test_data_changes_log_no_personal_data(world: Flask, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """Every data-change flow, old names and new and the document, captured at DEBUG (tests/security/test_logs.py):
    staff's change and a refused one, the search by a former surname, a citizen's requests declined and
    accepted, `flask persons correct` and an import's correction."""
    with everything_logged(caplog):
        world.logger.debug("canary")
        client, token = staff(world)
        client.post(f"/insurer/person/{ENP}/data", data=MARRIED | {"csrf_token": token, "surname": "Smith"})
        client.post(f"/insurer/person/{ENP}/data", data=MARRIED | {"csrf_token": token})
        client.post(f"/insurer/person/{ENP}/data/confirm", data=MARRIED | {"csrf_token": token})
        client.get("/insurer/?" + urlencode({"q": MOTHER.name.surname, "birth_date": MOTHER.birth_date.isoformat()}))
        me, my_token = citizen(world)
        child = {"surname": "Петров", "given_name": CHILD.name.given_name, "patronymic": CHILD.name.patronymic}
        child |= {"birth_date": CHILD.birth_date.isoformat(), "sex": "M"}
        for outcome in ("decline", "accept"):
            me.post(f"/me/data-change?person={CHILD.enp}", data=MARRIED | child | {"csrf_token": my_token})
            with world.app_context():
                request_id = data_changes.latest_change_request(people.person_by_enp(str(CHILD.enp))).id
            client.get(f"/insurer/data-requests/{request_id}/{outcome}")
            answer = {"csrf_token": token, "decline_reason": "Документ не читается"}
            client.post(f"/insurer/data-requests/{request_id}/{outcome}", data=answer)
        runner = world.test_cli_runner()
        document = "marriage_certificate;II-МЮ;654321;2026-11-20;Отдел ЗАГС Тверского района"
        correct = ["persons", "correct", str(STRANGER.enp), "--reason", "marriage", "--document", document]
        runner.invoke(args=[*correct, "--surname", "Smith"])
        runner.invoke(args=[*correct, "--surname", "Петровский"])
        csv = tmp_path / f"{STRANGER.name.surname}.csv"
        line = f"{STRANGER.enp},Сидоров,{STRANGER.name.given_name},{STRANGER.name.patronymic},{STRANGER.birth_date}"
        csv.write_text(f"{','.join(bulk_import.COLUMNS)}\n{line},M,{STRANGER.snils},77002,citizen,,\n", "utf-8")
        runner.invoke(args=["registry", "import", str(csv)])
        records = list(caplog.records)

    assert "canary" in [record.getMessage() for record in records], "the capture hears the app's own logger"
    assert surname(world) == "ПЕТРОВА", "the flows ran"
    with world.app_context():
        assert people.person_by_enp(str(CHILD.enp)).surname == "ПЕТРОВ"
        assert people.person_by_enp(str(STRANGER.enp)).surname == "СИДОРОВ"
    secrets = set().union(*(spellings(person) for person in (MOTHER, CHILD, STRANGER)))
    secrets |= {"Петрова", "Петров", "Петровский", "Сидоров", "654321", "Отдел ЗАГС"}
    found = {f"{record.name}: {record.getMessage()[:200]}": leaks(record, secrets) for record in records}
    assert {line: secrets for line, secrets in found.items() if secrets} == {}
