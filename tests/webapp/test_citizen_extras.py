"""The citizen's extract to print, and their request for a new code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from tests.helpers.registry import KEY_START, NOW, person_data, register
from tests.helpers.scanning import read_codes, read_qr
from tests.webapp.pages import CHILD, MOTHER, STRANGER, code_text, csrf, field_error, logged_in
from webapp.extensions import db
from webapp.models import AuditEntry, ReissueRequest, RequestStatus
from webapp.registry import audit, lifecycle, organisations, people, reissue_requests
from webapp.registry.errors import NotFound, RegistryError
from webapp.registry.reasons import DETAILS_ONLY_FOR_OTHER
from webapp.web import messages, pdf

ROOT = Path(__file__).resolve().parents[2]
PRINT_DPI = 150  # an ordinary office scan


def pdf_pages(body: bytes) -> list[pypdfium2.PdfPage]:
    return list(pypdfium2.PdfDocument(body))


def barcodes(page: pypdfium2.PdfPage) -> dict[zxingcpp.BarcodeFormat, str]:
    image = page.render(scale=PRINT_DPI / 72, grayscale=True).to_pil()
    return {found.format: found.text for found in read_codes(image)}


@pytest.mark.parametrize(
    ("suffix", "enp", "name"),
    [("", MOTHER, "Иванова Мария Петровна"), (f"?person={CHILD}", CHILD, "Иванов Артём Сергеевич")],
)
def test_extract_is_one_a4_page_whose_codes_scan_from_print(site: Flask, suffix: str, enp: str, name: str) -> None:
    response = logged_in(site, "ivanova").get(f"/me/extract.pdf{suffix}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    (page,) = pdf_pages(response.data)
    assert (round(page.get_width() / 72 * 25.4), round(page.get_height() / 72 * 25.4)) == (210, 297)
    text = page.get_textpage().get_text_range()
    assert name in text
    assert "Выписка о полисе ОМС" in text
    assert "Демо-Мед" in text
    assert "бессрочно" in text
    found = barcodes(page)
    assert found[zxingcpp.BarcodeFormat.QRCode] == code_text(site, enp)
    assert found[zxingcpp.BarcodeFormat.Code128] == enp


def test_extract_is_russian_from_an_english_page_too(site: Flask) -> None:
    """The extract is a Russian document: downloaded from an English page it said «Сформировано … MSK»."""
    client = logged_in(site, "ivanova")
    client.post("/language", data={"language": "en", "next": "/me/", "csrf_token": csrf(client, "/me/")})
    assert "Extract to print (in Russian" in client.get("/me/").get_data(as_text=True), "said before it is opened"
    (page,) = pdf_pages(client.get("/me/extract.pdf").data)
    text = " ".join(page.get_textpage().get_text_range().split())
    assert re.search(r"Сформировано \d\d\.\d\d\.\d{4} \d\d:\d\d МСК\.", text), text
    assert "MSK" not in text


def test_extract_of_someone_else_or_without_a_code_answers_404(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    assert client.get(f"/me/extract.pdf?person={STRANGER}").status_code == 404
    with site.app_context():
        lifecycle.revoke(CHILD, "test", "телефон украден")
    assert client.get(f"/me/extract.pdf?person={CHILD}").status_code == 404
    assert site.test_client().get("/me/extract.pdf").status_code == 302, "anonymous: to the login page"
    assert logged_in(site, "clinic").get("/me/extract.pdf").status_code == 403


def test_extract_download_names_the_file_and_the_card_links_it(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    response = client.get("/me/extract.pdf?download=1")
    saved = "vypiska-polis-oms-ivanova-mariia-petrovna.pdf"  # the person's name: each family member's is their own
    assert response.headers["Content-Disposition"] == f'attachment; filename="{saved}"'
    card = client.get(f"/me/?person={CHILD}").get_data(as_text=True)
    assert f"/me/extract.pdf?person={CHILD}&amp;download=1" in card


def ask(client: FlaskClient, data: dict[str, str], suffix: str = "") -> object:
    token = csrf(client, f"/me/{suffix}")
    return client.post(f"/me/reissue-request{suffix}", data={**data, "csrf_token": token})


def requests_of(app: Flask, enp: str) -> list[tuple[str, str]]:
    with app.app_context():
        person = people.person_by_enp(enp)
        rows = db.session.scalars(select(ReissueRequest).where(ReissueRequest.person_id == person.id))
        return [(row.reason, row.status) for row in rows]


def test_reissue_request_needs_the_csrf_token(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    assert client.post("/me/reissue-request", data={"reason": "lost_phone"}).status_code == 400
    assert requests_of(site, MOTHER) == []


def test_citizen_asks_for_a_new_code_once_and_sees_it_waiting(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    response = ask(client, {"reason": "lost_phone"})
    assert response.status_code == 302
    page = client.get("/me/").get_data(as_text=True)
    assert "Заявка на новый код отправлена" in page
    assert "ждёт ответа страховой компании" in page
    assert "Отправить заявку" not in page, "no second form while one is open"
    assert requests_of(site, MOTHER) == [("Телефон потерян или украден", "open")]

    token = csrf(
        client, "/me/"
    )  # the form is gone from the card (the header's forms hold the token); an old tab may post
    again = client.post("/me/reissue-request", data={"reason": "other", "details": "ещё раз", "csrf_token": token})
    assert again.status_code == 302
    assert "Заявка уже подана, новая не нужна" in client.get("/me/").get_data(as_text=True)
    assert requests_of(site, MOTHER) == [("Телефон потерян или украден", "open")]
    with site.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "request_reissue")).all()
        assert [(entry.actor, entry.entity_key) for entry in entries] == [("citizen:ivanova", MOTHER)]
        assert list(audit.problems()) == []


@pytest.mark.parametrize(
    "behind_their_back",
    [
        {messages.KEPT_COPY_HEADER: "1"},
        {"HX-Request": "true"},
        {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
        {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"},
        {"Sec-Fetch-Mode": "navigate", "Sec-Purpose": "prefetch;prerender"},
    ],
    ids=["the-phone-keeping-the-card", "an-htmx-poll", "a-script", "a-picture", "a-prerender"],
)
def test_a_page_drawn_behind_the_persons_back_leaves_them_the_message(
    site: Flask, behind_their_back: dict[str, str]
) -> None:
    """A page drawn for a request the person did not make (webapp/web/messages.py) between a form's answer and the
    page it leads to does not take the form's message: the person reads it on the page they open."""
    client = logged_in(site, "ivanova")
    assert ask(client, {"reason": "lost_phone"}).status_code == 302
    drawn = client.get("/me/", headers=behind_their_back)
    assert drawn.status_code == 200
    assert "ждёт ответа страховой компании" in drawn.get_data(as_text=True), "the card itself, as it is now"
    assert "Заявка на новый код отправлена" not in drawn.get_data(as_text=True)
    assert messages.SHOWN_ONCE_HEADER not in drawn.headers
    opened = client.get("/me/", headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "empty"})  # through the worker
    assert "Заявка на новый код отправлена" in opened.get_data(as_text=True)
    assert opened.headers[messages.SHOWN_ONCE_HEADER] == "1", "the phone does not keep it"
    assert "Заявка на новый код отправлена" not in client.get("/me/").get_data(as_text=True), "shown once"


def test_a_dependants_request_is_theirs_and_a_strangers_answers_404(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    response = ask(client, {"reason": "other", "details": "  Сын  сменил   фамилию  "}, f"?person={CHILD}")
    assert response.status_code == 302
    assert response.location.endswith(f"/me/?person={CHILD}")
    assert requests_of(site, CHILD) == [("Сын сменил фамилию", "open")]
    assert requests_of(site, MOTHER) == []
    assert "ждёт ответа страховой компании" in client.get(f"/me/?person={CHILD}").get_data(as_text=True)
    token = csrf(client)
    stranger = client.post(f"/me/reissue-request?person={STRANGER}", data={"reason": "lost_phone", "csrf_token": token})
    assert stranger.status_code == 404
    assert requests_of(site, STRANGER) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "reason", "Выберите причину из списка"),
        ({"reason": "bored"}, "reason", "Выберите причину из списка"),
        ({"reason": "other", "details": "   "}, "details", "Опишите причину своими словами"),
        ({"reason": "other", "details": "я" * 501}, "details", "Причина длиннее 500 знаков"),
        ({"reason": "lost_phone", "details": "в метро"}, "details", DETAILS_ONLY_FOR_OTHER),
    ],
)
def test_a_bad_reason_is_refused_with_a_message(site: Flask, data: dict[str, str], field: str, message: str) -> None:
    client = logged_in(site, "ivanova")
    response = ask(client, data)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message, "the message stands by its field"
    assert requests_of(site, MOTHER) == []


def test_a_bad_reason_reads_in_english_on_an_english_page(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    client.post("/language", data={"language": "en", "next": "/me/", "csrf_token": csrf(client, "/me/")})
    response = ask(client, {"reason": "other"})
    assert response.status_code == 400
    assert "Describe the reason in your own words" in response.get_data(as_text=True)


def test_changed_data_leads_to_its_own_request_not_to_a_new_code(site: Flask) -> None:
    """«Изменились данные» was a reason to ask for a new code, while a code with the new data comes only with the
    data changed, on its own request: the insurer got a request it could only decline or answer with a code under
    the old name. The form now says where changed data goes, and links there."""
    client = logged_in(site, "ivanova")
    page = client.get(f"/me/?person={CHILD}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/me/reissue-request[^"]*".*?</form>', page, re.S)
    assert form, page
    assert "data_changed" not in form.group(0)
    assert "Изменились данные" not in form.group(0)
    assert f'<a href="/me/data-change?person={CHILD}">Сообщить об изменении данных</a>' in form.group(0)
    assert "Просить новый код не нужно: сообщите об изменении данных" in " ".join(form.group(0).split())
    assert client.get(f"/me/data-change?person={CHILD}").status_code == 200, "the link leads to the form"
    stale = ask(client, {"reason": "data_changed"}, f"?person={CHILD}")  # the form as it was
    assert stale.status_code == 400
    assert field_error(stale.get_data(as_text=True), "reason") == "Выберите причину из списка"
    assert requests_of(site, CHILD) == []


def test_a_request_made_for_changed_data_before_still_reads_in_english(site: Flask) -> None:
    with site.app_context():
        reissue_requests.request_reissue(people.person_by_enp(MOTHER), "Изменились данные", "citizen:ivanova")
    staff = logged_in(site, "smo")
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    assert "My details changed" in staff.get("/insurer/requests").get_data(as_text=True)


def test_insurer_lists_and_closes_requests_of_its_own_people(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    ask(client, {"reason": "photographed"})
    ask(client, {"reason": "lost_phone"}, f"?person={CHILD}")
    with site.app_context():
        demo_med = people.insurer_by_code("77001").id
        other = people.insurer_by_code("77002").id
        listed = reissue_requests.open_requests(demo_med)
        assert [request.person.enp for request in listed] == [MOTHER, CHILD]
        assert reissue_requests.open_requests(other) == []
        first = listed[0].id
        with pytest.raises(NotFound):
            reissue_requests.close_request(first, RequestStatus.DONE, "smo:other", scope="77002")
        with pytest.raises(RegistryError):
            reissue_requests.close_request(first, RequestStatus.OPEN, "smo:smo", scope="77001")
        lifecycle.reissue(MOTHER, "smo:smo", "по заявке", scope="77001")
        closed = reissue_requests.close_request(first, RequestStatus.DONE, "smo:smo", scope="77001")
        assert closed.status == RequestStatus.DONE
        assert closed.closed_at is not None
        with pytest.raises(RegistryError):
            reissue_requests.close_request(first, RequestStatus.DECLINED, "smo:smo", scope="77001", decline_reason="x")
        assert [request.person.enp for request in reissue_requests.open_requests(demo_med)] == [CHILD]
        assert db.session.scalar(select(func.count()).select_from(ReissueRequest)) == 2
        db.session.remove()
    page = client.get("/me/").get_data(as_text=True)
    assert "выполнена: код перевыпущен" in page
    assert "Отправить заявку" in page, "a new request may follow a closed one"


def test_a_person_with_no_policy_yet_cannot_ask(registry: Flask) -> None:
    register()
    newborn = lifecycle.register_newborn(
        person_data("770000000000010", "Иванова", "Вера", born=NOW.date(), birth_registered_on=NOW.date()), MOTHER, "t"
    )
    with pytest.raises(RegistryError, match="Полиса пока нет"):
        reissue_requests.request_reissue(newborn, "Телефон потерян или украден", "test")
    assert db.session.scalar(select(func.count()).select_from(ReissueRequest)) == 0


def test_the_service_worker_is_served_from_the_root_and_its_shell_exists(app: Flask) -> None:
    response = app.test_client().get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    (listing,) = re.findall(r"const SHELL_FILES = \[(.*?)\];", script, re.S)
    shell = re.findall(r'"(/static/[^"]+)"', listing)
    assert "/static/js/live-code.js" in shell
    for path in shell:
        assert (ROOT / path.lstrip("/")).is_file(), path
    manifest = json.loads((ROOT / "static" / "manifest.webmanifest").read_text(encoding="utf-8"))
    for icon in manifest["icons"]:
        with Image.open(ROOT / icon["src"].lstrip("/")) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]


def test_the_longest_names_still_fit_one_page_that_scans(registry: Flask) -> None:
    long_insurer = "Акционерное общество «Страховая медицинская компания с очень длинным названием для проверки»"
    organisations.create_insurer("77003", long_insurer, "test", "77", now=KEY_START)
    name = ("Константинопольская-Римская-Корсакова", "Александра-Мария", "Владимировна")
    code = register(person_data("770000000000009", *name), insurer="77003")
    (page,) = pdf_pages(pdf.render(code.person, code, NOW))
    text = " ".join(page.get_textpage().get_text_range().split())
    assert "Константинопольская-Римская-Корсакова Александра-Мария Владимировна" in text
    assert "с очень длинным названием для проверки» (код 77003)" in text
    assert "Сформировано 23.11.2026 15:00 МСК" in text
    assert "Штрихкод номера полиса (ЕНП)" in text
    found = barcodes(page)
    assert found[zxingcpp.BarcodeFormat.QRCode] == code.text
    assert found[zxingcpp.BarcodeFormat.Code128] == code.person.enp


def test_the_cached_code_picture_follows_a_reissue(site: Flask) -> None:
    """Pictures are cached by code text: after a reissue the card shows the new code, never the old one."""
    client = logged_in(site, "ivanova")
    for _ in range(2):
        assert read_qr(client.get("/me/code.png").data) == code_text(site, MOTHER)
        with site.app_context():
            lifecycle.reissue(MOTHER, "test", "новый телефон")
