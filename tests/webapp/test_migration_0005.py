"""Migration 0005 on a registry written before it: high-S texts turned low-S, digests in the second format."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from policy_codes import PREFIX, Verdict
from policy_codes.base45 import b45decode, b45encode
from policy_codes.revocation import digest_of_text
from signing.cose import read_kid
from signing.keys import COORDINATE_LENGTH, CURVE_ORDER
from tests.helpers.registry import person_data, register
from webapp.extensions import db
from webapp.models import IssuedCode, RevocationEvent
from webapp.registry import lifecycle
from webapp.registry.verification import verify_scan


def high_s(code_text: str) -> str:
    """The same code with its signature as (r, n − s), the form half the codes of the first wave had."""
    message = b45decode(code_text.removeprefix(PREFIX))
    signature = read_kid(message)[3]
    s = int.from_bytes(signature[COORDINATE_LENGTH:], "big")
    twin = signature[:COORDINATE_LENGTH] + (CURVE_ORDER - s).to_bytes(COORDINATE_LENGTH, "big")
    return PREFIX + b45encode(message[: -len(twin)] + twin)


def first_format_digest(enp: str, serial: int) -> bytes:
    return hashlib.sha256(b"OMS1 revocation\x00" + f"{enp}:{serial}".encode()).digest()[:6]


def test_codes_of_the_first_wave_verify_after_the_upgrade(registry: Flask) -> None:
    moment = datetime.now(UTC)
    first = register(at=moment)
    second = lifecycle.reissue(str(person_data().enp), "test", "потерян", now=moment)
    stored = {first.id: high_s(first.text), second.id: high_s(second.text)}
    db.session.commit()
    downgrade(revision="0004")
    for code_id, old_text in stored.items():  # as the first wave stored them, high-S, with its digests
        db.session.execute(
            text("UPDATE issued_codes SET text = :t, text_hash = :h WHERE id = :i"),
            {"t": old_text, "h": hashlib.sha256(old_text.encode()).hexdigest(), "i": code_id},
        )
    db.session.execute(
        text("UPDATE revocation_events SET digest = :d"), {"d": first_format_digest(str(person_data().enp), 1)}
    )
    db.session.commit()

    upgrade()
    db.session.expire_all()
    rewritten = db.session.get(IssuedCode, second.id)
    assert rewritten is not None
    assert rewritten.text == second.text, "the low-S form: the text signers write today"
    assert rewritten.text_hash == hashlib.sha256(second.text.encode()).hexdigest()
    assert verify_scan(rewritten.text).verdict is Verdict.VALID
    assert verify_scan(first.text).verdict is Verdict.SUPERSEDED
    assert list(db.session.scalars(select(RevocationEvent.digest))) == [digest_of_text(first.text)]
