"""A small, realistic demo registry with one login per role (listed in the README)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from policy_codes import Snils
from webapp.extensions import db
from webapp.models import Category, Role, User
from webapp.registry import accounts, clock, data_changes, lifecycle, organisations, public_holidays, reasons
from webapp.registry.people import PersonData
from webapp.registry.rules import Operation

ACTOR = "demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    who: str


LOGINS = (
    DemoLogin("admin", "admin-demo-2026", Role.ADMIN, "оператор реестра"),
    DemoLogin("smo-77001", "smo-demo-2026", Role.INSURER, "сотрудник СМО «Демо-Мед» (77001)"),
    DemoLogin("smo-77002", "smo-demo-2026", Role.INSURER, "сотрудник СМО «Пример-Полис» (77002)"),
    DemoLogin("clinic", "clinic-demo-2026", Role.CLINIC, "регистратура поликлиники №1"),
    DemoLogin("ivanova", "citizen-demo-2026", Role.CITIZEN, "Иванова Мария — мама двоих детей"),
    DemoLogin("petrov", "citizen-demo-2026", Role.CITIZEN, "Петров Алексей"),
)


def already_loaded() -> bool:
    return db.session.scalar(select(User.id).where(User.username == LOGINS[0].username)) is not None


def load(now: datetime | None = None) -> None:
    """Create the demo registry. Call only on an empty database (see `already_loaded`)."""
    moment = clock.now(now)
    today = clock.today_in_moscow(moment)
    for year in (today.year, today.year + 1):
        public_holidays.seed_year(year, ACTOR)
    organisations.create_region("77", "г. Москва", ACTOR)
    organisations.create_region("50", "Московская область", ACTOR)
    organisations.create_insurer("77001", "Демо-Мед", ACTOR, "77", now=moment)
    organisations.create_insurer("77002", "Пример-Полис", ACTOR, "77", now=moment)
    organisations.create_clinic("GP-001", "Городская поликлиника №1", ACTOR, "77")

    mother = PersonData.of(
        "770000000000001", "Иванова", "Мария", "Петровна", date(1990, 4, 12), "F", snils=Snils("112-233-445 95")
    )
    son = PersonData.of("770000000000002", "Иванов", "Артём", "Сергеевич", date(2016, 9, 3), "M")
    newborn = PersonData.of(
        "770000000000003",
        "Иванова",
        "София",
        "Сергеевна",
        today - timedelta(days=12),
        "F",
        birth_registered_on=today - timedelta(days=10),
    )
    petrov = PersonData.of("770000000000004", "Петров", "Алексей", "Николаевич", date(1978, 1, 30), "M")
    worker = PersonData.of(
        "770000000000005",
        "Каримов",
        "Ильдар",
        "Рустамович",
        date(1995, 6, 17),
        "M",
        Category.EAEU_WORKER,
        right_valid_until=today + timedelta(days=200),
    )
    newcomer = PersonData.of("770000000000006", "Смирнова", "Анна", "Викторовна", date(2001, 11, 5), "F")
    soldier = PersonData.of("770000000000007", "Кузнецов", "Дмитрий", "Андреевич", date(2004, 2, 14), "M")
    stolen = PersonData.of("770000000000008", "Соколова", "Елена", "Игоревна", date(1985, 7, 21), "F")
    long_name = PersonData.of(
        "770000000000009", "Константинопольская", "Александра", "Владимировна", date(1962, 3, 8), "F"
    )

    married = PersonData.of("770000000000010", "Белова", "Ольга", "Андреевна", date(1993, 5, 9), "F")

    for data in (mother, son, petrov, worker, soldier, stolen, long_name):
        lifecycle.register_person(data, "77001", ACTOR, now=moment)
    lifecycle.register_person(newcomer, "77002", ACTOR, temporary=True, now=moment)
    lifecycle.register_newborn(newborn, str(mother.enp), ACTOR, now=moment)
    lifecycle.link_representative(str(mother.enp), str(son.enp), ACTOR)
    # Reasons as staff choose them from the page's lists, so that they read in English too (typed words do not).
    lifecycle.suspend(str(soldier.enp), ACTOR, reasons.STAFF[Operation.SUSPEND]["conscripted"], now=moment)
    lifecycle.revoke(str(stolen.enp), ACTOR, reasons.STAFF[Operation.REVOKE]["misused"], now=moment)
    # Married: her code under the maiden name reads «данные изменились» at the desk.
    lifecycle.register_person(married, "77001", ACTOR, now=moment)
    data_changes.change_person_data(
        str(married.enp),
        data_changes.NewData("Новикова", "Ольга", "Андреевна", married.birth_date, "F"),
        data_changes.ChangeReason.MARRIAGE,
        "",
        data_changes.Document("marriage_certificate", "II-МЮ", "654321", today, "Отдел ЗАГС Тверского района"),
        ACTOR,
        now=moment,
    )

    citizens = {"ivanova": mother, "petrov": petrov}
    for login in LOGINS:
        accounts.create_user(
            login.username,
            login.password,
            login.role,
            ACTOR,
            insurer_code=login.username.removeprefix("smo-") if login.role is Role.INSURER else None,
            clinic_code="GP-001" if login.role is Role.CLINIC else None,
            enp=str(citizens[login.username].enp) if login.role is Role.CITIZEN else None,
        )
