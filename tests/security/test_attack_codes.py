"""Issue 16's attacks on the signed code, each by someone holding a copy of an insurer's private key.

Such a thief signs whatever claims they like with a real, listed key: the signature always checks out.
What stops them is the registry: the key's status read afresh, the key and text it issued under each
(ЕНП, serial), and the claims it holds. Every test here passed a forgery as `valid` before issue 16.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import cbor2
import pytest
from flask import Flask
from flask.testing import FlaskClient

from policy_codes import PREFIX, CodeKind, FullName, PolicyClaims, Verdict
from policy_codes.base45 import b45decode, b45encode
from policy_codes.verdicts import Shown
from signing import SigningKey, sign1
from signing.cose import read_kid
from tests.helpers.registry import PASSPHRASE, person_data, register
from tests.test_legacy import type_02
from tests.webapp.pages import csrf, logged_in
from webapp.extensions import db
from webapp.models import Category, IssuedCode
from webapp.registry import accounts, lifecycle, mass_reissue, people
from webapp.registry.keys import keystore, rotation
from webapp.registry.verification import verify_scan

MOTHER = person_data()
ENP = str(MOTHER.enp)


def stolen_key(kid: str) -> SigningKey:
    """The thief's copy: the private key decrypted out of the database, its entry as it was when taken."""
    record = keystore.record_for(kid)
    return SigningKey.from_encrypted_pem(
        record.encrypted_private_pem, PASSPHRASE.encode(), keystore.public_key_of(record)
    )


def claims_of(code: IssuedCode) -> PolicyClaims:
    """What a code says, read without judging it (as the thief reads a code they saw)."""
    _kid, _protected, payload, _signature = read_kid(b45decode(code.text.removeprefix(PREFIX)))
    return PolicyClaims.from_wire(cbor2.loads(payload))


def signs(thief: SigningKey, claims: PolicyClaims) -> str:
    """The thief's own encoder: none of the registry's refusals (a code outliving its key, say)."""
    return PREFIX + b45encode(sign1(cbor2.dumps(claims.to_wire()), thief, at=claims.issued_at))


@pytest.fixture
def client(registry: Flask) -> FlaskClient:
    return registry.test_client()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_a_key_marked_compromised_cannot_sign_the_reissued_serial(registry: Flask) -> None:
    """The finding as reported: the thief signs the serial the mass reissue gave under the new key."""
    first = register(insurer="77002", at=now())
    thief = stolen_key(first.kid)
    verify_scan(first.text)  # this worker's trust list is cached with the key still active
    assert mass_reissue.compromise(first.kid, "test").result == {"codes": 1}
    reissued = people.current_code(people.person_by_enp(ENP))
    assert reissued is not None
    assert reissued.kid != first.kid
    forged = signs(thief, replace(claims_of(reissued), issued_at=now()))
    assert verify_scan(forged).verdict is Verdict.KEY_COMPROMISED
    assert verify_scan(signs(thief, claims_of(first))).verdict is Verdict.KEY_COMPROMISED
    assert verify_scan(reissued.text).verdict is Verdict.VALID


def test_a_key_marked_compromised_cannot_sign_a_live_code_of_the_reissued_serial(registry: Flask) -> None:
    first = register(insurer="77002", at=now())
    thief = stolen_key(first.kid)
    verify_scan(first.text)
    mass_reissue.compromise(first.kid, "test")
    reissued = people.current_code(people.person_by_enp(ENP))
    assert reissued is not None
    moment = now()
    live = replace(claims_of(reissued), kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(seconds=90))
    assert verify_scan(signs(thief, live)).verdict is Verdict.KEY_COMPROMISED


def test_a_key_marked_compromised_in_the_database_alone_is_refused_by_a_warm_worker(registry: Flask) -> None:
    """Another worker (or the CLI) marks the key: this worker's cached trust list still says active."""
    code = register(at=now())
    thief = stolen_key(code.kid)
    assert verify_scan(code.text).verdict is Verdict.VALID  # warms this worker's cache
    record = keystore.record_for(code.kid)
    record.status = "compromised"  # as another process's transaction leaves it
    db.session.commit()
    forged = signs(thief, replace(claims_of(code), serial=2, issued_at=now()))
    assert verify_scan(forged).verdict is Verdict.KEY_COMPROMISED
    assert verify_scan(code.text).verdict is Verdict.KEY_COMPROMISED


def test_a_static_code_must_be_the_text_the_registry_issued(registry: Flask) -> None:
    """A stolen key re-signs the current serial with other claims: every one of them is the registry's code no more."""
    policy = register(person_data(category=Category.FOREIGN_TEMPORARY, right_valid_until=date(2027, 3, 1)), at=now())
    claims = claims_of(policy)
    thief = stolen_key(policy.kid)
    for edit in (
        {"kind": CodeKind.TEMPORARY_CERTIFICATE},  # the person's policy, signed as a temporary certificate
        {"valid_to": date(2099, 12, 31)},  # a time-limited policy stretched
        {"valid_to": None},  # and made endless
        {"valid_from": date(2020, 1, 1)},
        {"issued_at": claims.issued_at + timedelta(seconds=1)},  # the same claims, signed again later
    ):
        forged = signs(thief, replace(claims, **edit))
        assert verify_scan(forged).verdict is Verdict.FORGED, edit
    assert verify_scan(signs(thief, claims)).verdict is Verdict.VALID, "the very text the registry issued"


def test_a_live_code_running_for_years_is_forged(registry: Flask, client: FlaskClient) -> None:
    code = register(at=now())
    thief = stolen_key(code.kid)
    moment = now()
    years = replace(claims_of(code), kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(days=3 * 365))
    ahead = replace(
        claims_of(code),
        kind=CodeKind.LIVE,
        issued_at=moment + timedelta(days=30),
        expires_at=moment + timedelta(days=30, seconds=90),
    )
    for claims in (years, ahead):
        assert verify_scan(signs(thief, claims)).verdict is Verdict.FORGED
    token = accounts.create_token("GP-001", "МИС", "test")[1]
    answer = client.post(
        "/api/v1/verify", json={"code": signs(thief, years)}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.get_json()["verdict"] == "forged"


def test_a_live_code_carries_the_registrys_claims(registry: Flask) -> None:
    code = register(at=now())
    thief = stolen_key(code.kid)
    moment = now()
    live = replace(claims_of(code), kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(seconds=90))
    assert verify_scan(signs(thief, live)).verdict is Verdict.VALID, "the registry itself signs exactly this"
    for edit in (
        {"name": FullName("Самозванова", "Мария", "Петровна")},
        {"birth_date": date(1991, 4, 12)},
        {"valid_to": date(2026, 12, 31)},
        {"valid_from": date(2020, 1, 1)},
    ):
        assert verify_scan(signs(thief, replace(live, **edit))).verdict is Verdict.FORGED, edit


def test_a_retired_key_signs_no_live_code_after_its_retirement(registry: Flask) -> None:
    """Rotation retires a key: whoever still holds it may not sign fresh live codes with it."""
    code = register(at=now() - timedelta(minutes=5))
    thief = stolen_key(code.kid)
    rotation.rotate("77001", "test", now=now() - timedelta(minutes=1))
    assert verify_scan(code.text).verdict is Verdict.VALID, "what the key signed before it retired"
    moment = now()
    live = replace(claims_of(code), kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(seconds=90))
    assert verify_scan(signs(thief, live)).verdict is Verdict.FORGED


def test_a_homemade_legacy_paper_with_a_real_number_is_forged(registry: Flask, client: FlaskClient) -> None:
    """The 2011 paper's signature cannot be checked: its name and birth date must be the registry's."""
    register(at=now())
    forged = bytearray(type_02("САМОЗВАНОВ|ИВАН|ИВАНОВИЧ", 1, date(1970, 1, 1), None))
    forged[1:9] = int(ENP).to_bytes(8, "big")
    result = verify_scan(bytes(forged))
    assert (result.verdict, result.shown, result.holder) == (Verdict.FORGED, Shown.LEGACY_PAPER, None)
    wrong_birth = bytearray(type_02("ИВАНОВА|МАРИЯ|ПЕТРОВНА", 2, date(1990, 4, 13), None))
    wrong_birth[1:9] = int(ENP).to_bytes(8, "big")
    assert verify_scan(bytes(wrong_birth)).verdict is Verdict.FORGED

    genuine = bytearray(type_02("ИВАНОВА|МАРИЯ|ПЕТРОВНА", 2, date(1990, 4, 12), None))
    genuine[1:9] = int(ENP).to_bytes(8, "big")
    result = verify_scan(bytes(genuine))
    assert result.verdict is Verdict.LEGACY_PAPER
    assert (result.verdict, result.registry_verdict) == (Verdict.LEGACY_PAPER, Verdict.VALID)
    assert result.holder is not None
    assert result.holder.name == "Иванова Мария Петровна"

    token = accounts.create_token("GP-001", "МИС", "test")[1]
    answer = client.post(
        "/api/v1/verify",
        json={"code": bytes(forged).decode("latin-1")},
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    assert (answer["verdict"], answer["holder"]) == ("forged", None)
    assert "Самозванов" not in str(answer)


def test_the_clinic_page_never_calls_a_legacy_paper_signature_checked(world: Flask) -> None:
    clerk = logged_in(world, "clinic")
    genuine = bytearray(type_02("ИВАНОВА|МАРИЯ|ПЕТРОВНА", 2, date(1990, 4, 12), None))
    genuine[1:9] = int(ENP).to_bytes(8, "big")
    form = {"code": bytes(genuine).decode("latin-1"), "csrf_token": csrf(clerk, "/clinic/")}
    page = clerk.post("/clinic/verify", data=form).get_data(as_text=True)
    assert "Иванова Мария Петровна" in page
    assert "подпись верна" not in page
    assert "подпись на бланке не проверяется" in page


def test_the_revocation_list_does_not_tell_whose_code_was_withdrawn(registry: Flask, client: FlaskClient) -> None:
    """Before issue 16 a digest was SHA-256 of "ЕНП:serial": anyone could test a known number against the list."""
    register(at=now())
    lifecycle.reissue(ENP, "test", "потерян телефон", now=now())
    lifecycle.revoke(ENP, "test", "украден", now=now())
    listed = client.get("/api/v1/revocations").get_json()
    digests = base64.b64decode(listed["revoked"]) + base64.b64decode(listed["superseded"])
    assert len(digests) == 12, "both codes are on the list"
    for context in (b"OMS1 revocation\x00", b"OMS1 revocation 2\x00"):
        for serial in range(1, 1000):
            guess = hashlib.sha256(context + f"{ENP}:{serial}".encode()).digest()[:6]
            assert guess not in digests


def test_the_trust_list_version_moves_on_every_key_change(registry: Flask, client: FlaskClient) -> None:
    """Two changes in the same second, the key count unchanged: the ETag must still move."""
    first = client.get("/api/v1/trust-list")
    moment = keystore.record_for(keystore.signing_key("77001", now()).kid.hex()).changed_at
    record = keystore.record_for(keystore.signing_key("77002", now()).kid.hex())
    keystore.retire(record.kid, moment)  # the same changed_at as the newest key's
    db.session.commit()
    second = client.get("/api/v1/trust-list", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert [key["status"] for key in second.get_json()["keys"] if key["kid"] == record_kid(record.kid)] == ["retired"]


def record_kid(kid_hex: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(kid_hex)).rstrip(b"=").decode()


@pytest.mark.parametrize("digits", ["７７００００００００００００１６", "٧٧٠٠٠٠٠٠٠٠٠٠٠٠١٦"])
def test_a_number_is_ascii_digits(registry: Flask, digits: str) -> None:
    """Full-width or Arabic-Indic digits are not what a scanner or a keyboard sends for an ЕНП."""
    register(at=now())
    assert verify_scan(digits).verdict is Verdict.NOT_A_POLICY_CODE


def test_a_genuine_paper_printed_with_e_for_yo_is_not_called_forged(registry: Flask) -> None:
    """The false alarm the name check must not raise: 2011 papers often print Е where the registry keeps Ё."""
    son = person_data("770000000000002", "Иванов", "Артём", "Сергеевич", date(2016, 9, 3), "M")
    register(son, at=now())
    paper = bytearray(type_02("ИВАНОВ|АРТЕМ|СЕРГЕЕВИЧ", 1, date(2016, 9, 3), None))
    paper[1:9] = int(str(son.enp)).to_bytes(8, "big")
    result = verify_scan(bytes(paper))
    assert (result.verdict, result.registry_verdict) == (Verdict.LEGACY_PAPER, Verdict.VALID)
    assert result.holder is not None
    assert result.holder.name == "Иванов Артём Сергеевич", "the registry's spelling, not the paper's"
