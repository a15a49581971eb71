"""One insured person per СНИЛС (migrations/versions/0019_snils_directory.py): a second registration of someone
under a new ЕНП is refused by the form, the import and the database itself, whatever the region; persons who
shared a СНИЛС before are kept and listed for the insurers to settle."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from policy_codes import Snils
from tests.helpers.registry import person_data as _person_data
from tests.helpers.registry import register
from tests.webapp.pages import logged_in
from tests.webapp.test_cli import run
from tests.webapp.test_insurer_flows import new_person_form
from tests.webapp.test_region_partitions import JUNE
from tests.webapp.test_registry_csv import write_csv
from webapp.extensions import db
from webapp.models import Person, SnilsDirectory
from webapp.registry import bulk_import, lifecycle, organisations, people
from webapp.registry.errors import RegistryError
from webapp.registry.people import PersonData

SNILS = Snils("112-233-445 95")
OTHER_SNILS = Snils("234-567-891 00")
KEY_START_2026 = JUNE.replace(month=1)
FEBRUARY = JUNE.replace(month=2)


def person_data(enp15: str, snils: Snils | None = SNILS, **changes: object) -> PersonData:
    return _person_data(enp15, snils=snils, **changes)


def line(enp15: str, surname: str, snils: str, insurer: str = "77001") -> str:
    data = _person_data(enp15, surname=surname)
    return f"{data.enp},{surname},Мария,Петровна,1990-04-12,F,{snils},{insurer},citizen,,"


def count_persons() -> int:
    return len(db.session.scalars(select(Person.id)).all())


def test_a_person_is_not_registered_twice_under_a_new_enp_at_another_insurer_or_region(registry: Flask) -> None:
    register(person_data("770000000000001"))
    db.session.commit()
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START_2026)
    for insurer in ("77001", "77002", "50001"):
        with pytest.raises(RegistryError) as refused:
            register(person_data("770000000000002"), insurer=insurer)
        assert refused.value.field == "snils"
        assert refused.value.message == people.SNILS_REGISTERED
    with pytest.raises(RegistryError, match="СНИЛС"):
        lifecycle.register_newborn(
            person_data("770000000000003", born=date(2026, 5, 30), birth_registered_on=date(2026, 5, 31)),
            "7700000000000016",
            "test",
            now=JUNE,
        )
    assert count_persons() == 1, "nothing of the refused registrations is written"


def test_the_database_refuses_a_second_holder_past_the_services(registry: Flask) -> None:
    """The directory is the guard, not only the check before it: in another region's partition too."""
    register(person_data("770000000000001"))
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START_2026)
    db.session.commit()
    insurer_id = db.session.scalar(text("SELECT id FROM insurers WHERE code = '50001'"))
    second = Person(**person_data("770000000000002").columns(), insurer_id=insurer_id, region_code="50")
    db.session.add(second)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_persons_snils_follows_them_and_frees_when_changed(registry: Flask) -> None:
    """Moving region keeps the СНИЛС theirs; a corrected СНИЛС frees the old one and takes the new."""
    register(person_data("770000000000001"), at=FEBRUARY)
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START_2026)
    lifecycle.change_insurer("7700000000000016", "50001", date(2026, 6, 1), "test", exception="moved_region", now=JUNE)
    db.session.commit()
    holder = db.session.scalar(select(Person.id).where(Person.enp == "7700000000000016"))
    assert people.snils_holder(SNILS.digits) == holder
    with pytest.raises(RegistryError, match="СНИЛС"):
        register(person_data("770000000000002"), insurer="50001", at=JUNE)
    corrected = {"new": OTHER_SNILS.digits, "id": holder}
    db.session.execute(text("UPDATE persons SET snils = :new WHERE id = :id"), corrected)
    db.session.commit()
    assert people.snils_holder(SNILS.digits) is None
    assert people.snils_holder(OTHER_SNILS.digits) == holder
    register(person_data("770000000000002"), insurer="50001", at=JUNE)  # the old СНИЛС is free again


def test_the_form_says_the_snils_is_registered_beside_its_field(site: Flask) -> None:
    holder = person_data("770000000000097", snils=OTHER_SNILS)
    with site.app_context():
        register(holder, insurer="77002")  # another insurer's insured
        db.session.commit()
    client = logged_in(site, "smo")
    response = client.post("/insurer/new", data=new_person_form(client, snils=str(OTHER_SNILS)))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "уже есть в реестре, под другим ЕНП" in page
    assert str(holder.enp) not in page, "whose it is stays untold"


def test_an_import_refuses_a_registered_snils_and_a_repeated_one_and_loads_the_rest(
    registry: Flask, tmp_path: Path
) -> None:
    register(person_data("770000000000001"))
    db.session.commit()
    csv = write_csv(
        tmp_path / "registry.csv",
        [
            line("770000000000002", "Петрова", "112-233-445 95"),  # the registered person's СНИЛС
            line("770000000000003", "Сидорова", "234-567-891 00"),
            line("770000000000004", "Кузнецова", "23456789100"),  # the line above's, written without separators
            line("770000000000005", "Орлова", ""),
        ],
    )
    report = bulk_import.import_csv(csv, "test")
    refused = {error.line: error.said() for error in report.errors}
    assert refused == {2: people.SNILS_REGISTERED, 4: "СНИЛС повторяется в файле (строка 3)"}
    assert report.created == 2
    assert people.snils_holder(OTHER_SNILS.digits) is not None


def test_an_import_refuses_a_registered_persons_change_to_someone_elses_snils(registry: Flask, tmp_path: Path) -> None:
    register(person_data("770000000000001"))
    other = register(person_data("770000000000002", surname="Петрова", snils=OTHER_SNILS)).person.enp
    db.session.commit()
    csv = write_csv(tmp_path / "registry.csv", [line("770000000000002", "Петрова", str(SNILS))])
    report = bulk_import.import_csv(csv, "test")
    assert [error.said() for error in report.errors] == [
        "Этот СНИЛС уже записан у другого застрахованного: проверьте номер"
    ]
    assert db.session.scalar(select(Person.snils).where(Person.enp == other)) == OTHER_SNILS.digits


@pytest.mark.parametrize("taken", ["enp", "snils"])
def test_a_number_registered_while_an_import_runs_refuses_its_line_and_the_rest_loads(
    registry: Flask, tmp_path: Path, taken: str
) -> None:
    """Another import (here: a form) registers a later line's ЕНП or СНИЛС after that line's batch was checked and
    before it is written: the line is refused, its batch's other lines load, the import goes on."""
    registry.config["IMPORT_BATCH_SIZE"] = 2
    csv = write_csv(
        tmp_path / "registry.csv",
        [
            line("770000000000001", "Иванова", ""),
            line("770000000000002", "Петрова", ""),
            line("770000000000003", "Сидорова", str(SNILS)),
            line("770000000000004", "Кузнецова", ""),
        ],
    )
    meanwhile = person_data("770000000000003" if taken == "enp" else "770000000000009", surname="Орлова")

    def registered_meanwhile(lines: int) -> None:
        if count_persons() == 2:  # after the first batch is written, the second already checked
            register(meanwhile, insurer="77002")

    report = bulk_import.import_csv(csv, "test", registered_meanwhile, processes=1)
    reason = "его загрузили, пока шёл этот импорт" if taken == "enp" else "уже есть в реестре, под другим ЕНП"
    assert [(error.line, reason in error.said()) for error in report.errors] == [(4, True)]
    assert report.created == 3
    assert db.session.scalar(select(Person.enp).where(Person.snils == SNILS.digits)) == str(meanwhile.enp)


def test_the_upgrade_keeps_persons_who_shared_a_snils_and_lists_them(registry: Flask) -> None:
    first = register(person_data("770000000000001")).person.enp
    second = register(person_data("770000000000002", surname="Петрова", snils=None), at=FEBRUARY).person.enp
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START_2026)
    db.session.commit()
    downgrade(revision="0018")
    shared = {"snils": SNILS.digits, "enp": second}
    db.session.execute(text("UPDATE persons SET snils = :snils WHERE enp = :enp"), shared)
    db.session.commit()
    upgrade()
    assert db.session.scalar(select(SnilsDirectory.person_id)) == db.session.scalar(
        select(Person.id).where(Person.enp == first)
    ), "the first registered holds it"
    code, output = run(registry, "registry", "shared-snils")
    assert code == 1
    assert f"{SNILS}: {first}, {second}" in output
    lifecycle.change_insurer(second, "50001", date(2026, 6, 1), "test", exception="moved_region", now=JUNE)
    db.session.commit()  # the one left out of the directory still moves region, as nothing of its СНИЛС changes
    db.session.execute(text("UPDATE persons SET snils = NULL WHERE enp = :enp"), {"enp": second})
    db.session.commit()
    assert run(registry, "registry", "shared-snils")[0] == 0
