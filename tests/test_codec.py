from datetime import date, timedelta

import base45
import cbor2
import pytest

from policy_codes import (
    PREFIX,
    CodeExpired,
    CodeKind,
    ForgedCode,
    KeyCompromised,
    MalformedCode,
    NotAPolicyCode,
    UnknownKey,
    Verdict,
    decode,
    encode,
)
from policy_codes.codec import MAX_TEXT_LENGTH
from signing import KeyRing, KeyUnusable, SigningKey, sign1
from tests.helpers.claims import INSURER, ISSUED_AT, KEY_START, NOW, make_claims


def message_of(text: str) -> bytes:
    return base45.b45decode(text[len(PREFIX) :])


def text_of(message: bytes) -> str:
    return PREFIX + base45.b45encode(message).decode()


def test_round_trip(code_text: str, claims, keyring: KeyRing) -> None:
    assert code_text.startswith("OMS1:")
    verified = decode(code_text, keyring.trust_list(), NOW)
    assert verified.claims == claims
    assert verified.key.owner == INSURER
    assert verified.checked_at == NOW


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": CodeKind.TEMPORARY_CERTIFICATE, "valid_to": date(2027, 1, 27)},
        {"valid_to": date(2026, 12, 31), "serial": 7},
        {"kind": CodeKind.LIVE, "issued_at": NOW, "expires_at": NOW + timedelta(seconds=90)},
    ],
)
def test_round_trip_of_every_kind(changes, signing_key: SigningKey, keyring: KeyRing) -> None:
    claims = make_claims(**changes)
    assert decode(encode(claims, signing_key), keyring.trust_list(), NOW).claims == claims


def test_every_single_byte_change_is_never_valid(code_text: str, keyring: KeyRing) -> None:
    trust_list = keyring.trust_list()
    message = message_of(code_text)
    for position in range(len(message)):
        for value in range(256):
            if value == message[position]:
                continue
            edited = message[:position] + bytes([value]) + message[position + 1 :]
            with pytest.raises((MalformedCode, ForgedCode, UnknownKey)):
                decode(text_of(edited), trust_list, NOW)


def test_every_single_character_change_is_never_valid(code_text: str, keyring: KeyRing) -> None:
    trust_list = keyring.trust_list()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for position in range(len(PREFIX), len(code_text)):
        for char in alphabet:
            if char == code_text[position]:
                continue
            edited = code_text[:position] + char + code_text[position + 1 :]
            with pytest.raises((MalformedCode, ForgedCode, UnknownKey)):
                decode(edited, trust_list, NOW)


def test_code_signed_by_a_key_not_in_the_trust_list_is_unknown_key(claims, keyring: KeyRing) -> None:
    keyring.create(INSURER, KEY_START)
    stranger = KeyRing().create(INSURER, KEY_START)
    with pytest.raises(UnknownKey) as caught:
        decode(encode(claims, stranger), keyring.trust_list(), NOW)
    assert caught.value.verdict is Verdict.UNKNOWN_KEY


def test_kid_swapped_to_a_trusted_key_is_forged(code_text: str, keyring: KeyRing) -> None:
    other = keyring.create(INSURER, KEY_START)
    _, unprotected, payload, signature = cbor2.loads(message_of(code_text))
    swapped = cbor2.dumps({1: -7, 4: other.kid})
    forged = text_of(cbor2.dumps([swapped, unprotected, payload, signature]))
    with pytest.raises(ForgedCode) as caught:
        decode(forged, keyring.trust_list(), NOW)
    assert caught.value.verdict is Verdict.FORGED


def test_claims_edited_and_resigned_by_another_insurer_are_forged(keyring: KeyRing) -> None:
    other_insurer = keyring.create("50013", KEY_START)
    payload = cbor2.dumps(make_claims().to_wire(), canonical=True)
    forged = text_of(sign1(payload, other_insurer, at=ISSUED_AT))
    with pytest.raises(ForgedCode):
        decode(forged, keyring.trust_list(), NOW)


def test_code_of_a_compromised_key(code_text: str, signing_key: SigningKey, keyring: KeyRing) -> None:
    keyring.mark_compromised(signing_key.kid)
    with pytest.raises(KeyCompromised) as caught:
        decode(code_text, keyring.trust_list(), NOW)
    assert caught.value.verdict is Verdict.KEY_COMPROMISED


def test_retired_key_still_verifies(code_text: str, keyring: KeyRing) -> None:
    keyring.rotate(INSURER, NOW)
    assert decode(code_text, keyring.trust_list(), NOW).claims.serial == 1


def test_live_code_expires(signing_key: SigningKey, keyring: KeyRing) -> None:
    live = encode(make_claims(kind=CodeKind.LIVE, issued_at=NOW, expires_at=NOW + timedelta(seconds=90)), signing_key)
    assert decode(live, keyring.trust_list(), NOW + timedelta(seconds=90)).claims.kind is CodeKind.LIVE
    with pytest.raises(CodeExpired) as caught:
        decode(live, keyring.trust_list(), NOW + timedelta(seconds=91))
    assert caught.value.reason == "live_code"
    assert caught.value.verdict is Verdict.EXPIRED


def test_policy_expires_after_its_last_day_in_moscow(signing_key: SigningKey, keyring: KeyRing) -> None:
    text = encode(make_claims(valid_to=date(2026, 12, 31)), signing_key)
    last_evening = NOW.replace(month=12, day=31, hour=20, minute=59)  # 23:59 in Moscow
    decode(text, keyring.trust_list(), last_evening)
    with pytest.raises(CodeExpired) as caught:
        decode(text, keyring.trust_list(), last_evening + timedelta(minutes=1))
    assert caught.value.reason == "policy"


def test_policy_not_yet_in_force(signing_key: SigningKey, keyring: KeyRing) -> None:
    text = encode(make_claims(valid_from=date(2026, 12, 1)), signing_key)
    with pytest.raises(CodeExpired) as caught:
        decode(text, keyring.trust_list(), NOW)
    assert caught.value.reason == "not_yet_valid"


def test_code_may_not_outlive_its_key(keyring: KeyRing) -> None:
    short_key = keyring.create(INSURER, KEY_START, lifetime=timedelta(days=365))
    with pytest.raises(KeyUnusable):
        encode(make_claims(valid_to=date(2027, 6, 30)), short_key)
    text = encode(make_claims(), short_key)  # no end date: good until the key ends
    with pytest.raises(CodeExpired) as caught:
        decode(text, keyring.trust_list(), KEY_START + timedelta(days=366))
    assert caught.value.reason == "key"


def test_a_code_is_signed_by_its_own_insurers_key(keyring: KeyRing) -> None:
    with pytest.raises(KeyUnusable):
        encode(make_claims(), keyring.create("50013", KEY_START))


def test_signing_time_outside_the_key_window_is_refused(keyring: KeyRing) -> None:
    late_key = keyring.create(INSURER, ISSUED_AT + timedelta(days=1))
    with pytest.raises(KeyUnusable):
        encode(make_claims(), late_key)


def test_russian_layout_scan_verifies(code_text: str, claims, keyring: KeyRing) -> None:
    us_keys = "QWERTYUIOPASDFGHJKLZXCVBNM:./$"
    russian = "ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬЖЮ.;"
    typed = code_text.translate(str.maketrans(us_keys, russian))
    assert typed.startswith("ЩЬЫ1Ж")
    verified = decode(typed + "\r\n", keyring.trust_list(), NOW)
    assert verified.claims == claims
    assert verified.text == code_text  # what the registry's hash of the issued text is compared with
    assert decode(typed.lower(), keyring.trust_list(), NOW).claims == claims  # Caps Lock on


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://example.org/",
        "hello",
        "1234567890123452",
        "OMS",
        "WIFI:S:net;;",
        "x" * (MAX_TEXT_LENGTH * 1000),
    ],
)
def test_other_text_is_not_a_policy_code(text: str, keyring: KeyRing) -> None:
    with pytest.raises(NotAPolicyCode) as caught:
        decode(text, keyring.trust_list(), NOW)
    assert caught.value.verdict is Verdict.NOT_A_POLICY_CODE


@pytest.mark.parametrize("text", ["OMS1:", "OMS1:A", "OMS1:ZZZ", "OMS1:abc~", "OMS2:ABC", "OMS1:" + "0" * 30])
def test_our_prefix_with_a_broken_body_is_malformed(text: str, keyring: KeyRing) -> None:
    with pytest.raises(MalformedCode) as caught:
        decode(text, keyring.trust_list(), NOW)
    assert caught.value.verdict is Verdict.MALFORMED


def test_signed_garbage_claims_are_malformed(signing_key: SigningKey, keyring: KeyRing) -> None:
    for payload in (b"\xff", cbor2.dumps([1, 2]), cbor2.dumps({1: "1234567890123452"}), cbor2.dumps({99: 1})):
        with pytest.raises(MalformedCode):
            decode(text_of(sign1(payload, signing_key, at=ISSUED_AT)), keyring.trust_list(), NOW)


def test_claims_carry_nothing_beyond_the_design(claims) -> None:
    assert set(claims.to_wire()) == {1, 2, 3, 4, 5, 6, 7, 8, 10}


@pytest.mark.parametrize(
    "changes",
    [{}, {"valid_to": date(2026, 12, 31)}, {"kind": CodeKind.LIVE, "expires_at": NOW + timedelta(seconds=90)}],
)
def test_claims_are_encoded_canonically(changes) -> None:
    """encode() relies on to_wire() listing keys in ascending order (RFC 8949 §4.2.1)."""
    wire = make_claims(**changes).to_wire()
    assert cbor2.dumps(wire) == cbor2.dumps(wire, canonical=True)
