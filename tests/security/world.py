"""A small registry with one login per role and people whose personal data the tests look for in logs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from policy_codes import Snils
from policy_codes.snils import snils_control
from tests.helpers.registry import person_data, register, seed_registry
from tests.webapp.pages import PASSWORD, logged_in
from webapp.models import Role
from webapp.registry import accounts, lifecycle
from webapp.registry.people import PersonData


def snils(nine_digits: str) -> Snils:
    return Snils(nine_digits + f"{snils_control(nine_digits):02d}")


MOTHER = replace(
    person_data("770000000000001", "Иванова", "Мария", "Петровна", date(1990, 4, 12)), snils=snils("112233445")
)
CHILD = replace(
    person_data("770000000000002", "Иванов", "Артём", "Сергеевич", date(2016, 9, 3), "M"), snils=snils("234567891")
)
#: Insured with the other insurer (77002): staff of 77001 must not reach them.
STRANGER = replace(
    person_data("770000000000004", "Петров", "Алексей", "Николаевич", date(1985, 7, 21), "M"), snils=snils("345678912")
)
PEOPLE: tuple[PersonData, ...] = (MOTHER, CHILD, STRANGER)

ANONYMOUS = "anonymous"
#: role → login; anonymous has none.
LOGINS = {ANONYMOUS: None, "citizen": "ivanova", "clinic": "clinic", "insurer": "smo", "admin": "admin"}


def populate() -> None:
    """Called inside an app context on an empty database."""
    seed_registry()
    register(MOTHER)
    register(CHILD)
    register(STRANGER, insurer="77002")
    lifecycle.link_representative(str(MOTHER.enp), str(CHILD.enp), "test")
    accounts.create_user("ivanova", PASSWORD, Role.CITIZEN, "test", enp=str(MOTHER.enp))
    accounts.create_user("clinic", PASSWORD, Role.CLINIC, "test", clinic_code="GP-001")
    accounts.create_user("smo", PASSWORD, Role.INSURER, "test", insurer_code="77001")
    accounts.create_user("admin", PASSWORD, Role.ADMIN, "test")


def client_as(app: Flask, role: str) -> FlaskClient:
    username = LOGINS[role]
    return logged_in(app, username) if username else app.test_client()


def plain_get_routes(app: Flask) -> list[str]:
    """Every GET route that takes no argument, from the app's URL map: pages added later are included."""
    return sorted({rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and not rule.arguments})
