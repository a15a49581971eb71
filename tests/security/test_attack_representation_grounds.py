"""Attack: a representation an insurer ended on grounds (a court's decision, a registry error) and its restoring
(migration 0023, webapp/registry/representations.py `restore`), as an outsider tries them, on SQLite and
PostgreSQL (2026-12-07). Every other way a link is made again (a file's line with a corrected birth date, a
transfer of the represented person, an import at the same time as the end) must leave the insurer's decision
standing; the restore address must tell another insurer's staff no more than the end address does; bad addresses
and the wrong roles get a 4xx; the restore is audited and logged by nobody's name."""

from __future__ import annotations

import html
import re
import threading
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers.logs import everything_logged
from tests.helpers.moscow_day import today, years_ago, yesterday
from tests.helpers.registry import person_data, register
from tests.security.test_attack_ending_races import in_context
from tests.security.world import CHILD, MOTHER, STRANGER, client_as
from tests.webapp.pages import PASSWORD, csrf, logged_in
from webapp.extensions import db
from webapp.models import AuditEntry, Representation, Role
from webapp.registry import accounts, audit, bulk_import, data_changes, lifecycle, people, representations
from webapp.registry.people import PersonData
from webapp.registry.registry_file import COLUMNS

MOTHER_ENP, CHILD_ENP, STRANGER_ENP = str(MOTHER.enp), str(CHILD.enp), str(STRANGER.enp)
FROM_THE_CHILD = f"/insurer/person/{CHILD_ENP}/representative/{MOTHER_ENP}/restore"
#: The other insurer's staff (77002).
OTHER_STAFF = "smo2"


def _line(person: PersonData, insurer: str, representative: str, born: date | None = None) -> bytes:
    """A registry file of one line for `person`, naming `representative`."""
    snils = person.snils.digits if person.snils else ""
    values = (str(person.enp), *person.name.parts(), f"{born or person.birth_date:%Y-%m-%d}", person.sex, snils)
    line = ",".join([*values, insurer, str(person.category), "", representative])
    return (",".join(COLUMNS) + "\n" + line + "\n").encode()


def _state(
    app: Flask, representative: str = MOTHER_ENP, represented: str = CHILD_ENP
) -> tuple[date | None, str | None]:
    with app.app_context():
        row = db.session.scalar(
            select(Representation).where(
                Representation.representative_id == people.person_by_enp(representative).id,
                Representation.represented_id == people.person_by_enp(represented).id,
            )
        )
        return row.valid_to, row.ended_grounds


def _flash(client: FlaskClient, response) -> str:
    assert response.status_code == 302, response.status_code
    page = client.get(response.location).get_data(as_text=True)
    found = re.search(r'<p class="flash [^"]*" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def _entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _other_insurers_staff(app: Flask) -> FlaskClient:
    with app.app_context():
        accounts.create_user(OTHER_STAFF, PASSWORD, Role.INSURER, "test", insurer_code="77002")
    return logged_in(app, OTHER_STAFF)


def _end(app: Flask, representative: str = MOTHER_ENP, represented: str = CHILD_ENP, grounds: str = "court") -> None:
    with app.app_context():
        representations.end(representative, represented, grounds, "smo:test")


def test_a_transfer_hands_the_ended_link_to_the_new_insurer_and_a_file_there_does_not_bring_it_back(
    world: Flask,
) -> None:
    """The child's link, ended by a court through 77001, moves with the child to 77002: 77001 may restore it no
    more (from the mother's page either), 77002's own file naming the mother is refused, and 77002 restores it."""
    _end(world)
    with world.app_context():
        document = "письмо ТФОМС № 12-345"
        lifecycle.change_insurer(CHILD_ENP, "77002", today(), "smo:test", "insurer_left", document=document)
    former = client_as(world, "insurer")
    assert former.get(f"/insurer/person/{CHILD_ENP}").status_code == 404
    assert former.get(FROM_THE_CHILD).status_code == 404
    from_the_mother = f"/insurer/person/{MOTHER_ENP}/dependant/{CHILD_ENP}/restore"
    assert from_the_mother not in former.get(f"/insurer/person/{MOTHER_ENP}").get_data(as_text=True)
    token = csrf(former, f"/insurer/person/{MOTHER_ENP}")
    assert _flash(former, former.post(from_the_mother, data={"csrf_token": token})) == (
        "Представляемого ведёт другая СМО: восстановить представительство может только она"
    )
    with world.app_context():
        report = bulk_import.import_csv(_line(CHILD, "77002", MOTHER_ENP), "smo:smo2", scope="77002")
        assert [(error.about, error.reason) for error in report.errors] == [
            (bulk_import.REPRESENTATIVE, representations.ENDED_ON_GROUNDS)
        ]
    assert _state(world) == (yesterday(), "court")
    holder = _other_insurers_staff(world)
    assert FROM_THE_CHILD in holder.get(f"/insurer/person/{CHILD_ENP}").get_data(as_text=True)
    asked = holder.get(FROM_THE_CHILD).get_data(as_text=True)
    assert "Представитель: <strong>застрахованное лицо другой СМО" in asked
    assert "Мария" not in asked, "77001's insured is named to nobody at 77002"
    assert "12.04.1990" not in asked
    chosen = {"csrf_token": csrf(holder, FROM_THE_CHILD), "reason": "ended_in_error"}
    restored = holder.post(FROM_THE_CHILD, data=chosen)
    said = _flash(holder, restored)
    assert said.startswith("Представительство восстановлено, его последний день")
    assert _state(world)[1] is None
    assert [entry.actor for entry in _entries(world, "restore_representation")] == ["smo:smo2"]


def test_the_restore_address_tells_another_insurers_staff_no_more_than_the_end_address(world: Flask) -> None:
    """Staff of 77001 try their own insured's dependants at 77002 by ЕНП. Whether a link to that ЕНП exists is what
    the end address already answers; the restore address answers the same, and says nothing of the link's state
    (in force, ended on grounds) nor of whether an ЕНП with no link belongs to anyone."""
    with world.app_context():
        in_force = person_data("770000000000021", "Петрова", "Ольга", "Ивановна", date(1980, 1, 1))
        unlinked = person_data("770000000000022", "Петрова", "Анна", "Ивановна", date(1981, 1, 1))
        register(in_force, insurer="77002")
        register(unlinked, insurer="77002")
        lifecycle.link_representative(MOTHER_ENP, STRANGER_ENP, "test")
        lifecycle.link_representative(MOTHER_ENP, str(in_force.enp), "test")
        representations.end(MOTHER_ENP, STRANGER_ENP, "court", "smo:other", scope="77002")
    staff = client_as(world, "insurer")
    token = csrf(staff, f"/insurer/person/{MOTHER_ENP}")
    others = {"ended": STRANGER_ENP, "in force": str(in_force.enp), "unlinked": str(unlinked.enp)}
    others["unknown"] = "7700000000000999"

    def said(other: str, action: str) -> str:
        path = f"/insurer/person/{MOTHER_ENP}/dependant/{other}/{action}"
        asked = _flash(staff, staff.get(path))
        assert _flash(staff, staff.post(path, data={"csrf_token": token, "grounds": "court"})) == asked
        return asked

    restore = {kind: said(other, "restore") for kind, other in others.items()}
    end = {kind: said(other, "end") for kind, other in others.items()}
    assert restore["ended"] == restore["in force"] != restore["unlinked"] == restore["unknown"]
    assert end["ended"] == end["in force"] != end["unlinked"] == end["unknown"]
    assert restore["unknown"] == end["unknown"] == "Такого представительства в реестре нет"
    assert _state(world, MOTHER_ENP, STRANGER_ENP) == (yesterday(), "court")
    assert _entries(world, "restore_representation") == []


def test_another_insurers_grounds_for_ending_are_not_shown_on_the_representatives_page(world: Flask) -> None:
    """77002 ended, on a court's decision, the mother's guardianship of its insured. 77001's staff, on the mother's
    page, see that a link to another insurer's insured ended, and on which day (the mother's access ended then),
    but not why: that insurer's reason is its own, as a previous insurer's reasons are after a transfer."""
    with world.app_context():
        lifecycle.link_representative(MOTHER_ENP, STRANGER_ENP, "test")
        representations.end(MOTHER_ENP, STRANGER_ENP, "court", "smo:other", scope="77002")
    page = client_as(world, "insurer").get(f"/insurer/person/{MOTHER_ENP}").get_data(as_text=True)
    ended = page.split("Прекращённые представительства", 1)[1].split("</ul>", 1)[0]
    assert "Представляемый: застрахованное лицо другой СМО" in ended
    assert f"{yesterday():%d.%m.%Y}" in ended
    assert "Решение суда" not in ended
    assert "Алексей" not in page
    assert "21.07.1985" not in page
    own = client_as(world, "insurer")
    _end(world)
    assert "Решение суда" in own.get(f"/insurer/person/{CHILD_ENP}").get_data(as_text=True), "its own reason"


def test_two_birth_date_corrections_and_a_file_do_not_bring_back_a_link_ended_on_grounds(world: Flask) -> None:
    """The birth date is corrected so that the child turns 18 today (the link's last day, the day before, is then
    the old majority's eve), then a file puts the first date back and names the mother again: the correction moves
    the links that ended at the old majority, and the file's line asks for the link. The court's end stays."""
    _end(world)
    with world.app_context():
        day = today()
        adult = years_ago(18) if (day.month, day.day) != (2, 29) else date(day.year - 18, 3, 1)
        document = data_changes.Document("birth_certificate", "II-МЮ", "123456", day, "Отдел ЗАГС")
        corrected = data_changes.NewData("Иванов", "Артём", "Сергеевич", adult, "M")
        reason = data_changes.ChangeReason.REGISTRY_ERROR
        data_changes.change_person_data(CHILD_ENP, corrected, reason, "", document, "smo:test", scope="77001")
        assert _state(world) == (yesterday(), "court")
        report = bulk_import.import_csv(_line(CHILD, "77001", MOTHER_ENP), "smo:smo", scope="77001")
        assert report.updated == 1, report.errors
        assert [error.reason for error in report.errors] == [representations.ENDED_ON_GROUNDS]
    assert _state(world) == (yesterday(), "court")
    assert client_as(world, "citizen").get(f"/me/?person={CHILD_ENP}").status_code == 404


@pytest.mark.parametrize("action", ["end_representation", "restore_representation"])
def test_a_file_imported_while_an_end_or_a_restore_commits_leaves_the_insurers_word(
    world: Flask, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """The insurer's end (or restore) is written, not yet committed, when an import names the mother for the child.
    Whichever reads first, the file neither undoes the end nor makes a second link beside the restored one."""
    if action == "restore_representation":
        _end(world, grounds="registry_error")
    paused, release = threading.Event(), threading.Event()
    recorded = audit.record

    def record_then_wait(actor: str, what: str, *args: object, **kwargs: object) -> object:
        entry = recorded(actor, what, *args, **kwargs)
        if what == action:
            paused.set()
            release.wait(30)
        return entry

    monkeypatch.setattr(audit, "record", record_then_wait)
    failures: list[BaseException] = []
    insurers_word = {
        "end_representation": lambda: representations.end(MOTHER_ENP, CHILD_ENP, "court", "smo:one"),
        "restore_representation": lambda: representations.restore(MOTHER_ENP, CHILD_ENP, "ended_in_error", "smo:one"),
    }
    insurer = in_context(world, insurers_word[action], failures)
    assert paused.wait(30), failures
    reports: list[bulk_import.ImportReport] = []
    importing = in_context(
        world, lambda: reports.append(bulk_import.import_csv(_line(CHILD, "77001", MOTHER_ENP), "smo:two")), failures
    )
    importing.join(1)  # on PostgreSQL it waits for the representations' lock the insurer holds
    release.set()
    insurer.join(30)
    importing.join(30)
    assert failures == []
    (report,) = reports
    assert report.linked == 0
    assert [error.reason for error in report.errors] in ([], [representations.ENDED_ON_GROUNDS])
    expected = (
        (yesterday(), "court")
        if action == "end_representation"
        else (CHILD.birth_date.replace(year=2034) - timedelta(days=1), None)
    )
    assert _state(world) == expected
    with world.app_context():
        assert db.session.scalar(select(func.count(Representation.id))) == 1
    assert len(_entries(world, action)) == 1
    assert len(_entries(world, "link_representative")) == 1, "the link made when the world was populated, only"


@pytest.mark.parametrize(
    "path",
    [
        f"/insurer/person/{CHILD_ENP}/representative/not-an-enp/restore",
        f"/insurer/person/{CHILD_ENP}/representative/{'7' * 300}/restore",
        f"/insurer/person/{CHILD_ENP}/representative/７７００００００００００００００１/restore",
        f"/insurer/person/{CHILD_ENP}/representative/77%00/restore",
        f"/insurer/person/{CHILD_ENP}/representative/{CHILD_ENP}/restore",
        f"/insurer/person/not-an-enp/representative/{MOTHER_ENP}/restore",
        f"/insurer/person/{'1' * 300}/dependant/{CHILD_ENP}/restore",
        f"/insurer/person/{CHILD_ENP}/parent/{MOTHER_ENP}/restore",
        f"/insurer/person/{CHILD_ENP}/representative/{MOTHER_ENP}/restore/",
    ],
)
def test_a_bad_restore_address_is_a_4xx_or_a_refusal_in_words(world: Flask, path: str) -> None:
    _end(world)
    staff = client_as(world, "insurer")
    token = csrf(staff, f"/insurer/person/{CHILD_ENP}")
    for send in (staff.get, lambda path: staff.post(path, data={"csrf_token": token})):
        response = send(path)
        assert response.status_code in (302, 400, 404), (path, response.status_code)
        if response.status_code == 302:
            assert _flash(staff, response) == "Такого представительства в реестре нет"
    assert _state(world) == (yesterday(), "court")
    assert _entries(world, "restore_representation") == []


def test_only_the_insurers_staff_restore_and_only_with_the_forms_token(world: Flask) -> None:
    _end(world)
    for role in ("anonymous", "citizen", "clinic", "admin"):
        client = client_as(world, role)
        home = client.get("/", follow_redirects=True).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
        for response in (client.get(FROM_THE_CHILD), client.post(FROM_THE_CHILD, data={"csrf_token": token})):
            if role == "anonymous":
                assert response.status_code == 302, role
                assert "/login" in response.location
            else:
                assert response.status_code == 403, (role, response.status_code)
    staff = client_as(world, "insurer")
    assert staff.post(FROM_THE_CHILD).status_code == 400
    assert staff.post(FROM_THE_CHILD, data={"csrf_token": "forged"}).status_code == 400
    assert _state(world) == (yesterday(), "court")
    assert _entries(world, "restore_representation") == []


def test_a_restore_is_audited_by_whom_and_logs_name_nobody(world: Flask, caplog: pytest.LogCaptureFixture) -> None:
    _end(world, grounds="registry_error")
    staff = client_as(world, "insurer")
    with everything_logged(caplog):
        staff.get(f"/insurer/person/{CHILD_ENP}")
        staff.get(FROM_THE_CHILD)
        chosen = {"csrf_token": csrf(staff, FROM_THE_CHILD), "reason": "other", "details": "ошиблись строкой"}
        said = _flash(staff, staff.post(FROM_THE_CHILD, data=chosen))
    assert said.startswith("Представительство восстановлено, его последний день")
    (entry,) = _entries(world, "restore_representation")
    assert (entry.actor, entry.entity, entry.entity_key, entry.reason) == (
        "smo:smo",
        "person",
        CHILD_ENP,
        "ошиблись строкой",
    )
    undone = {"ended_grounds": "registry_error", "ended_on": yesterday().isoformat()}
    assert entry.details == {"representative": MOTHER_ENP, "valid_to": "2034-09-02", **undone}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for person in (MOTHER, CHILD):
        for words in (person.name.surname, person.name.given_name, f"{person.birth_date:%d.%m.%Y}", str(person.enp)):
            assert words not in logged, words
