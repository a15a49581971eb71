"""The demo registry's people (webapp/ops/demo.py) by role in a story, and their codes as a scanner reads them."""

from __future__ import annotations

from flask import Flask

from policy_codes import Enp
from webapp.extensions import db
from webapp.models import CodeStatus
from webapp.registry import people


def _enp(first_fifteen: str) -> str:
    return str(Enp.with_check_digit(first_fifteen))


MOTHER = _enp("770000000000001")
SON = _enp("770000000000002")
NEWBORN = _enp("770000000000003")
PETROV = _enp("770000000000004")
WORKER = _enp("770000000000005")
NEWCOMER = _enp("770000000000006")  # a temporary certificate, at the other insurer (77002)
SOLDIER = _enp("770000000000007")  # policy suspended
STOLEN = _enp("770000000000008")  # code revoked
LONG_NAME = _enp("770000000000009")


def code_text(app: Flask, enp: str, status: CodeStatus = CodeStatus.CURRENT) -> str:
    """The newest code of the person in that state, as its QR carries it."""
    with app.app_context():
        person = people.person_by_enp(enp)
        text = next(code.text for code in people.codes_of(person) if code.status == status)
        db.session.remove()
    return text
