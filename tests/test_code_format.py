"""docs/code-format.md's test vector, reproduced byte for byte."""

import json
import re
from datetime import date, datetime
from pathlib import Path

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from policy_codes import CodeKind, Enp, FullName, PolicyClaims, Sex, decode, encode
from policy_codes.base45 import b45decode
from policy_codes.names import pack_name
from signing import SigningKey, TrustList

DOC = Path(__file__).resolve().parent.parent / "docs" / "code-format.md"


def vector() -> dict:
    block = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block, "docs/code-format.md has a json test vector"
    return json.loads(block.group(1))


def claims_of(data: dict) -> PolicyClaims:
    return PolicyClaims(
        enp=Enp(data["enp"]),
        serial=data["serial"],
        kind={"policy": CodeKind.POLICY}[data["kind"]],
        insurer_code=data["insurer_code"],
        name=FullName(data["surname"], data["given_name"], data["patronymic"]),
        birth_date=date.fromisoformat(data["birth_date"]),
        sex={"M": Sex.MALE, "F": Sex.FEMALE}[data["sex"]],
        valid_from=date.fromisoformat(data["valid_from"]),
        valid_to=None,
        issued_at=datetime.fromisoformat(data["issued_at"]),
    )


def test_the_documented_key_signs_the_documented_claims_to_the_documented_text() -> None:
    v = vector()
    trust_list = TrustList.from_jwks(v["trust_list"])
    (public,) = trust_list
    private = ec.derive_private_key(int(v["private_key_d"], 16), ec.SECP256R1())
    key = SigningKey(private, public)
    claims = claims_of(v["claims"])
    assert pack_name(claims.name).hex() == v["name_hex"]
    assert cbor2.dumps(claims.to_wire(), canonical=True).hex() == v["claims_cbor_hex"]
    assert encode(claims, key) == v["text"]


def test_the_documented_text_verifies_to_the_documented_claims() -> None:
    v = vector()
    verified = decode(
        v["text"], TrustList.from_jwks(v["trust_list"]), datetime.fromisoformat("2026-11-23T12:00:00+00:00")
    )
    assert verified.claims == claims_of(v["claims"])
    protected, unprotected, payload, _ = cbor2.loads(b45decode(v["text"][len("OMS1:") :]))
    assert protected.hex() == v["protected_hex"]
    assert unprotected == {}
    assert payload.hex() == v["claims_cbor_hex"]
