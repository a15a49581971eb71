"""The forgery corpus of a code the registry issued, through verify_scan, the JSON API and the offline verifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import cbor2
import pytest
from flask import Flask
from flask.testing import FlaskClient

from policy_codes import Verdict
from policy_codes.offline import OfflineVerifier
from signing import KeyRing, SigningKey
from tests.helpers.registry import KEY_START, person_data, register
from tests.security.forgeries import Case, Genuine, corpus, header, high_s_twin, sample, signed_by
from webapp.registry import accounts
from webapp.registry.keys import keystore, publication
from webapp.registry.verification import verify_scan

ENP = str(person_data().enp)
#: Through HTTP: one in this many bulk cases (flips, substitutions, truncations), one in OTHER_SAMPLE of the
#: hand-made ones, and every oversized, nested or odd-Unicode input. verify_scan behind it sees every case.
BULK_SAMPLE = 60
OTHER_SAMPLE = 3


@dataclass(frozen=True)
class Issued:
    text: str
    cases: list[Case]
    own_key: SigningKey
    other_insurer_key: SigningKey


@pytest.fixture
def issued(registry: Flask) -> Issued:
    """A code signed by the registry for an insured of 77001; 77002's real key plays the other insurer."""
    moment = datetime.now(UTC)
    text = register(at=moment).text
    own = keystore.signing_key("77001", moment)
    other = keystore.signing_key("77002", moment)
    foreign = KeyRing().create("77001", KEY_START)
    return Issued(text, corpus(text, foreign, other, own), own, other)


@pytest.fixture
def client(registry: Flask) -> FlaskClient:
    registry.config["API_VERIFY_RATE_LIMIT"] = "100000 per minute"
    return registry.test_client()


@pytest.fixture
def token(registry: Flask) -> str:
    return accounts.create_token("GP-001", "МИС", "test")[1]


def scan_outcome(scanned: str | bytes) -> Verdict | str:
    try:
        return verify_scan(scanned).verdict
    except Exception as error:  # verify_scan promises a verdict for every input
        return f"raised {error!r}"


def api_outcome(client: FlaskClient, token: str, text: str) -> Verdict | str:
    response = client.post("/api/v1/verify", json={"code": text}, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 413:
        return "413"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return Verdict(response.get_json()["verdict"])


def offline_verifier(client: FlaskClient) -> OfflineVerifier:
    publication.registry_key()
    pinned = [key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER]
    trust = client.get("/api/v1/trust-list").get_json()
    return OfflineVerifier(trust, [client.get("/api/v1/revocations").get_json()], pinned)


def findings(results: dict[str, Verdict | str], allowed: set[str] = frozenset()) -> dict[str, Verdict | str]:
    """What is wrong: a `valid`, or anything that is not a verdict (an exception, a 5xx)."""
    return {
        label: outcome
        for label, outcome in results.items()
        if outcome is Verdict.VALID or (not isinstance(outcome, Verdict) and outcome not in allowed)
    }


def offline_outcome(verifier: OfflineVerifier, text: str) -> Verdict | str:
    try:
        return verifier.verify(text).verdict
    except Exception as error:  # a verdict for every input, offline too
        return f"raised {error!r}"


def test_no_forgery_is_valid_at_any_layer(issued: Issued, client: FlaskClient, token: str) -> None:
    """verify_scan (every case, as text and as bytes), the offline verifier (every case), the API (a sample)."""
    verifier = offline_verifier(client)
    genuine = (verify_scan(issued.text).verdict, verifier.verify(issued.text).verdict)
    assert genuine == (Verdict.VALID, Verdict.VALID)
    assert api_outcome(client, token, issued.text) is Verdict.VALID

    assert findings({case.label: scan_outcome(case.text) for case in issued.cases}) == {}
    handmade = sample(issued.cases, bulk_every=100)
    as_bytes = {case.label: scan_outcome(case.text.encode("utf-8", "surrogatepass")) for case in handmade}
    assert findings(as_bytes) == {}
    assert findings({case.label: offline_outcome(verifier, case.text) for case in issued.cases}) == {}

    through_api = {
        case.label: api_outcome(client, token, case.text) for case in sample(issued.cases, BULK_SAMPLE, OTHER_SAMPLE)
    }
    assert len(through_api) > 100
    assert findings(through_api, allowed={"413"}) == {}
    assert through_api["oversized text"] == "413", "an oversized body is refused unread"


def cross_insurer_code(issued: Issued) -> str:
    """Our person's claims, moved to insurer 77002 and signed by 77002's real, trusted key."""
    genuine = Genuine.of(issued.text)
    claims = cbor2.loads(genuine.payload)
    claims[4] = int(issued.other_insurer_key.public.owner)
    payload = cbor2.dumps(claims, canonical=True)
    return signed_by(issued.other_insurer_key, header(kid=issued.other_insurer_key.kid), payload)


def test_another_insurers_key_cannot_vouch_for_our_insured(issued: Issued, client: FlaskClient, token: str) -> None:
    """The signature checks out (77002 signs for 77002), but the registry knows 77001 issued that serial.

    Offline, with no registry, nothing can tell: every listed insurer is trusted to sign for its own code.
    """
    forged = cross_insurer_code(issued)
    assert offline_verifier(client).verify(forged).verdict is Verdict.VALID, "the signature itself is good"
    assert verify_scan(forged).verdict is Verdict.FORGED
    assert api_outcome(client, token, forged) is Verdict.FORGED


def test_a_high_s_twin_is_forged_at_every_layer(issued: Issued, client: FlaskClient, token: str) -> None:
    """Only the low-S form verifies: the twin of a valid code is no second valid text of it."""
    twin = high_s_twin(issued.text)
    assert verify_scan(issued.text).verdict is Verdict.VALID
    assert verify_scan(twin).verdict is Verdict.FORGED
    assert offline_verifier(client).verify(twin).verdict is Verdict.FORGED
    assert api_outcome(client, token, twin) is Verdict.FORGED
