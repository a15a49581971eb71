"""Changes to a person's own data (webapp/registry/data_changes.py), on SQLite and PostgreSQL: the new code, the old
code's verdict and cause, the audit trail and the document, former names in the search, the citizen's request,
the insurer's scope, refusals that leave the registry as it was, and the CLI and the import as other doors."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from policy_codes import Verdict, decode
from policy_codes.render import qr_png
from policy_codes.verdicts import Cause
from tests.helpers.registry import NOW, person_data, register
from tests.helpers.scanning import read_qr
from tests.webapp.pages import MOTHER, STRANGER, code_text, csrf, logged_in
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Category,
    CodeStatus,
    DataChangeRequest,
    FormerName,
    IssuedCode,
    Person,
    PersonDataChange,
    RequestStatus,
)
from webapp.registry import accounts, bulk_import, data_changes, lifecycle, people
from webapp.registry.data_changes import (
    ChangeReason,
    ChangeRequestAlreadyOpen,
    Document,
    FieldChange,
    NewData,
)
from webapp.registry.errors import NotFound, RegistryError
from webapp.registry.keys import keystore
from webapp.registry.verification import headline, message, verify_scan

ENP = str(person_data().enp)
MARRIED = NewData("Петрова", "Мария", "Петровна", date(1990, 4, 12), "F")
CERTIFICATE = Document("marriage_certificate", "II-МЮ", "123456", date(2026, 11, 20), "Отдел ЗАГС Тверского района")
#: Another insurer's staff: the person is held by 77001.
OTHER_INSURER = "77002"


def change(new: NewData = MARRIED, **kwargs: object) -> IssuedCode | None:
    arguments: dict[str, object] = {"now": NOW} | kwargs
    return data_changes.change_person_data(ENP, new, ChangeReason.MARRIAGE, "", CERTIFICATE, "smo:anna", **arguments)  # type: ignore[arg-type]


def scanned_qr(text: str) -> str:
    """The code as a phone's camera reads it off its picture."""
    return read_qr(qr_png(text))


def snapshot() -> tuple[object, ...]:
    """Everything a data change writes."""
    db.session.expire_all()
    person = people.person_by_enp(ENP)
    counted = (IssuedCode, AuditEntry, PersonDataChange, FormerName, DataChangeRequest)
    return (
        tuple(NewData.of(person).columns().values()),
        [(code.serial, code.status, code.status_cause) for code in people.codes_of(person)],
        *(db.session.scalar(select(func.count()).select_from(model)) for model in counted),
    )


def test_a_change_signs_a_code_with_the_new_name_and_the_old_one_reads_superseded_by_it(registry: Flask) -> None:
    old = register()
    new = change()
    assert new is not None
    assert new.serial == old.serial + 1
    claims = decode(scanned_qr(new.text), keystore.trust_list(), NOW).claims
    assert claims.name.surname == "ПЕТРОВА"
    assert claims.enp == old.person.enp_value, "the ЕНП never changes"
    assert verify_scan(new.text, now=NOW).verdict is Verdict.VALID
    result = verify_scan(old.text, now=NOW)
    assert (result.verdict, result.cause) == (Verdict.SUPERSEDED, Cause.DATA_CHANGED)
    words = message(result)
    assert "изменились" in words
    assert "новый код" in words
    assert "недействител" not in words + headline(result), "the policy itself stands"
    assert headline(result) == "Данные изменились"
    assert "changed" in message(result, "en")
    assert "invalid" not in message(result, "en")
    reissued = lifecycle.reissue(ENP, "test", "потерян телефон", now=NOW)
    plain = verify_scan(new.text, now=NOW)
    assert (plain.verdict, plain.cause) == (Verdict.SUPERSEDED, None), "a plain reissue gives no cause"
    assert reissued.serial == new.serial + 1


def test_the_audit_trail_and_the_record_hold_old_and_new_values_and_the_document(registry: Flask) -> None:
    register()
    code = change()
    assert code is not None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "correct")).one()
    assert (entry.actor, entry.entity_key, entry.reason) == ("smo:anna", ENP, "Вступление в брак")
    assert entry.details["old"] == {"surname": "ИВАНОВА"}
    assert entry.details["new"] == {"surname": "ПЕТРОВА"}
    assert entry.details["document"] == {
        "kind": "marriage_certificate",
        "series": "II-МЮ",
        "number": "123456",
        "issued_on": "2026-11-20",
        "issuer": "Отдел ЗАГС Тверского района",
    }
    assert entry.details["serial"] == code.serial
    (record,) = data_changes.changes_of(people.person_by_enp(ENP))
    assert (record.reason, record.new_serial, record.old_values) == ("marriage", code.serial, {"surname": "ИВАНОВА"})
    assert Document.of(record) == CERTIFICATE
    assert "123456" not in code.text
    assert "123456" not in str(decode(code.text, keystore.trust_list(), NOW).claims)
    (former,) = db.session.scalars(select(FormerName)).all()
    assert (former.surname, former.birth_date, former.changed_on) == ("ИВАНОВА", date(1990, 4, 12), date(2026, 11, 23))


def test_preview_shows_old_beside_new_and_changes_nothing(registry: Flask) -> None:
    register()
    before = snapshot()
    corrected = NewData("Петрова", "Мария", "", date(1990, 4, 21), "F")
    assert data_changes.preview(ENP, corrected) == [
        FieldChange("surname", "Фамилия", "Иванова", "Петрова"),
        FieldChange("patronymic", "Отчество", "Петровна", "—"),
        FieldChange("birth_date", "Дата рождения", "12.04.1990", "21.04.1990"),
    ]
    assert data_changes.preview(ENP, NewData("Иванова", "Мария", "Петровна", date(1990, 4, 12), "M")) == [
        FieldChange("sex", "Пол", "женский", "мужской")
    ]
    assert snapshot() == before
    with pytest.raises(RegistryError, match="не изменились"):
        data_changes.preview(ENP, NewData.of(people.person_by_enp(ENP)))


def test_the_search_finds_a_person_by_a_former_surname_and_says_so(registry: Flask) -> None:
    register()
    insurer_id = people.person_by_enp(ENP).insurer_id
    change()
    (found,) = people.search(insurer_id, "Иванова", "1990-04-12", 10)
    assert found.person.enp == ENP
    assert found.matched_former is not None
    assert (found.matched_former.surname, found.matched_former.changed_on) == ("ИВАНОВА", date(2026, 11, 23))
    (now,) = people.search(insurer_id, "Петрова Мария", "1990-04-12", 10)
    assert now.matched_former is None
    assert people.search(insurer_id, "Иванова Анна", "1990-04-12", 10) == []
    other = people.insurer_by_code(OTHER_INSURER).id
    assert people.search(other, "Иванова", "1990-04-12", 10) == [], "another insurer's people stay out of reach"


def test_the_search_page_says_which_former_name_matched(site: Flask) -> None:
    with site.app_context():
        data_changes.change_person_data(MOTHER, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "test", now=NOW)
    page = logged_in(site, "smo").get("/insurer/?q=Иванова&birth_date=1990-04-12").get_data(as_text=True)
    assert "Петрова Мария Петровна" in page
    assert "найдена по прежней фамилии Иванова (до 23.11.2026)" in page


def test_another_insurers_staff_reach_no_step(registry: Flask) -> None:
    register()
    person = people.person_by_enp(ENP)
    request = data_changes.request_change(person, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "citizen:x")
    before = snapshot()
    with pytest.raises(NotFound):
        data_changes.preview(ENP, MARRIED, scope=OTHER_INSURER)
    with pytest.raises(NotFound):
        change(scope=OTHER_INSURER)
    with pytest.raises(NotFound):
        data_changes.accept_change_request(request.id, "smo:x", scope=OTHER_INSURER)
    with pytest.raises(NotFound):
        data_changes.decline_change_request(request.id, "не тот документ", "smo:x", scope=OTHER_INSURER)
    assert snapshot() == before
    assert data_changes.open_change_requests(people.insurer_by_code(OTHER_INSURER).id) == []


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"surname": "Smith"}, "surname", "русские буквы"),
        ({"given_name": "Мария2"}, "given_name", "русские буквы"),
        ({"given_name": "-Мария"}, "given_name", "Дефис ставится только между буквами"),
        ({"surname": "Петрова-"}, "surname", "Дефис ставится только между буквами"),
        ({"patronymic": "Петровна - Ивановна"}, "patronymic", "Дефис ставится только между буквами"),
        ({"surname": ""}, "surname", "Укажите фамилию"),
        ({"surname": "А" * 41}, "surname", "40"),
        ({"surname": "А" * 40, "given_name": "Б" * 40, "patronymic": "В" * 21}, "surname", "не вместит"),
        ({"birth_date": "2999-01-01"}, "birth_date", "Дата рождения в будущем"),
        ({"birth_date": "1800-04-12"}, "birth_date", "Дата рождения раньше 1900 года"),
        ({"birth_date": "12.04.1990"}, "birth_date", "ГГГГ-ММ-ДД"),
        ({"sex": "X"}, "sex", "Пол"),
    ],
)
def test_data_the_code_cannot_carry_is_refused_clearly_and_nothing_changes(
    registry: Flask, values: dict[str, str], field: str, words: str
) -> None:
    register()
    before = snapshot()
    form = {"surname": "Петрова", "given_name": "Мария", "patronymic": "", "birth_date": "1990-04-12", "sex": "F"}
    with pytest.raises(RegistryError, match=words) as refused:
        change(NewData.from_form(form | values))
    assert refused.value.field == field
    assert snapshot() == before


def test_the_service_itself_refuses_a_future_birth_date_and_keeps_the_registry(registry: Flask) -> None:
    register()
    before = snapshot()
    with pytest.raises(RegistryError, match="будущем"):
        change(NewData("Петрова", "Мария", "Петровна", date(2026, 12, 1), "F"))
    with pytest.raises(RegistryError, match="Дата рождения раньше 1900 года"):
        change(NewData("Петрова", "Мария", "Петровна", date(1800, 4, 12), "F"))
    with pytest.raises(RegistryError, match="документ"):
        data_changes.change_person_data(ENP, MARRIED, ChangeReason.MARRIAGE, "", None, "test", now=NOW)
    with pytest.raises(RegistryError, match="своими словами"):
        data_changes.change_person_data(ENP, MARRIED, ChangeReason.OTHER, " ", CERTIFICATE, "test", now=NOW)
    assert snapshot() == before


def test_forms_give_their_reasons_and_documents_checked() -> None:
    assert data_changes.parse_reason({"reason": "other", "reason_text": "  смена  пола "}) == (
        ChangeReason.OTHER,
        "смена пола",
    )
    for refused in ({"reason": "registry_import"}, {"reason": "lost"}, {"reason": "other", "reason_text": ""}):
        with pytest.raises(RegistryError):
            data_changes.parse_reason(refused)
    form = {
        "document_kind": "court_decision",
        "document_series": "",
        "document_number": " 2-145/2026 ",
        "document_issued_on": "2026-10-01",
        "document_issuer": "Тверской районный суд",
    }
    assert Document.from_form(form, today=date(2026, 11, 23)).number == "2-145/2026"
    for key, bad in (("document_kind", "letter"), ("document_number", ""), ("document_issued_on", "2026-12-01")):
        with pytest.raises(RegistryError) as refused:
            Document.from_form(form | {key: bad}, today=date(2026, 11, 23))
        assert refused.value.field == key


def test_two_staff_changing_one_person_at_once_leave_exactly_one_current_code(registry: Flask) -> None:
    register()
    surnames = ["Петрова", "Сидорова", "Кузнецова", "Смирнова"]
    barrier = threading.Barrier(len(surnames))
    errors: list[BaseException] = []

    def change_to(surname: str) -> None:
        with registry.app_context():
            try:
                barrier.wait()
                new = NewData(surname, "Мария", "Петровна", date(1990, 4, 12), "F")
                data_changes.change_person_data(ENP, new, ChangeReason.MARRIAGE, "", CERTIFICATE, f"smo:{surname}")
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=change_to, args=(surname,)) for surname in surnames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    person = people.person_by_enp(ENP)
    codes = people.codes_of(person)
    current = [code for code in codes if code.status == CodeStatus.CURRENT]
    assert len(current) == 1
    assert [code.serial for code in codes] == list(range(len(surnames) + 1, 0, -1)), "no serial lost or doubled"
    assert decode(current[0].text, keystore.trust_list()).claims.name.surname == person.surname
    changes = data_changes.changes_of(person)
    assert len(changes) == len(surnames)
    assert [c.old_values["surname"] for c in reversed(changes)][1:] == [
        c.new_values["surname"] for c in reversed(changes)
    ][:-1], "each change starts from the one before it: none was lost"


def test_the_citizens_request_accepted_signs_the_new_code(registry: Flask) -> None:
    old = register()
    person = people.person_by_enp(ENP)
    request = data_changes.request_change(person, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "citizen:ivanova")
    assert data_changes.open_change_requests(person.insurer_id) == [request]
    assert data_changes.request_changes(request) == [FieldChange("surname", "Фамилия", "Иванова", "Петрова")]
    with pytest.raises(ChangeRequestAlreadyOpen):
        data_changes.request_change(person, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "citizen:ivanova")
    code = data_changes.accept_change_request(request.id, "smo:anna", scope="77001", now=NOW)
    assert code is not None
    assert decode(scanned_qr(code.text), keystore.trust_list(), NOW).claims.name.surname == "ПЕТРОВА"
    assert verify_scan(old.text, now=NOW).cause is Cause.DATA_CHANGED
    db.session.expire_all()
    closed = data_changes.latest_change_request(person)
    assert closed is not None
    assert (closed.status, closed.closed_at is not None) == (RequestStatus.DONE, True)
    assert data_changes.changes_of(person)[0].request_id == request.id
    assert data_changes.open_change_request_of(person.id) is None
    with pytest.raises(RegistryError, match="закрыта"):
        data_changes.accept_change_request(request.id, "smo:anna", now=NOW)


def test_the_citizens_request_declined_keeps_the_reason_and_changes_nothing(registry: Flask) -> None:
    register()
    person = people.person_by_enp(ENP)
    request = data_changes.request_change(person, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "citizen:ivanova")
    before = snapshot()
    with pytest.raises(RegistryError, match="причину отказа"):
        data_changes.decline_change_request(request.id, "  ", "smo:anna")
    data_changes.decline_change_request(request.id, "Номер свидетельства не найден в ЕГР ЗАГС", "smo:anna")
    declined = data_changes.latest_change_request(person)
    assert declined is not None
    assert (declined.status, declined.decline_reason) == (
        RequestStatus.DECLINED,
        "Номер свидетельства не найден в ЕГР ЗАГС",
    )
    assert snapshot()[:2] == before[:2], "the data and the codes stay as they were"
    again = data_changes.request_change(person, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "citizen:ivanova")
    assert again.status == RequestStatus.OPEN, "a declined request leaves room for a new one"


def test_a_request_that_changes_nothing_is_refused(registry: Flask) -> None:
    register()
    person = people.person_by_enp(ENP)
    with pytest.raises(RegistryError, match="не изменились"):
        data_changes.request_change(
            person, NewData.of(person), ChangeReason.MARRIAGE, "", CERTIFICATE, "citizen:ivanova"
        )
    with pytest.raises(RegistryError, match="причину"):
        data_changes.request_change(person, MARRIED, ChangeReason.REGISTRY_IMPORT, "файл", None, "citizen:ivanova")


def test_a_newborns_registered_name_follows_the_birth_certificate(registry: Flask) -> None:
    register()
    child_enp = str(person_data("770000000000002").enp)
    born = date(2026, 11, 1)
    newborn = person_data("770000000000002", "Иванов", "Ребёнок", "", born=born, sex="M", birth_registered_on=born)
    lifecycle.register_newborn(newborn, ENP, "test", now=NOW)
    registered = NewData("Иванов", "Артём", "Сергеевич", date(2026, 10, 31), "M")
    certificate = Document("birth_certificate", "IV-МЮ", "654321", date(2026, 11, 20), "Отдел ЗАГС")
    assert (
        data_changes.change_person_data(
            child_enp, registered, ChangeReason.BIRTH_CERTIFICATE, "", certificate, "smo:anna", now=NOW
        )
        is None
    ), "no policy of its own yet: no code to sign"
    code = lifecycle.issue_newborn_policy(child_enp, "smo:anna", now=NOW)
    claims = decode(scanned_qr(code.text), keystore.trust_list(), NOW).claims
    assert (claims.name.given_name, claims.birth_date) == ("АРТЁМ", date(2026, 10, 31))
    (found,) = people.search(people.person_by_enp(child_enp).insurer_id, "Иванов Ребёнок", "2026-11-01", 10)
    assert found.person.enp == child_enp
    assert found.matched_former is not None


def test_the_cli_changes_data_with_its_reason_and_document(registry: Flask) -> None:
    register()
    runner = registry.test_cli_runner()
    document = "marriage_certificate;II-МЮ;123456;2026-11-20;Отдел ЗАГС"
    result = runner.invoke(
        args=["persons", "correct", ENP, "--surname", "Петрова", "--reason", "marriage", "--document", document]
    )
    assert result.exit_code == 0, result.output
    assert "выпущен код №2" in result.output
    db.session.expire_all()
    (record,) = data_changes.changes_of(people.person_by_enp(ENP))
    assert (record.reason, record.document_number, record.actor.startswith("cli:")) == ("marriage", "123456", True)
    for args, words in [
        (["--surname", "Smith", "--reason", "marriage", "--document", document], "--surname:"),
        (["--surname", "Сидорова", "--reason", "marriage", "--document", "свидетельство"], "--document:"),
        (["--surname", "Сидорова", "--reason", "other", "--document", document], "--reason-text:"),
        (["--birth-date", "2999-01-01", "--reason", "court", "--document", document], "--birth-date:"),
        (
            ["--birth-date", "1800-01-01", "--reason", "court", "--document", document],
            "--birth-date: Дата рождения раньше 1900 года",
        ),
    ]:
        refused = runner.invoke(args=["persons", "correct", ENP, *args])
        assert refused.exit_code == 1
        assert words in refused.output
        assert "Traceback" not in refused.output
    unknown = runner.invoke(args=["persons", "correct", STRANGER, "--reason", "court", "--document", document])
    assert unknown.exit_code == 1
    assert "не найден" in unknown.output


def test_an_import_that_changes_only_the_category_is_no_data_change_at_the_desk(registry: Flask) -> None:
    """The old code shows the same name and birth date: the desk says it was replaced, not that data changed."""
    old = register(person_data(category=Category.FOREIGN_PERMANENT, right_valid_until=date(2030, 1, 1)))
    line = f"{ENP},Иванова,Мария,Петровна,1990-04-12,F,,77001,citizen,,"
    report = bulk_import.import_csv((",".join(bulk_import.COLUMNS) + "\n" + line + "\n").encode(), "test", now=NOW)
    assert (report.updated, report.errors) == (1, [])
    result = verify_scan(old.text, now=NOW)
    assert result.verdict is Verdict.SUPERSEDED
    assert result.cause is None


@pytest.mark.parametrize("as_job", [False, True], ids=["at once", "as a job"])
def test_the_imports_corrections_record_the_reason_and_the_file(registry: Flask, tmp_path: Path, as_job: bool) -> None:
    register()
    path = tmp_path / "zags-2026-11.csv"
    line = f"{ENP},Петрова,Мария,Петровна,1990-04-12,F,,77001,citizen,,"
    path.write_text(",".join(bulk_import.COLUMNS) + "\n" + line + "\n", encoding="utf-8")
    if as_job:  # a large file: its job carries the name to whichever worker runs it
        assert bulk_import.start_job(path.read_bytes(), "test", file_name=path.name).result["updated"] == 1
    else:
        report = bulk_import.import_csv(path, "test", now=NOW)
        assert (report.updated, report.errors) == (1, [])
    db.session.expire_all()
    (record,) = data_changes.changes_of(people.person_by_enp(ENP))
    assert (record.reason, record.reason_text, record.document_kind) == ("registry_import", "zags-2026-11.csv", "")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "correct")).one()
    assert (entry.reason, entry.details["reason_text"]) == ("Импорт реестра", "zags-2026-11.csv")


def test_the_api_gives_the_reason_of_a_superseded_code(registry: Flask) -> None:
    moment = datetime.now(NOW.tzinfo)
    old = register(at=moment)
    token = accounts.create_token("GP-001", "МИС", "test")[1]
    client = registry.test_client()

    def verify(text: str) -> dict:
        headers = {"Authorization": f"Bearer {token}"}
        return client.post("/api/v1/verify", json={"code": text}, headers=headers).get_json()

    assert verify(old.text)["reason"] is None
    new = change(now=moment)
    assert new is not None
    body = verify(old.text)
    assert (body["verdict"], body["reason"]) == ("superseded", "data_changed")
    assert "недействител" not in body["message"]
    assert verify(new.text)["reason"] is None


def test_the_clinic_desk_asks_for_the_new_code(site: Flask) -> None:
    old = code_text(site, MOTHER)
    with site.app_context():
        data_changes.change_person_data(MOTHER, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "test")
    client = logged_in(site, "clinic")
    page = client.post("/clinic/verify", data={"code": old, "csrf_token": csrf(client, "/clinic/")}).get_data(
        as_text=True
    )
    (verdict,) = re.findall(r'<section class="verdict[^"]*"[^>]*data-reason="data_changed".*?</section>', page, re.S)
    page = verdict
    assert "Данные изменились" in page
    assert "Попросите показать новый код" in page
    assert "verdict-bad" not in page
    assert "без полиса" not in page
    with site.app_context():
        assert db.session.scalar(select(Person.surname).where(Person.enp == MOTHER)) == "ПЕТРОВА"
