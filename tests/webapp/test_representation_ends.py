"""A parent's representation of a child ends at the child's majority (migrations/versions/0020): the grown child's
policy, code and data are then their own. A representative named for an adult is a guardian, with no end."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.helpers.claims import KEY_START
from tests.helpers.moscow_day import today, years_ago
from tests.helpers.registry import person_data, register
from tests.webapp.pages import CHILD, MOTHER, logged_in
from webapp.extensions import db
from webapp.models import AuditEntry, Representation
from webapp.registry import audit, bulk_import, data_changes, lifecycle, people, representations
from webapp.registry.data_changes import ChangeReason, Document, NewData
from webapp.registry.errors import RegistryError
from webapp.registry.registry_file import COLUMNS
from webapp.registry.rules import coming_of_age, majority_eve, representation_until


def _born_years_ago(years: int, days: int = 0) -> date:
    """A birth date `years` years before today, `days` more days before it."""
    return years_ago(years) - timedelta(days=days)


def _registered_with(enp15: str, born: date, representative: str, given: str = "Пётр") -> str:
    """Someone registered with their representative early in the test keys' first year (a child then, if born
    since 2008); their ЕНП."""
    data = person_data(enp15, "Иванов", given, "Сергеевич", born=born, sex="M")
    register(data, representative_enp=representative, at=KEY_START + timedelta(days=1))
    return str(data.enp)


def test_the_day_a_representation_made_for_a_child_ends() -> None:
    assert representation_until(date(2010, 5, 20), date(2026, 1, 1)) == date(2028, 5, 19)
    assert representation_until(date(2008, 2, 29), date(2025, 6, 1)) == date(2026, 2, 28)  # of age on 1 March
    assert coming_of_age(date(2008, 2, 29)) == date(2026, 3, 1)
    assert representation_until(date(2000, 1, 1), date(2026, 1, 1)) is None, "an adult's guardian: no end"


def test_a_parent_no_longer_sees_a_child_who_came_of_age(site: Flask) -> None:
    with site.app_context():
        grown = _registered_with("770000000000031", _born_years_ago(18, days=3), MOTHER)
        minor = _registered_with("770000000000032", _born_years_ago(18, days=-1), MOTHER, "Павел")
    mother = logged_in(site, "ivanova")
    assert mother.get(f"/me/?person={grown}").status_code == 404, "the grown son's policy is his own"
    assert mother.get(f"/me/?person={minor}").status_code == 200, "18 tomorrow: still hers to show"
    card = mother.get("/me/").get_data(as_text=True)
    assert "Пётр" not in card
    assert "Павел" in card
    with site.app_context():
        son = people.person_by_enp(grown)
        assert people.representatives_of(son) == []
        assert [person.enp for person in people.represented_by(people.person_by_enp(MOTHER))].count(grown) == 0


def test_a_representative_named_for_an_adult_is_a_guardian_with_no_end(registry: Flask) -> None:
    register()
    ward = person_data("770000000000033", "Иванова", "Ольга", born=date(1950, 3, 1))
    register(ward)
    assert lifecycle.link_representative(str(person_data().enp), str(ward.enp), "test")
    link = db.session.scalar(select(Representation))
    assert link.valid_to is None
    assert [person.enp for person in people.represented_by(people.person_by_enp(str(person_data().enp)))] == [
        str(ward.enp)
    ]


def test_a_grown_son_may_become_his_mothers_guardian(registry: Flask) -> None:
    """The mother's link to him ended at his majority: it closes no circle, and naming her his representative
    again (an old file imported) does not bring it back over her guardian."""
    mother = str(register().person.enp)
    son = _registered_with("770000000000031", _born_years_ago(30), mother)
    db.session.execute(text("UPDATE representations SET valid_to = :ended"), {"ended": today() - timedelta(days=1)})
    db.session.commit()
    assert lifecycle.link_representative(son, mother, "test")
    assert [person.enp for person in people.represented_by(people.person_by_enp(son))] == [mother]
    with pytest.raises(RegistryError, match="по кругу"):
        lifecycle.link_representative(mother, son, "test")


def test_a_grown_childs_parent_is_named_again_as_a_guardian(registry: Flask) -> None:
    mother = str(register().person.enp)
    son = _registered_with("770000000000031", _born_years_ago(30), mother)
    db.session.execute(text("UPDATE representations SET valid_to = :ended"), {"ended": today() - timedelta(days=1)})
    db.session.commit()
    assert people.representatives_of(people.person_by_enp(son)) == []
    assert lifecycle.link_representative(mother, son, "test"), "named for the adult: a guardian from now"
    assert db.session.scalar(select(Representation.valid_to)) is None


def test_an_export_leaves_out_a_grown_childs_parent(registry: Flask) -> None:
    mother = str(register().person.enp)
    grown = _registered_with("770000000000031", _born_years_ago(18, days=3), mother)
    minor = _registered_with("770000000000032", _born_years_ago(10), mother, "Павел")
    db.session.commit()
    out = io.StringIO()
    bulk_import.export_csv(out)
    lines = {line.split(",")[0]: line.split(",")[-1] for line in out.getvalue().splitlines()[1:]}
    assert lines[grown] == ""
    assert lines[minor] == mother


def test_an_export_names_the_first_representative_and_says_how_many_have_more(registry: Flask) -> None:
    """The format has one representative column: the export names the first linked, never an arbitrary one, and
    the command says how many persons' other representatives the file leaves out (an outsider's finding)."""
    mother = str(register().person.enp)
    minor = _registered_with("770000000000032", _born_years_ago(10), mother, "Павел")
    father = _registered_with("770000000000031", _born_years_ago(40), mother)  # her ward, as any adult may be
    assert lifecycle.link_representative(father, minor, "test")
    db.session.commit()
    out = io.StringIO()
    bulk_import.export_csv(out)
    lines = {line.split(",")[0]: line.split(",")[-1] for line in out.getvalue().splitlines()[1:]}
    assert lines[minor] == mother
    assert bulk_import.more_representatives() == 1
    said = registry.test_cli_runner().invoke(args=["registry", "export", "-"])
    assert said.exit_code == 0, said.output
    assert "застрахованных с несколькими представителями — 1" in said.stderr


def test_the_upgrade_ends_a_childs_existing_link_at_majority_and_keeps_an_adults(registry: Flask) -> None:
    mother = str(register().person.enp)
    child_born = _born_years_ago(10)
    child = _registered_with("770000000000032", child_born, mother, "Павел")
    adult = _registered_with("770000000000031", _born_years_ago(40), mother)
    db.session.commit()
    downgrade(revision="0019")
    upgrade()
    ends = dict(
        db.session.execute(
            text("SELECT p.enp, r.valid_to FROM representations AS r JOIN persons AS p ON p.id = r.represented_id")
        ).all()
    )
    stored = ends[child] if isinstance(ends[child], date) else date.fromisoformat(ends[child])
    assert stored == coming_of_age(child_born) - timedelta(days=1)
    assert ends[adult] is None, "a guardian, or a child grown up: which cannot be told, and the link stays"


CERTIFICATE = Document("birth_certificate", "II-МЮ", "654321", date(2026, 1, 10), "Отдел ЗАГС Тверского района")


def _correct_birth_date(enp: str, born: date) -> None:
    """A birth date corrected as the insurer's page corrects it (webapp/registry/data_changes.py)."""
    person = people.person_by_enp(enp)
    new = NewData(person.surname, person.given_name, person.patronymic, born, person.sex)
    data_changes.change_person_data(enp, new, ChangeReason.REGISTRY_ERROR, "", CERTIFICATE, "smo:test")


def _last_day(representative: str, represented: str) -> date | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Representation.valid_to).where(
            Representation.representative_id == people.person_by_enp(representative).id,
            Representation.represented_id == people.person_by_enp(represented).id,
        )
    )


def _links_moved_by_the_last_correction(enp: str) -> list[dict[str, str | None]]:
    """What the audit entry of `enp`'s last data change says of the links a corrected birth date moved."""
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "correct", AuditEntry.entity_key == enp).order_by(AuditEntry.id)
    ).all()[-1]
    return entry.details.get("representations", [])


def test_a_birth_date_corrected_to_an_adults_ends_the_parents_link_at_once(site: Flask) -> None:
    with site.app_context():
        son = _registered_with("770000000000032", _born_years_ago(10), MOTHER, "Павел")
        db.session.commit()
    mother = logged_in(site, "ivanova")
    assert mother.get(f"/me/?person={son}").status_code == 200
    with site.app_context():
        _correct_birth_date(son, _born_years_ago(20))
        assert _last_day(MOTHER, son) == majority_eve(_born_years_ago(20)) < today()
        assert _last_day(MOTHER, CHILD) is None, "a guardian's link made for an adult keeps no end"
    for page in ("/me/", "/me/code.svg", "/me/barcode.svg", "/me/extract.pdf", "/me/data-change"):
        assert mother.get(f"{page}?person={son}").status_code == 404, f"{page}: the grown son's is his own"
    card = mother.get("/me/").get_data(as_text=True)
    assert "Павел" not in card
    assert mother.get(f"/me/?person={CHILD}").status_code == 200, "the ward is still hers"


def test_a_birth_date_corrected_by_the_import_moves_the_childs_link_and_keeps_the_others(registry: Flask) -> None:
    mother = str(register().person.enp)
    son = _registered_with("770000000000032", _born_years_ago(10), mother, "Павел")
    ward = _registered_with("770000000000031", _born_years_ago(50), mother)
    db.session.commit()
    assert _last_day(mother, ward) is None
    line = f"{son},Иванов,Павел,Сергеевич,{_born_years_ago(12).isoformat()},M,,77001,citizen,,\n"
    ward_line = f"{ward},Иванов,Пётр,Сергеевич,{_born_years_ago(15).isoformat()},M,,77001,citizen,,\n"
    report = bulk_import.import_csv((",".join(COLUMNS) + "\n" + line + ward_line).encode(), "test")
    assert (report.updated, report.errors) == (2, [])
    assert _last_day(mother, son) == majority_eve(_born_years_ago(12)), "ends at the corrected majority"
    assert _last_day(mother, ward) is None, "a guardian's link stays with no end, now a minor's too"
    assert _links_moved_by_the_last_correction(son) == [
        {
            "representative": mother,
            "valid_to": majority_eve(_born_years_ago(12)).isoformat(),
            "valid_to_was": majority_eve(_born_years_ago(10)).isoformat(),
        }
    ]
    assert _links_moved_by_the_last_correction(ward) == [], "the guardian's link did not move"
    assert [person.enp for person in people.represented_by(people.person_by_enp(mother))] == [ward, son]


def test_a_link_ended_as_of_age_runs_again_when_the_birth_date_is_corrected_to_a_minors(registry: Flask) -> None:
    """A son registered with an adult's birth date by mistake (his mother's link a guardian's, with no end), and the
    link ended as of age on it: corrected to a minor's date, the link runs again to his new majority (the grounds
    were the wrong date's). Corrected to another adult's date, it stays ended."""
    mother = str(register().person.enp)
    son = _registered_with("770000000000032", _born_years_ago(25), mother, "Павел")
    db.session.commit()
    ended = representations.end(mother, son, representations.OF_AGE, "smo:test")
    _correct_birth_date(son, _born_years_ago(40))
    assert _last_day(mother, son) == ended, "of age by this date too"
    assert _links_moved_by_the_last_correction(son) == []
    _correct_birth_date(son, _born_years_ago(11))
    assert _last_day(mother, son) == majority_eve(_born_years_ago(11))
    brought_back = {"representative": mother, "valid_to": majority_eve(_born_years_ago(11)).isoformat()}
    brought_back |= {"valid_to_was": ended.isoformat(), "ended_grounds": representations.OF_AGE}
    assert _links_moved_by_the_last_correction(son) == [brought_back], "the audit trail says what came back"
    db.session.commit()
    assert audit.problems() == [], "and the chain still verifies"
    his = Representation.represented_id == people.person_by_enp(son).id
    grounds = db.session.scalars(select(Representation.ended_grounds).where(his)).all()
    assert grounds == [None], "no longer ended on grounds: a file naming her keeps the link, as for any child's"
    assert [person.enp for person in people.represented_by(people.person_by_enp(mother))] == [son]


def test_a_link_the_insurer_ended_keeps_its_day_when_the_birth_date_is_corrected(registry: Flask) -> None:
    mother = str(register().person.enp)
    son = _registered_with("770000000000032", _born_years_ago(10), mother, "Павел")
    db.session.commit()
    ended = representations.end(mother, son, "court", "smo:test")
    _correct_birth_date(son, _born_years_ago(9))
    assert _last_day(mother, son) == ended == today() - timedelta(days=1), "a court's end is not undone"
