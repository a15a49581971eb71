"""The demo registry's people (webapp/ops/demo.py) by role in a story, and their codes as a scanner reads them."""

from __future__ import annotations

from flask import Flask

from policy_codes import Enp
from policy_codes.base45 import b45decode, b45encode
from webapp.extensions import db
from webapp.models import CodeStatus
from webapp.registry import people


def enp_of(first_fifteen: str) -> str:
    """A valid ЕНП: the first fifteen digits and their check digit."""
    return str(Enp.with_check_digit(first_fifteen))


MOTHER = enp_of("770000000000001")
SON = enp_of("770000000000002")
NEWBORN = enp_of("770000000000003")
PETROV = enp_of("770000000000004")
WORKER = enp_of("770000000000005")
NEWCOMER = enp_of("770000000000006")  # a temporary certificate, at the other insurer (77002)
SOLDIER = enp_of("770000000000007")  # policy suspended
STOLEN = enp_of("770000000000008")  # code revoked
LONG_NAME = enp_of("770000000000009")
MARRIED = enp_of("770000000000010")  # surname changed: her maiden-name code superseded by the data change


def code_text(app: Flask, enp: str, status: CodeStatus = CodeStatus.CURRENT) -> str:
    """The newest code of the person in that state, as its QR carries it."""
    with app.app_context():
        person = people.person_by_enp(enp)
        text = next(code.text for code in people.codes_of(person) if code.status == status)
        db.session.remove()
    return text


def forged(text: str) -> str:
    """The code with one byte of its signature changed, written out again."""
    message = bytearray(b45decode(text[len("OMS1:") :]))
    message[-1] ^= 0x01
    return "OMS1:" + b45encode(bytes(message))
