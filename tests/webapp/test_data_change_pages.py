"""The pages of a person's data change (issue 20), through the test client on SQLite and PostgreSQL: staff's
form → old → new → confirmed change with a new code; a citizen's request → accepted (the same confirmation) or
declined with a reason the citizen reads; every POST needs its CSRF token, another insurer's staff get 404 at
every step, a citizen reaches only their own household's requests, and bad input is said beside its field
with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.pages import CHILD, MOTHER, PASSWORD, STRANGER, csrf, field_error, logged_in
from webapp.models import RequestStatus, Role
from webapp.registry import accounts, data_changes, lifecycle, people
from webapp.registry.errors import RegistryError

#: The marriage certificate a new surname is changed on.
DOCUMENT = {
    "document_kind": "marriage_certificate",
    "document_series": "II-МЮ",
    "document_number": "654321",
    "document_issued_on": "2026-11-20",
    "document_issuer": "Отдел ЗАГС Тверского района",
}


def change_form(**changes: str) -> dict[str, str]:
    """Мария Иванова becomes Петрова on marrying."""
    form = {
        "surname": "Петрова",
        "given_name": "Мария",
        "patronymic": "Петровна",
        "birth_date": "1990-04-12",
        "sex": "F",
        "reason": "marriage",
        "reason_text": "",
        **DOCUMENT,
    }
    return form | changes


@dataclass(frozen=True)
class Registry:
    """What a page test reads back: the person's surname, their current code's serial and status."""

    app: Flask

    def surname(self, enp: str) -> str:
        with self.app.app_context():
            return people.person_by_enp(enp).surname

    def serial(self, enp: str) -> int | None:
        with self.app.app_context():
            code = people.current_code(people.person_by_enp(enp))
            return code.serial if code else None

    def request_status(self, enp: str) -> str | None:
        with self.app.app_context():
            latest = data_changes.latest_change_request(people.person_by_enp(enp))
            return latest.status if latest else None

    def open_request(self, enp: str, **changes: str) -> int:
        """A citizen's request, as the citizen's page makes it."""
        with self.app.app_context():
            form = change_form(**changes)
            reason, reason_text = data_changes.parse_reason(form)
            request = data_changes.request_change(
                people.person_by_enp(enp),
                data_changes.NewData.from_form(form),
                reason,
                reason_text,
                data_changes.Document.from_form(form),
                "citizen:ivanova",
            )
            return request.id


@pytest.fixture
def registry(site: Flask) -> Registry:
    with site.app_context():
        accounts.create_user("smo-other", PASSWORD, Role.INSURER, "test", insurer_code="77002")
    return Registry(site)


def staff(site: Flask, login: str = "smo") -> tuple[FlaskClient, str]:
    client = logged_in(site, login)
    return client, csrf(client, "/insurer/")


def page(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


# ---- staff change a person's data ----


def test_staff_change_data_after_seeing_old_and_new(registry: Registry) -> None:
    client, token = staff(registry.app)
    serial = registry.serial(MOTHER)
    person_page = page(client.get(f"/insurer/person/{MOTHER}"))
    assert f'href="/insurer/person/{MOTHER}/data"' in person_page
    form_page = page(client.get(f"/insurer/person/{MOTHER}/data"))
    assert 'value="Иванова"' in form_page, "the form opens with the data as it is"
    assert "Вступление в брак" in form_page, "reasons in words"
    assert "marriage<" not in form_page

    preview = client.post(f"/insurer/person/{MOTHER}/data", data=change_form(csrf_token=token))
    assert preview.status_code == 200
    shown = page(preview)
    assert "<del>Иванова</del>" in shown
    assert "<ins>Петрова</ins>" in shown
    assert shown.count("<del>") == 1, "only what changes"
    assert "654321" in shown
    assert '№&nbsp;<span class="number">654321' in shown, "«№» kept with its number: a phone parted them"
    assert "Отдел ЗАГС Тверского района" in shown
    assert 'name="surname" value="Петрова"' in shown, "the confirmation carries the form"
    assert registry.surname(MOTHER) == "ИВАНОВА", "nothing changes before it is confirmed"
    assert registry.serial(MOTHER) == serial

    done = client.post(f"/insurer/person/{MOTHER}/data/confirm", data=change_form(csrf_token=token))
    assert done.status_code == 302
    assert done.location.endswith(f"/insurer/person/{MOTHER}")
    assert registry.surname(MOTHER) == "ПЕТРОВА"
    assert registry.serial(MOTHER) == serial + 1
    after = page(client.get(f"/insurer/person/{MOTHER}"))
    assert f"выпущен новый код № {serial + 1}" in after
    assert "Петрова Мария Петровна" in after


def test_back_from_the_confirmation_returns_the_form_as_sent(registry: Registry) -> None:
    client, token = staff(registry.app)
    back = client.post(f"/insurer/person/{MOTHER}/data", data=change_form(csrf_token=token, back="1"))
    assert back.status_code == 200
    assert 'name="surname" value="Петрова"' in page(back)
    assert 'value="marriage" selected' in page(back)
    assert registry.surname(MOTHER) == "ИВАНОВА"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"surname": "Smith"}, "surname"),
        ({"given_name": ""}, "given_name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "12.04.1990"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"reason": "registry_import"}, "reason"),
        ({"reason": "other", "reason_text": ""}, "reason_text"),
        ({"document_kind": ""}, "document_kind"),
        ({"document_number": ""}, "document_number"),
        ({"document_issued_on": "вчера"}, "document_issued_on"),
    ],
)
@pytest.mark.parametrize("step", ["data", "data/confirm"])
def test_bad_input_is_said_beside_its_field_and_changes_nothing(
    registry: Registry, changes: dict[str, str], field: str, step: str
) -> None:
    client, token = staff(registry.app)
    serial = registry.serial(MOTHER)
    response = client.post(f"/insurer/person/{MOTHER}/{step}", data=change_form(csrf_token=token, **changes))
    assert response.status_code == 400
    assert field_error(page(response), field), f"{field}: no message beside it"
    assert registry.surname(MOTHER) == "ИВАНОВА"
    assert registry.serial(MOTHER) == serial


def test_a_change_that_changes_nothing_is_said_and_not_made(registry: Registry) -> None:
    client, token = staff(registry.app)
    serial = registry.serial(MOTHER)
    response = client.post(f"/insurer/person/{MOTHER}/data", data=change_form(csrf_token=token, surname="Иванова"))
    assert response.status_code == 400
    assert field_error(page(response), "form")
    assert registry.serial(MOTHER) == serial


def test_the_pages_read_in_english(registry: Registry) -> None:
    client, token = staff(registry.app)
    client.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": token})
    shown = page(client.post(f"/insurer/person/{MOTHER}/data", data=change_form(csrf_token=token)))
    assert "Marriage" in shown
    assert "Confirm" in shown
    refused = page(client.post(f"/insurer/person/{MOTHER}/data", data=change_form(csrf_token=token, surname="Smith")))
    assert field_error(refused, "surname").startswith("Only Russian letters"), "the message in English"


@pytest.mark.parametrize("step", ["data", "data/confirm"])
def test_every_post_needs_its_csrf_token(registry: Registry, step: str) -> None:
    client, _token = staff(registry.app)
    serial = registry.serial(MOTHER)
    assert client.post(f"/insurer/person/{MOTHER}/{step}", data=change_form()).status_code == 400
    assert registry.serial(MOTHER) == serial
    assert registry.surname(MOTHER) == "ИВАНОВА"


def test_another_insurers_staff_get_404_at_every_step(registry: Registry) -> None:
    request_id = registry.open_request(MOTHER)
    client, token = staff(registry.app, "smo-other")
    serial = registry.serial(MOTHER)
    steps = [
        client.get(f"/insurer/person/{MOTHER}/data"),
        client.post(f"/insurer/person/{MOTHER}/data", data=change_form(csrf_token=token)),
        client.post(f"/insurer/person/{MOTHER}/data/confirm", data=change_form(csrf_token=token)),
        client.get(f"/insurer/data-requests/{request_id}/accept"),
        client.post(f"/insurer/data-requests/{request_id}/accept", data={"csrf_token": token}),
        client.get(f"/insurer/data-requests/{request_id}/decline"),
        client.post(f"/insurer/data-requests/{request_id}/decline", data={"csrf_token": token, "decline_reason": "-"}),
    ]
    assert [step.status_code for step in steps] == [404] * len(steps)
    assert "Петрова" not in page(client.get("/insurer/requests"))
    assert registry.serial(MOTHER) == serial
    assert registry.surname(MOTHER) == "ИВАНОВА"
    assert registry.request_status(MOTHER) == RequestStatus.OPEN


# ---- a citizen tells their insurer ----


def citizen(site: Flask) -> tuple[FlaskClient, str]:
    client = logged_in(site, "ivanova")
    return client, csrf(client, "/me/")


def test_a_citizens_request_accepted_gives_the_new_code(registry: Registry) -> None:
    me, token = citizen(registry.app)
    serial = registry.serial(MOTHER)
    assert "/me/data-change" in page(me.get("/me/"))
    assert 'value="Иванова"' in page(me.get("/me/data-change"))
    sent = me.post("/me/data-change", data=change_form(csrf_token=token))
    assert sent.status_code == 302
    card = page(me.get("/me/"))
    assert "Заявка на изменение данных отправлена" in card
    assert 'href="/me/data-change' not in card, "one open request at a time"
    assert "Заявка на их изменение уже отправлена" in card, "the request for a new code says the code will come"
    assert registry.surname(MOTHER) == "ИВАНОВА", "a request changes nothing by itself"

    client, staff_token = staff(registry.app)
    listing = page(client.get("/insurer/requests"))
    assert "было «Иванова», станет «Петрова»" in listing
    with client.session_transaction() as session:
        session["language"] = "en"
    assert "was “Иванова”, becomes “Петрова”" in page(client.get("/insurer/requests")), "English quotation marks"
    with client.session_transaction() as session:
        session["language"] = "ru"
    assert "654321" in listing
    assert '№&nbsp;<span class="number">654321' in listing, "«№» kept with its number"
    request_id = data_change_request_id(registry, MOTHER)
    confirmation = page(client.get(f"/insurer/data-requests/{request_id}/accept"))
    assert "<del>Иванова</del>" in confirmation
    assert "<ins>Петрова</ins>" in confirmation
    accepted = client.post(f"/insurer/data-requests/{request_id}/accept", data={"csrf_token": staff_token})
    assert accepted.status_code == 302
    assert registry.surname(MOTHER) == "ПЕТРОВА"
    assert registry.serial(MOTHER) == serial + 1
    assert registry.request_status(MOTHER) == RequestStatus.DONE

    card = page(me.get("/me/"))
    assert "Петрова Мария Петровна" in card
    assert "выполнена" in card
    again = client.post(
        f"/insurer/data-requests/{request_id}/accept", data={"csrf_token": staff_token}, follow_redirects=True
    )
    assert again.request.path == "/insurer/requests"
    assert "Заявка уже закрыта" in page(again), "a closed request: said, not a bare «Не найдено»"
    assert registry.serial(MOTHER) == serial + 1


def data_change_request_id(registry: Registry, enp: str) -> int:
    with registry.app.app_context():
        return data_changes.latest_change_request(people.person_by_enp(enp)).id


def test_a_declined_request_shows_the_citizen_the_reason(registry: Registry) -> None:
    request_id = registry.open_request(MOTHER)
    client, token = staff(registry.app)
    assert "Причина отказа" in page(client.get(f"/insurer/data-requests/{request_id}/decline"))
    decline = f"/insurer/data-requests/{request_id}/decline"
    unexplained = client.post(decline, data={"csrf_token": token, "decline_reason": " "})
    assert unexplained.status_code == 400
    assert field_error(page(unexplained), "decline_reason")
    assert registry.request_status(MOTHER) == RequestStatus.OPEN
    declined = client.post(
        decline,
        data={"csrf_token": token, "decline_reason": "Свидетельство о браке не читается, приложите скан"},
    )
    assert declined.status_code == 302
    assert registry.request_status(MOTHER) == RequestStatus.DECLINED
    assert registry.surname(MOTHER) == "ИВАНОВА"

    me, _token = citizen(registry.app)
    card = page(me.get("/me/"))
    assert "отклонена" in card
    assert "Свидетельство о браке не читается, приложите скан" in card
    assert "/me/data-change" in card, "after a decline, a new request can be sent"


def test_bad_citizen_input_keeps_the_form_and_sends_nothing(registry: Registry) -> None:
    me, token = citizen(registry.app)
    response = me.post("/me/data-change", data=change_form(csrf_token=token, surname="Smith", document_number=""))
    assert response.status_code == 400
    assert field_error(page(response), "surname")
    assert field_error(page(response), "document_number")
    assert registry.request_status(MOTHER) is None
    assert me.post("/me/data-change", data=change_form()).status_code == 400, "no CSRF token, no request"
    assert registry.request_status(MOTHER) is None


def test_every_mistake_in_a_citizens_report_is_said_at_once(registry: Registry) -> None:
    """Not one a send: a name, a birth date, a sex and the document's fields, each beside its own."""
    me, token = citizen(registry.app)
    mistakes = {
        "surname": "Smith123",
        "given_name": "",
        "birth_date": "2999-01-01",
        "sex": "",
        "document_number": "",
        "document_issuer": "",
        "document_issued_on": "",
    }
    response = me.post("/me/data-change", data=change_form(csrf_token=token, **mistakes))
    assert response.status_code == 400
    said = {field: field_error(page(response), field) for field in mistakes}
    assert said == {
        # Each character as typed, on its own: «нельзя «SMITH123»» read as a name, «IVANO» as a cut-off one.
        "surname": "Только русские буквы, пробел, дефис, апостроф и точка; не подходят: "
        "«S», «m», «i», «t», «h», «1», «2», «3»",
        "given_name": "Укажите имя",
        "birth_date": "Дата рождения в будущем",
        "sex": "Пол: мужской или женский",
        "document_number": "Укажите номер документа",
        "document_issuer": "Укажите, кем выдан документ",
        "document_issued_on": "Укажите дату выдачи документа",
    }
    assert registry.request_status(MOTHER) is None


def test_a_second_request_while_one_is_open_is_not_added(registry: Registry) -> None:
    me, token = citizen(registry.app)
    assert me.post("/me/data-change", data=change_form(csrf_token=token)).status_code == 302
    first = data_change_request_id(registry, MOTHER)
    assert me.get("/me/data-change").status_code == 302, "the card says a request is open instead"
    me.post("/me/data-change", data=change_form(csrf_token=token, surname="Сидорова"))
    assert data_change_request_id(registry, MOTHER) == first


def test_a_citizen_reports_for_a_dependant_and_never_for_a_stranger(registry: Registry) -> None:
    me, token = citizen(registry.app)
    child = change_form(surname="Петров", given_name="Артём", patronymic="Сергеевич", sex="M")
    assert me.get(f"/me/data-change?person={CHILD}").status_code == 200
    assert me.post(f"/me/data-change?person={CHILD}", data=child | {"csrf_token": token}).status_code == 302
    assert registry.request_status(CHILD) == RequestStatus.OPEN
    assert me.get(f"/me/data-change?person={STRANGER}").status_code == 404
    stranger = me.post(f"/me/data-change?person={STRANGER}", data=change_form(csrf_token=token))
    assert stranger.status_code == 404
    assert registry.request_status(STRANGER) is None


def test_a_birth_date_and_sex_read_as_words_and_dates(registry: Registry) -> None:
    """The registry's error in a birth date and sex, old → new as a person reads them: ДД.ММ.ГГГГ, «мужской»."""
    client, token = staff(registry.app)
    form = change_form(csrf_token=token, surname="Иванова", birth_date="1990-04-21", sex="M", reason="registry_error")
    shown = page(client.post(f"/insurer/person/{MOTHER}/data", data=form))
    assert "<del>12.04.1990</del>" in shown
    assert "<ins>21.04.1990</ins>" in shown
    assert "<del>женский</del>" in shown
    assert "<ins>мужской</ins>" in shown
    assert "Ошибка в реестре" in shown


# ---- a terminated policy: final, its record only corrected where it was wrong ----


def test_a_terminated_policys_record_is_only_corrected_and_no_code_is_promised(registry: Registry) -> None:
    with registry.app.app_context():
        lifecycle.terminate(MOTHER, "smo:smo", "Смерть застрахованного")
    client, token = staff(registry.app)
    assert "Исправить ошибку в данных" in page(client.get(f"/insurer/person/{MOTHER}"))
    form_page = page(client.get(f"/insurer/person/{MOTHER}/data"))
    assert 'value="registry_error"' in form_page
    assert 'value="court"' in form_page
    assert 'value="marriage"' not in form_page, "no life event is written onto a terminated policy"
    assert "<h1>Исправить ошибку в данных</h1>" in form_page
    assert 'name="reason_text"' not in form_page, "no «Другое» to describe"
    assert "выпускается новый код" not in form_page

    for step in ("data", "data/confirm"):
        refused = client.post(f"/insurer/person/{MOTHER}/{step}", data=change_form(csrf_token=token))
        assert refused.status_code == 400, step
        assert "Полис прекращён" in field_error(page(refused), "reason"), step
    assert registry.surname(MOTHER) == "ИВАНОВА"

    corrected = change_form(csrf_token=token, reason="registry_error", document_kind="passport")
    preview = page(client.post(f"/insurer/person/{MOTHER}/data", data=corrected))
    assert "Полис не действует, поэтому новый код не выпускается." in preview
    assert "Выпускается новый код" not in preview
    assert client.post(f"/insurer/person/{MOTHER}/data/confirm", data=corrected).status_code == 302
    assert registry.surname(MOTHER) == "ПЕТРОВА"
    assert registry.serial(MOTHER) is None


def test_a_citizens_request_on_a_terminated_policy_is_refused_unless_a_correction(registry: Registry) -> None:
    with registry.app.app_context():
        lifecycle.terminate(MOTHER, "smo:smo", "Смерть застрахованного")
    with pytest.raises(RegistryError, match="Полис прекращён"):
        registry.open_request(MOTHER)
    assert registry.open_request(MOTHER, reason="registry_error")
