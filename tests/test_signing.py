import json
from datetime import UTC, datetime, timedelta

import cbor2
import pytest

from signing import (
    BadMessage,
    BadSignature,
    BadTrustList,
    KeyRing,
    KeyStatus,
    KeyUnusable,
    SigningKey,
    TrustList,
    UnknownKeyId,
    WrongPassphrase,
    sign1,
    verify1,
)
from signing.cose import _to_be_signed

START = datetime(2026, 1, 1, tzinfo=UTC)
INSIDE = datetime(2026, 6, 1, tzinfo=UTC)


def test_sign_and_verify_round_trip() -> None:
    ring = KeyRing()
    key = ring.create("77008", START)
    message = sign1(b"payload", key, at=INSIDE)
    verified = verify1(message, ring.trust_list().get)
    assert verified.payload == b"payload"
    assert verified.key.kid == key.kid


def test_signing_is_deterministic() -> None:
    key = KeyRing().create("77008", START)
    assert sign1(b"payload", key, at=INSIDE) == sign1(b"payload", key, at=INSIDE)


def test_rotate_retires_the_old_key_which_still_verifies() -> None:
    ring = KeyRing()
    old = ring.create("77008", START)
    message = sign1(b"old", old, at=INSIDE)
    new = ring.rotate("77008", now=INSIDE)
    assert ring.get(old.kid).public.status is KeyStatus.RETIRED
    assert ring.signing_key("77008", INSIDE).kid == new.kid
    assert verify1(message, ring.trust_list().get).payload == b"old"
    with pytest.raises(KeyUnusable):
        ring.get(old.kid).sign(b"more", INSIDE)


def test_signing_key_per_owner() -> None:
    ring = KeyRing()
    a = ring.create("77008", START)
    b = ring.create("50013", START)
    assert ring.signing_key("77008", INSIDE).kid == a.kid
    assert ring.signing_key("50013", INSIDE).kid == b.kid
    with pytest.raises(KeyUnusable):
        ring.signing_key("99999", INSIDE)


def test_a_key_signs_only_inside_its_window() -> None:
    key = SigningKey.generate("77008", START, lifetime=timedelta(days=30))
    key.sign(b"x", START + timedelta(days=29))
    with pytest.raises(KeyUnusable):
        key.sign(b"x", START + timedelta(days=31))
    with pytest.raises(KeyUnusable):
        key.sign(b"x", START - timedelta(seconds=1))


def test_compromised_and_retired_keys_do_not_sign() -> None:
    ring = KeyRing()
    key = ring.create("77008", START)
    ring.mark_compromised(key.kid)
    with pytest.raises(KeyUnusable):
        ring.get(key.kid).sign(b"x", INSIDE)
    with pytest.raises(KeyUnusable):
        ring.retire(key.kid)  # compromised stays compromised
    with pytest.raises(KeyUnusable):
        ring.signing_key("77008", INSIDE)


def test_encrypted_pem_round_trip_and_wrong_passphrase() -> None:
    key = KeyRing().create("77008", START)
    pem = key.to_encrypted_pem(b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    loaded = SigningKey.from_encrypted_pem(pem, b"correct horse", key.public)
    verify1(sign1(b"x", loaded, at=INSIDE), TrustList([key.public]).get)
    with pytest.raises(WrongPassphrase):
        SigningKey.from_encrypted_pem(pem, b"wrong", key.public)
    with pytest.raises(WrongPassphrase):
        key.to_encrypted_pem(b"")


def test_pem_of_another_key_is_refused() -> None:
    a, b = KeyRing().create("77008", START), KeyRing().create("77008", START)
    with pytest.raises(WrongPassphrase):
        SigningKey.from_encrypted_pem(a.to_encrypted_pem(b"pw"), b"pw", b.public)


def test_trust_list_jwks_round_trip() -> None:
    ring = KeyRing()
    key = ring.create("77008", START)
    ring.mark_compromised(ring.create("50013", START).kid)
    document = json.loads(json.dumps(ring.trust_list().to_jwks()))
    assert {entry["kty"] for entry in document["keys"]} == {"EC"}
    assert {entry["status"] for entry in document["keys"]} == {"active", "compromised"}
    restored = TrustList.from_jwks(document)
    assert restored.get(key.kid) == key.public
    assert len(restored) == 2


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.clear(),
        lambda d: d["keys"][0].update(crv="P-384"),
        lambda d: d["keys"][0].update(kid="AAAAAA"),
        lambda d: d["keys"][0].update(x="!!!"),
        lambda d: d["keys"][0].pop("y"),
        lambda d: d["keys"][0].update(status="fine"),
        lambda d: d["keys"][0].update(not_after="2027-01-01T00:00:00"),
        lambda d: d["keys"].append("not a key"),
    ],
)
def test_a_damaged_trust_list_is_refused(breakage) -> None:
    ring = KeyRing()
    ring.create("77008", START)
    document = ring.trust_list().to_jwks()
    breakage(document)
    with pytest.raises(BadTrustList):
        TrustList.from_jwks(document)


def test_unknown_key_id() -> None:
    key = KeyRing().create("77008", START)
    with pytest.raises(UnknownKeyId):
        verify1(sign1(b"x", key, at=INSIDE), TrustList().get)


def test_other_algorithms_and_shapes_are_refused() -> None:
    ring = KeyRing()
    key = ring.create("77008", START)
    protected, _, payload, signature = cbor2.loads(sign1(b"x", key, at=INSIDE))
    for alg in (0, -8, 5, "ES256", True):  # none-ish, EdDSA, HMAC 256/256, text, bool
        header = cbor2.dumps({1: alg, 4: key.kid})
        with pytest.raises(BadMessage):
            verify1(cbor2.dumps([header, {}, payload, signature]), ring.trust_list().get)
    with pytest.raises(BadMessage):
        verify1(cbor2.dumps([protected, {1: -7}, payload, signature]), ring.trust_list().get)
    with pytest.raises(BadMessage):
        verify1(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])), ring.trust_list().get)
    with pytest.raises(BadSignature):
        verify1(cbor2.dumps([protected, {}, payload + b"!", signature]), ring.trust_list().get)
    with pytest.raises(BadSignature):
        verify1(cbor2.dumps([protected, {}, payload, b"\x00" * 64]), ring.trust_list().get)


@pytest.mark.parametrize("size", [0, 1, 23, 24, 255, 256, 1500])
def test_messages_of_every_length_form_verify(size: int) -> None:
    ring = KeyRing()
    key = ring.create("77008", START)
    assert verify1(sign1(b"p" * size, key, at=INSIDE), ring.trust_list().get).payload == b"p" * size


def _other_encodings(protected: bytes, payload: bytes, signature: bytes) -> list[bytes]:
    """The same four values as valid CBOR, but not as sign1 writes them."""
    long_length = b"\x58" + bytes([len(payload)]) + payload  # a 1-byte length field for a short string
    chunked = b"\x5f" + cbor2.dumps(payload[:2]) + cbor2.dumps(payload[2:]) + b"\xff"
    head, unprotected, tail = cbor2.dumps(protected), b"\xa0", cbor2.dumps(signature)
    return [
        b"\x84" + head + unprotected + long_length + tail,
        b"\x84" + head + unprotected + chunked + tail,
        b"\x9f" + head + unprotected + cbor2.dumps(payload) + tail + b"\xff",  # an indefinite-length array
        b"\x84" + head + unprotected + cbor2.dumps(payload) + tail + b"\x00",  # a trailing byte
        b"\x84" + head + unprotected + cbor2.dumps(payload) + tail[:-1],  # one byte short
        b"\x84" + head + unprotected + cbor2.dumps(payload),  # three of four
    ]


def test_only_the_form_sign1_writes_is_read() -> None:
    ring = KeyRing()
    key = ring.create("77008", START)
    message = sign1(b"claims", key, at=INSIDE)
    protected, _, payload, signature = cbor2.loads(message)
    assert message == b"\x84" + cbor2.dumps(protected) + b"\xa0" + cbor2.dumps(payload) + cbor2.dumps(signature)
    for other in _other_encodings(protected, payload, signature):
        with pytest.raises(BadMessage):
            verify1(other, ring.trust_list().get)


@pytest.mark.parametrize("size", [0, 23, 24, 255, 256, 2048])
def test_sig_structure_is_the_rfc_9052_array(size: int) -> None:
    protected, payload = b"\xa2\x01\x26\x04\x41k", b"p" * size
    assert _to_be_signed(protected, payload) == cbor2.dumps(["Signature1", protected, b"", payload])


def test_sign1_is_the_cbor_array_of_rfc_9052() -> None:
    key = KeyRing().create("77008", START)
    message = sign1(b"p" * 100, key, at=INSIDE)
    protected, unprotected, payload, signature = cbor2.loads(message)
    assert message == cbor2.dumps([protected, unprotected, payload, signature])
    assert (cbor2.loads(protected), unprotected, payload, len(signature)) == ({1: -7, 4: key.kid}, {}, b"p" * 100, 64)
