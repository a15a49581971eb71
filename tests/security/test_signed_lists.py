"""JWS attacks on the published trust list and revocation list: the offline verifier refuses every forged list.

The attacker's goals: add their own key to the trust list (so their codes read `valid` offline), or drop a
revocation from the revocation list (so a stolen code reads `valid` again).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from policy_codes import Verdict, encode
from policy_codes.offline import BadList, OfflineVerifier
from policy_codes.offline_cli import main as omscode
from signing import KeyRing, PublicKey, SigningKey, TrustList
from signing.jws import sign_compact
from signing.trust_list import b64url, b64url_decode
from tests.helpers.registry import KEY_START, person_data, register
from tests.security.forgeries import public_key_secrets
from webapp.registry import lifecycle
from webapp.registry.codes import claims_for
from webapp.registry.keys import keystore, publication

ENP = str(person_data().enp)


@dataclass
class Lists:
    trust: dict[str, Any]
    revocations: dict[str, Any]
    pinned: list[PublicKey]
    registry_kid: bytes
    insurer_key: SigningKey  # a real key on the trust list, but not the registry's
    attacker: SigningKey  # on no list at all
    attacker_code: str  # the revoked person's claims, signed by the attacker's key
    revoked_code: str

    def verifier(self, trust: Any = None, revocations: Any = None) -> OfflineVerifier:
        return OfflineVerifier(trust or self.trust, [revocations or self.revocations], self.pinned)


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: what is attacked is the signed documents; the forgery corpus covers both databases."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def lists(registry: Flask) -> Lists:
    moment = datetime.now(UTC)
    code = register(at=moment)
    claims = claims_for(code.person, code.policy, code.serial, moment)
    lifecycle.revoke(ENP, "test", "украден", now=moment)
    client = registry.test_client()
    trust = client.get("/api/v1/trust-list").get_json()
    revocations = client.get("/api/v1/revocations").get_json()
    pinned = [key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER]
    attacker = KeyRing().create("77001", KEY_START)
    return Lists(
        trust=trust,
        revocations=revocations,
        pinned=pinned,
        registry_kid=pinned[0].kid,
        insurer_key=keystore.signing_key("77001", moment),
        attacker=attacker,
        attacker_code=encode(claims, attacker),
        revoked_code=code.text,
    )


def parts(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    header, payload, signature = document["jws"].split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), b64url_decode(signature)


def compact(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, signature: bytes) -> str:
    encoded_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    encoded_payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"{b64url(encoded_header)}.{b64url(encoded_payload)}.{b64url(signature)}"


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> bytes:
    return compact(header, payload, b"").rstrip(".").encode("ascii")


def es256(key: SigningKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    return compact(header, payload, key.sign(signing_input(header, payload), key.public.not_before))


def with_attacker_key(payload: dict[str, Any], attacker: SigningKey) -> dict[str, Any]:
    (entry,) = TrustList([attacker.public]).to_jwks()["keys"]
    return {**payload, "keys": [*payload["keys"], entry]}


def without_revocations(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outer document and signed part with the revoked digests dropped."""
    _, payload, _ = parts(document)
    return {**document, "revoked": ""}, {**payload, "revoked_sha256": hashlib.sha256(b"").hexdigest()}


def attacks(lists: Lists, genuine: dict[str, Any], goal: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(label, compact JWS) for every way of passing `goal` off as signed by the registry."""
    header, payload, signature = parts(genuine)
    registry_kid = b64url(lists.registry_kid)
    for alg in ("none", "None", "NONE", "", None):
        none_header = {"alg": alg, "kid": registry_kid}
        yield f"alg {alg!r}, no signature", compact(none_header, goal, b"")
        yield f"alg {alg!r}, the genuine signature", compact(none_header, goal, signature)
    yield "no header fields", compact({}, goal, b"")
    for alg in ("HS256", "HS384", "HS512"):
        mac_header = {"alg": alg, "kid": registry_kid}
        for name, secret in public_key_secrets(lists.pinned[0].key):
            digest = getattr(hashlib, f"sha{alg[2:]}")
            tag = hmac.new(secret, signing_input(mac_header, goal), digest).digest()
            yield f"{alg} keyed with the registry key as {name}", compact(mac_header, goal, tag)
        jwk_secret = json.dumps(TrustList(lists.pinned).to_jwks()["keys"][0]).encode()
        tag = hmac.new(jwk_secret, signing_input(mac_header, goal), hashlib.sha256).digest()
        yield f"{alg} keyed with the registry JWK", compact(mac_header, goal, tag)
    for alg in ("ES384", "ES512", "EdDSA", "RS256", "PS256", "es256"):
        yield f"alg {alg} over the genuine signature", compact({**header, "alg": alg}, payload, signature)
    yield "payload edited, genuine signature", compact(header, goal, signature)
    yield (
        "payload edited, signature of the old payload in place",
        f"{genuine['jws'].split('.')[0]}.{b64url(json.dumps(goal).encode())}.{b64url(signature)}",
    )
    yield "attacker's key, registry kid", es256(lists.attacker, {"alg": "ES256", "kid": registry_kid}, goal)
    yield "attacker's key, own kid", es256(lists.attacker, {"alg": "ES256", "kid": b64url(lists.attacker.kid)}, goal)
    attacker_jwk = TrustList([lists.attacker.public]).to_jwks()["keys"][0]
    for extra in ({"jwk": attacker_jwk}, {"jku": "https://evil.example/jwks"}, {"x5u": "https://evil.example/x"}):
        embedded = {"alg": "ES256", "kid": b64url(lists.attacker.kid), **extra}
        yield f"attacker's key announced by {next(iter(extra))}", es256(lists.attacker, embedded, goal)
    insurer_kid = b64url(lists.insurer_key.kid)
    yield "an insurer's real key, own kid", es256(lists.insurer_key, {"alg": "ES256", "kid": insurer_kid}, goal)
    yield "an insurer's real key, registry kid", es256(lists.insurer_key, {"alg": "ES256", "kid": registry_kid}, goal)
    for label, kid in (("insurer's", insurer_kid), ("attacker's", b64url(lists.attacker.kid)), ("empty", "")):
        yield f"kid swapped to the {label}, genuine signature", compact({**header, "kid": kid}, payload, signature)
    yield "kid removed", compact({"alg": "ES256"}, payload, signature)
    yield "kid as a list", compact({"alg": "ES256", "kid": [registry_kid]}, payload, signature)
    yield "two signatures", genuine["jws"] + "." + b64url(signature)
    yield "header nested 100000 deep", compact(b"[" * 100_000, payload, signature)
    yield "header not JSON", compact(b"\xff\xfe", payload, signature)
    yield "JWS not text", "\u0430.\u0431.\u0432"


def refused(make: Callable[[], OfflineVerifier]) -> str:
    """'' when the verifier refuses the lists as it should; what happened otherwise."""
    try:
        make()
    except BadList:
        return ""
    except Exception as error:  # anything but BadList is a crash in a clinic's verifier
        return f"raised {error!r}"
    return "accepted"


def test_a_forged_trust_list_is_refused(lists: Lists) -> None:
    assert lists.verifier().verify(lists.attacker_code).verdict is Verdict.UNKNOWN_KEY
    _, payload, _ = parts(lists.trust)
    goal = with_attacker_key(payload, lists.attacker)
    forged = {
        label: refused(lambda jws=jws: lists.verifier(trust={**lists.trust, "keys": goal["keys"], "jws": jws}))
        for label, jws in attacks(lists, lists.trust, goal)
    }
    assert {label: outcome for label, outcome in forged.items() if outcome} == {}
    assert len(forged) > 40


def test_a_forged_revocation_list_is_refused(lists: Lists) -> None:
    assert lists.verifier().verify(lists.revoked_code).verdict is Verdict.REVOKED
    outer, goal = without_revocations(lists.revocations)
    forged = {
        label: refused(lambda jws=jws: lists.verifier(revocations={**outer, "jws": jws}))
        for label, jws in attacks(lists, lists.revocations, goal)
    }
    assert {label: outcome for label, outcome in forged.items() if outcome} == {}


def test_only_the_signed_part_is_believed(lists: Lists) -> None:
    """Keys added beside the signature, not under it, change nothing."""
    _, payload, _ = parts(lists.trust)
    padded = {**lists.trust, "keys": with_attacker_key(payload, lists.attacker)["keys"]}
    assert lists.verifier(trust=padded).verify(lists.attacker_code).verdict is Verdict.UNKNOWN_KEY


def test_one_list_is_not_taken_for_the_other(lists: Lists) -> None:
    """Both are signed by the registry: the signed `format` tells them apart."""
    assert refused(lambda: lists.verifier(trust=lists.revocations)) == ""
    assert refused(lambda: lists.verifier(revocations=lists.trust)) == ""


def test_a_list_the_registry_really_signs_is_read(lists: Lists) -> None:
    """The refusals above are not vacuous: the same edit, signed by the registry's key, is believed."""
    key = publication.registry_key()
    _, payload, _ = parts(lists.trust)
    payload["keys"] = [
        {**entry, "status": "compromised"} if entry["insurer"] == "77001" else entry for entry in payload["keys"]
    ]
    honest = {**lists.trust, "jws": sign_compact(json.dumps(payload).encode(), key)}
    verdict = lists.verifier(trust=honest).verify(lists.revoked_code).verdict
    assert verdict is Verdict.KEY_COMPROMISED


def test_omscode_refuses_forged_and_hostile_files(
    lists: Lists, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "registry.jwks"
    key_file.write_text(json.dumps(TrustList(lists.pinned).to_jwks()), encoding="utf-8")
    trust_file, revocations_file = tmp_path / "trust.json", tmp_path / "revocations.json"
    revocations_file.write_text(json.dumps(lists.revocations), encoding="utf-8")
    arguments = ["verify", "--registry-key", str(key_file), "--trust-list", str(trust_file)]
    arguments += ["--revocations", str(revocations_file), lists.attacker_code]
    _, payload, _ = parts(lists.trust)
    none_signed = compact({"alg": "none"}, with_attacker_key(payload, lists.attacker), b"")
    for content in (
        json.dumps({**lists.trust, "jws": none_signed}),
        "[" * 100_000,
        '{"jws": "' + "a" * 1000 + '"}',
        "\ufeff{}",
        "",
    ):
        trust_file.write_text(content, encoding="utf-8")
        assert omscode(arguments) == 2
        assert "Списки не приняты" in capsys.readouterr().err
    trust_file.write_text(json.dumps(copy.deepcopy(lists.trust)), encoding="utf-8")
    assert omscode(arguments) == 1, "the genuine lists load, and the attacker's code is not valid"
