"""The forgery corpus through the pure decoder (policy_codes.decode over signing.verify1): never valid, no crash."""

from __future__ import annotations

import pytest

from policy_codes import CodeError, Verdict, decode, encode
from signing import KeyRing
from tests.helpers.claims import INSURER, KEY_START, NOW, make_claims
from tests.security.forgeries import Case, corpus, high_s_twin

RING = KeyRing()
KEY = RING.create(INSURER, KEY_START)
OTHER_INSURER = RING.create("77009", KEY_START)
FOREIGN = KeyRing().create(INSURER, KEY_START)
TRUST = RING.trust_list()
GENUINE = make_claims()
GENUINE_TEXT = encode(GENUINE, KEY)
CASES = corpus(GENUINE_TEXT, FOREIGN, OTHER_INSURER, KEY)


def outcome(case: Case) -> Verdict | str:
    try:
        decode(case.text, TRUST, NOW)
    except CodeError as error:
        return error.verdict
    except Exception as error:  # anything but a documented error is a finding
        return f"raised {error!r}"
    return Verdict.VALID


def test_the_genuine_code_decodes() -> None:
    """Without this the corpus proves nothing: the same trust list and clock accept the original."""
    assert decode(GENUINE_TEXT, TRUST, NOW).claims == GENUINE


def test_the_corpus_is_large_and_covers_every_family() -> None:
    assert len(CASES) > 1500
    labels = " | ".join(case.label for case in CASES)
    for family in ("flip byte", "char ", "text cut", "message cut", "foreign key, genuine kid", "other insurer's key"):
        assert family in labels
    for family in ("alg -8", "alg -35", "alg 'none'", "HMAC keyed with spki-der", "kid moved to unprotected"):
        assert family in labels
    for family in ("oversized text", "nested arrays 5000", "lone surrogate", "trailing 00", "payload in chunks"):
        assert family in labels


def test_no_forgery_is_valid_and_none_raises() -> None:
    results = {case.label: outcome(case) for case in CASES}
    assert {label: verdict for label, verdict in results.items() if verdict is Verdict.VALID} == {}
    assert {label: verdict for label, verdict in results.items() if not isinstance(verdict, Verdict)} == {}


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("flip byte 60 ^0x01", {Verdict.FORGED, Verdict.MALFORMED}),
        ("foreign key, own kid, same claims", {Verdict.UNKNOWN_KEY}),
        ("foreign key, genuine kid, same claims", {Verdict.FORGED}),
        ("other insurer's key, same claims", {Verdict.FORGED}),
        ("other insurer's kid, genuine signature", {Verdict.FORGED}),
        ("alg 5 HMAC keyed with spki-der", {Verdict.MALFORMED}),
        ("alg 'none', no signature", {Verdict.MALFORMED}),
        ("kid moved to unprotected", {Verdict.MALFORMED}),
        ("oversized text", {Verdict.MALFORMED}),
        ("nested arrays 600", {Verdict.MALFORMED}),
        ("other version", {Verdict.MALFORMED}),
        ("trailing 00", {Verdict.MALFORMED}),
        ("payload in chunks", {Verdict.MALFORMED}),
        ("protected length in 2 bytes", {Verdict.MALFORMED}),
        # Equal to the signed header or claims by Python's ==, not byte for byte (docs/code-format.md):
        ("alg -7.0, genuine signature", {Verdict.MALFORMED}),
        ("protected header alg under key true", {Verdict.MALFORMED}),
        ("protected header kid in a shareable tag", {Verdict.MALFORMED}),
        ("protected header kid before alg", {Verdict.MALFORMED}),
        ("other insurer's key, claim keys as floats", {Verdict.MALFORMED}),
    ],
)
def test_typical_forgeries_get_the_documented_verdict(label: str, expected: set[Verdict]) -> None:
    (case,) = [case for case in CASES if case.label == label]
    assert outcome(case) in expected


def test_a_high_s_twin_is_forged() -> None:
    """ECDSA's (r, n − s) verifies as well as (r, s); the format accepts only the low-S form, so a code has one text
    (docs/code-format.md). The twin is in the corpus too, for every layer and the browser."""
    twin = high_s_twin(GENUINE_TEXT)
    assert twin != GENUINE_TEXT
    assert outcome(Case("twin", twin)) is Verdict.FORGED
