"""A link ended on grounds stays ended when a file names the representative again (migration 0023): the import
refuses that line in words, and the represented person's insurer restores a link ended by mistake on the person's
page, through a confirmation page. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from tests.helpers.moscow_day import years_ago, yesterday
from tests.helpers.registry import person_data, register
from tests.webapp.pages import CHILD, MOTHER, csrf, logged_in
from webapp.extensions import db
from webapp.models import AuditEntry, Representation
from webapp.registry import bulk_import, lifecycle, people, representations
from webapp.registry.errors import RegistryError
from webapp.registry.registry_file import COLUMNS
from webapp.registry.rules import coming_of_age

#: The restoring pages of the mother's guardianship of Артём (born 1990: a guardian's link, no end).
FROM_THE_WARD = f"/insurer/person/{CHILD}/representative/{MOTHER}/restore"
FROM_THE_GUARDIAN = f"/insurer/person/{MOTHER}/dependant/{CHILD}/restore"
#: A son of the mother's insured by the other insurer.
ELSEWHERE = "7700000000000065"


def _file_naming_the_mother() -> bytes:
    """The registry file's line for Артём, with his mother as his representative, as an old file still names her."""
    line = f"{CHILD},Иванов,Артём,Сергеевич,1990-05-15,M,,77001,citizen,,{MOTHER}\n"
    return (",".join(COLUMNS) + "\n" + line).encode()


def _mother_and_her_ward() -> None:
    """The mother and Артём (born 1990), linked, as the pages' registry has them."""
    register()
    register(person_data(CHILD[:15], "Иванов", "Артём", "Сергеевич", sex="M"))
    lifecycle.link_representative(MOTHER, CHILD, "test")


def _link(app: Flask, representative: str = MOTHER, represented: str = CHILD) -> Representation:
    with app.app_context():
        db.session.expire_all()
        row = db.session.scalar(
            select(Representation).where(
                Representation.representative_id == people.person_by_enp(representative).id,
                Representation.represented_id == people.person_by_enp(represented).id,
            )
        )
        db.session.expunge(row)
        return row


def _flash(client: FlaskClient, response) -> str:
    assert response.status_code == 302, response.status_code
    page = client.get(response.location).get_data(as_text=True)
    found = re.search(r'<p class="flash [^"]*" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def _restored_entries(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "restore_representation")))


@pytest.mark.parametrize("grounds", ["court", "registry_error"])
def test_a_file_does_not_bring_back_a_link_the_insurer_ended(site: Flask, grounds: str) -> None:
    with site.app_context():
        representations.end(MOTHER, CHILD, grounds, "smo:test")
        report = bulk_import.import_csv(_file_naming_the_mother(), "test")
        assert report.linked == 0
        (error,) = report.errors
        assert error.about == bulk_import.REPRESENTATIVE
        assert error.reason == representations.ENDED_ON_GROUNDS
        assert error.params == {"day": f"{yesterday():%d.%m.%Y}"}
    assert (_link(site).valid_to, _link(site).ended_grounds) == (yesterday(), grounds)
    assert logged_in(site, "ivanova").get(f"/me/?person={CHILD}").status_code == 404, "still not hers"


def test_a_file_names_a_grown_childs_parent_again_after_an_end_as_of_age(registry: Flask) -> None:
    """«Совершеннолетие» ends a parent's link: a file naming the parent for the adult makes them a guardian, as
    for a link that ran out at majority."""
    _mother_and_her_ward()
    representations.end(MOTHER, CHILD, "of_age", "smo:test")
    report = bulk_import.import_csv(_file_naming_the_mother(), "test")
    assert (report.linked, report.errors) == (1, [])
    link = db.session.scalar(select(Representation))
    assert (link.valid_to, link.ended_grounds) == (None, None)


def test_the_insurer_restores_a_link_ended_by_mistake(site: Flask) -> None:
    with site.app_context():
        representations.end(MOTHER, CHILD, "registry_error", "smo:test")
    staff = logged_in(site, "smo")
    ward_page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert "Прекращённые представительства" in ward_page
    assert f"Прекращено: последний день — {yesterday():%d.%m.%Y}; основание: Ошибка в реестре" in ward_page
    assert FROM_THE_WARD in ward_page
    assert FROM_THE_GUARDIAN in staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    asked = staff.get(FROM_THE_WARD).get_data(as_text=True)
    for words in ("Восстановить представительство?", "Иванова Мария Петровна", "Иванов Артём Сергеевич", "без срока"):
        assert words in asked
    assert 'value="ended_in_error"' in asked
    assert 'value="declined_in_error"' not in asked, "staff ended it: the representative refused nothing"
    token = csrf(staff, FROM_THE_WARD)
    assert staff.post(FROM_THE_WARD).status_code == 400, "no CSRF token, no change"
    assert _link(site).valid_to == yesterday()
    unsaid = staff.post(FROM_THE_WARD, data={"csrf_token": token})
    assert unsaid.status_code == 400, "no reason, no change"
    assert "Выберите причину из списка" in unsaid.get_data(as_text=True)
    untold = staff.post(FROM_THE_WARD, data={"csrf_token": token, "reason": "other", "details": "  "})
    assert untold.status_code == 400
    assert "Опишите причину своими словами" in untold.get_data(as_text=True)
    worded = staff.post(FROM_THE_WARD, data={"csrf_token": token, "reason": "ended_in_error", "details": "по звонку"})
    assert worded.status_code == 400, "words beside a listed reason are not dropped unread"
    assert "Свои слова записываются только с причиной «Другое»" in worded.get_data(as_text=True)
    assert ">по звонку</textarea>" in worded.get_data(as_text=True), "kept for the clerk to choose «Другое»"
    assert _link(site).valid_to == yesterday()
    said = _flash(staff, staff.post(FROM_THE_WARD, data={"csrf_token": token, "reason": "ended_in_error"}))
    assert said.startswith("Представительство восстановлено, без срока")
    assert (_link(site).valid_to, _link(site).ended_grounds) == (None, None)
    (entry,) = _restored_entries(site)
    assert (entry.actor, entry.entity_key, entry.reason, entry.details) == (
        "smo:smo",
        CHILD,
        "Прекращено по ошибке",
        {
            "representative": MOTHER,
            "valid_to": None,
            "ended_grounds": "registry_error",
            "ended_on": yesterday().isoformat(),
        },
    )
    assert logged_in(site, "ivanova").get(f"/me/?person={CHILD}").status_code == 200, "hers again at once"
    page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert "Прекращённые представительства" not in page
    assert "представительство восстановлено" in page, "the person's journal says so"
    assert "Прекращено по ошибке" in page, "and why"
    again = staff.post(FROM_THE_WARD, data={"csrf_token": token, "reason": "ended_in_error"})
    assert _flash(staff, again) == ("Это представительство не прекращено по основанию: восстанавливать нечего"), (
        "twice is refused, and nothing is written twice"
    )
    assert len(_restored_entries(site)) == 1


def test_a_childs_link_restored_lasts_to_the_majority_eve(registry: Flask) -> None:
    register()
    son = person_data("770000000000031", "Иванов", "Павел", "Сергеевич", born=date(2015, 6, 1), sex="M")
    register(son, representative_enp=MOTHER)
    representations.end(MOTHER, str(son.enp), "court", "smo:test")
    last_day = representations.restore(MOTHER, str(son.enp), "ended_in_error", "smo:test", scope="77001")
    assert last_day == date(2033, 5, 31)


def test_only_a_link_ended_on_grounds_is_restored(site: Flask) -> None:
    staff = logged_in(site, "smo")
    token = csrf(staff, f"/insurer/person/{CHILD}")
    said = "Это представительство не прекращено по основанию: восстанавливать нечего"
    assert _flash(staff, staff.get(FROM_THE_WARD)) == said, "a link in force"
    assert _flash(staff, staff.post(FROM_THE_WARD, data={"csrf_token": token})) == said
    nobody = f"/insurer/person/{MOTHER}/dependant/7700000000000099/restore"
    assert _flash(staff, staff.post(nobody, data={"csrf_token": token})) == "Такого представительства в реестре нет"
    with site.app_context():
        representations.end(MOTHER, CHILD, "of_age", "smo:test")
    assert _flash(staff, staff.post(FROM_THE_WARD, data={"csrf_token": token})) == said, "a file names them again"
    assert "Прекращённые представительства" not in staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert _restored_entries(site) == []


def test_another_insurers_insured_is_theirs_to_restore(site: Flask) -> None:
    with site.app_context():
        son = person_data(ELSEWHERE[:15], "Иванов", "Олег", "Сергеевич", born=date(2015, 6, 1), sex="M")
        register(son, insurer="77002")
        lifecycle.link_representative(MOTHER, ELSEWHERE, "test")
        representations.end(MOTHER, ELSEWHERE, "court", "smo:other")
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "Представляемый: застрахованное лицо другой СМО" in page
    assert "Олег" not in page
    path = f"/insurer/person/{MOTHER}/dependant/{ELSEWHERE}/restore"
    assert path not in page, "no action offered for another insurer's insured"
    token = csrf(staff, f"/insurer/person/{MOTHER}")
    said = "Представляемого ведёт другая СМО: восстановить представительство может только она"
    assert _flash(staff, staff.get(path)) == said
    assert _flash(staff, staff.post(path, data={"csrf_token": token})) == said
    assert _link(site, MOTHER, ELSEWHERE).valid_to == yesterday()
    assert _restored_entries(site) == []


def test_a_restored_link_closing_a_circle_is_refused(registry: Flask) -> None:
    _mother_and_her_ward()
    representations.end(MOTHER, CHILD, "registry_error", "smo:test")
    lifecycle.link_representative(CHILD, MOTHER, "test")  # the adult son became his mother's guardian meanwhile
    with pytest.raises(RegistryError, match="по кругу"):
        representations.restore(MOTHER, CHILD, "ended_in_error", "smo:test", scope="77001")
    assert db.session.scalar(select(Representation.ended_grounds).where(Representation.valid_to.is_not(None))) == (
        "registry_error"
    )


def test_migration_0023_reads_the_grounds_of_earlier_ends_from_the_audit_trail(registry: Flask) -> None:
    """Links ended before the grounds were kept get them from their end's audit entry; one a file named again
    since keeps none."""
    _mother_and_her_ward()
    son = person_data("770000000000031", "Иванов", "Павел", "Сергеевич", born=date(2015, 6, 1), sex="M")
    register(son, representative_enp=MOTHER)
    representations.end(MOTHER, CHILD, "court", "smo:test")
    representations.end(MOTHER, str(son.enp), "registry_error", "smo:test")
    db.session.commit()
    db.session.remove()
    downgrade(revision="0022")
    assert "ended_grounds" not in {column["name"] for column in inspect(db.engine).get_columns("representations")}
    db.session.execute(
        text("UPDATE representations SET valid_to = :eve WHERE represented_id = :son"),
        {"eve": date(2033, 5, 31), "son": people.person_by_enp(str(son.enp)).id},
    )  # as a file naming the mother again did before 0023
    db.session.commit()
    db.session.remove()
    upgrade()
    assert _link(registry).ended_grounds == "court"
    assert _link(registry, MOTHER, str(son.enp)).ended_grounds is None, "named again since: no longer ended"
    report = bulk_import.import_csv(_file_naming_the_mother(), "test")
    assert [error.reason for error in report.errors] == [representations.ENDED_ON_GROUNDS]


def test_a_court_ended_childs_link_stays_ended_when_they_come_of_age(registry: Flask) -> None:
    """A court ended a parent's link at 17. At 18 an old file still naming the parent would make them the adult's
    guardian with no end, undoing the court's decision: it is refused, as before majority. Only the insurer's
    restore makes the link again, and its page says it then lasts with no end (a guardian's)."""
    register()
    born = years_ago(18) + timedelta(days=10)
    teen = person_data("770000000000031", "Иванов", "Павел", "Сергеевич", born=born, sex="M")
    register(teen, representative_enp=MOTHER)
    representations.end(MOTHER, str(teen.enp), "court", "smo:test")
    db.session.commit()
    adult = datetime.combine(coming_of_age(born), time(12), UTC)
    with pytest.raises(RegistryError, match="файл его не возвращает"):
        lifecycle.link_representative(MOTHER, str(teen.enp), "test", now=adult)
    db.session.rollback()
    assert db.session.scalar(select(Representation.ended_grounds)) == "court"
    restored = representations.restore(MOTHER, str(teen.enp), "ended_in_error", "smo:test", now=adult)
    assert restored is None, "a guardian's, no end"
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "restore_representation"))
    assert entry.details["ended_grounds"] == "court", "the trail says what the restore undid"


def test_the_command_restores_a_link_and_refuses_in_words(site: Flask) -> None:
    def command(*args: str) -> tuple[int, str]:
        result = site.test_cli_runner().invoke(args=["registry", "restore-representation", *args])
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    code, said = command(MOTHER, CHILD, "--reason", "ended_in_error")
    assert code == 1
    assert "Это представительство не прекращено по основанию: восстанавливать нечего" in said
    assert command(MOTHER, "12345", "--reason", "ended_in_error")[0] == 1
    with site.app_context():
        representations.end(MOTHER, CHILD, "court", "smo:test")
    assert command(MOTHER, CHILD)[0] == 2, "no reason: Click's usage error"
    code, said = command(MOTHER, CHILD, "--reason", "other")
    assert code == 2
    assert "--reason other — только с --details" in said
    code, said = command(MOTHER, CHILD, "--reason", "declined_in_error")
    assert code == 1, "in the command's list, but she refused nothing: staff ended it"
    assert "Представитель от этого представительства не отказывался: его прекратили сотрудники" in said
    code, said = command(MOTHER, CHILD, "--reason", "other", "--details", "суд \u202eотменил")
    assert code == 1, "a bidi override would make the journal read other words"
    assert "Только видимые знаки" in said
    code, said = command(MOTHER, CHILD, "--reason", "ended_in_error", "--details", "не пропадёт молча")
    assert code == 2
    assert "--details — только с --reason other" in said
    code, said = command(MOTHER, CHILD, "--reason", "other", "--details", "суд отменил решение об опеке")
    assert code == 0, said
    assert "Представительство восстановлено, без срока" in said
    assert logged_in(site, "ivanova").get(f"/me/?person={CHILD}").status_code == 200
    (entry,) = _restored_entries(site)
    assert entry.actor.startswith("cli:")
    assert entry.reason == "суд отменил решение об опеке"


def test_a_link_the_representative_declined_stays_ended_until_the_insurer_restores_it(site: Flask) -> None:
    mother = logged_in(site, "ivanova")
    declined = mother.post(f"/me/not-representative?person={CHILD}", data={"csrf_token": csrf(mother, "/me/")})
    assert declined.status_code == 302
    assert _link(site).ended_grounds == "declined"
    with site.app_context():
        (error,) = bulk_import.import_csv(_file_naming_the_mother(), "test").errors
        assert error.reason == representations.ENDED_ON_GROUNDS, "a file does not override her refusal"
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert "основание: Представитель отказался от представительства" in page
    asked = staff.get(FROM_THE_WARD).get_data(as_text=True)
    assert "Представитель отказался от представительства" in asked
    assert 'value="declined_in_error"' in asked
    assert 'value="ended_in_error"' not in asked, "she refused it: no staff member ended it"
    token = csrf(staff, FROM_THE_WARD)
    wrong = staff.post(FROM_THE_WARD, data={"csrf_token": token, "reason": "ended_in_error"})
    assert wrong.status_code == 400
    assert "Это представительство прекратили не сотрудники: от него отказался сам представитель" in wrong.get_data(
        as_text=True
    )
    answer = staff.post(FROM_THE_WARD, data={"csrf_token": token, "reason": "declined_in_error"})
    said = _flash(staff, answer)
    assert said.startswith("Представительство восстановлено")
    assert mother.get(f"/me/?person={CHILD}").status_code == 200
