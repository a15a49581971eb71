"""A forgery corpus, generated from one genuine code at test time.

Every case is text a scanner could hand over that is NOT the genuine code
(after the scanner normalisation every verifier applies), so no verifier may
ever answer `valid` for it, and none may raise.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, replace

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from policy_codes import PREFIX, normalise_scanned
from policy_codes.base45 import CHARSET, b45decode, b45encode
from signing import SigningKey

#: Byte masks for the single-byte flips: the low bit, a middle bit, the high bit, all bits.
FLIP_MASKS = (0x01, 0x10, 0x80, 0xFF)
#: Steps through the Base45 alphabet for the single-character substitutions.
TEXT_STEPS = (1, 17, 31)
ALG_ES256 = -7
#: COSE ids that are not ES256 (RFC 9053): EdDSA, ES384, ES512, PS256, RS256, HMAC 256/64, HS256, HS384.
OTHER_ALGS: tuple[object, ...] = (-8, -35, -36, -37, -257, 4, 5, 6, 0, "none", "ES256", None, True, -7.0)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class Case:
    label: str
    text: str
    #: Which generator made it: flips, substitutions, truncations, re-signed, alg, unprotected, structure, hostile.
    family: str = ""


@dataclass(frozen=True)
class Genuine:
    """The genuine code taken apart."""

    text: str
    message: bytes
    protected: bytes
    payload: bytes
    signature: bytes
    kid: bytes

    @classmethod
    def of(cls, text: str) -> Genuine:
        message = b45decode(text[len(PREFIX) :])
        protected, _unprotected, payload, signature = cbor2.loads(message)
        return cls(text, message, protected, payload, signature, cbor2.loads(protected)[4])


def code(message: bytes) -> str:
    return PREFIX + b45encode(message)


def envelope(protected: bytes, unprotected: object, payload: object, signature: object) -> bytes:
    return cbor2.dumps([protected, unprotected, payload, signature])


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """What ES256 signs (RFC 9052 §4.4), built independently of signing/cose.py."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def header(alg: object = ALG_ES256, kid: bytes | None = None, **more: object) -> bytes:
    fields: dict[object, object] = {}
    if alg is not None:
        fields[1] = alg
    if kid is not None:
        fields[4] = kid
    fields.update({int(name[1:]): value for name, value in more.items()})
    return cbor2.dumps(fields)


def signed_by(key: SigningKey, protected: bytes, payload: bytes) -> str:
    """A well-formed message whose signature is `key`'s, whatever kid the header names."""
    signature = key.sign(sig_structure(protected, payload), key.public.not_before)
    return code(envelope(protected, {}, payload, signature))


def edited_payloads(payload: bytes) -> Iterator[tuple[str, bytes]]:
    claims = cbor2.loads(payload)
    for label, changes in (
        ("serial", {2: claims[2] + 1}),
        ("enp", {1: claims[1] + 10}),
        ("birth date", {6: claims[6] - 1}),
        ("valid to", {9: claims[8] + 3650}),
        ("kind live, no expiry", {3: 3}),
        ("name", {5: claims[5][:-1] + bytes([claims[5][-1] ^ 0x0F])}),
    ):
        yield label, cbor2.dumps({**claims, **changes}, canonical=True)
    # Equal to the integer keys in Python (1.0 == 1), another type in CBOR and in JavaScript.
    yield "claim keys as floats", cbor2.dumps({float(key): value for key, value in claims.items()})


def public_key_secrets(public: ec.EllipticCurvePublicKey) -> Iterator[tuple[str, bytes]]:
    """The encodings of a public key an HMAC confusion attack would use as the secret."""
    numbers = public.public_numbers()
    yield "spki-der", public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    yield "spki-pem", public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    yield "x962", public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    yield "x||y", numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")


def byte_flips(genuine: Genuine) -> Iterator[Case]:
    for index in range(len(genuine.message)):
        for mask in FLIP_MASKS:
            flipped = bytearray(genuine.message)
            flipped[index] ^= mask
            yield Case(f"flip byte {index} ^{mask:#04x}", code(bytes(flipped)))


def text_substitutions(genuine: Genuine) -> Iterator[Case]:
    for index, char in enumerate(genuine.text):
        for step in TEXT_STEPS:
            other = CHARSET[(CHARSET.index(char) + step) % len(CHARSET)]
            yield Case(f"char {index} {char!r}->{other!r}", genuine.text[:index] + other + genuine.text[index + 1 :])


def truncations(genuine: Genuine) -> Iterator[Case]:
    for length in range(len(genuine.text)):
        yield Case(f"text cut to {length}", genuine.text[:length])
    for length in range(len(genuine.message)):
        yield Case(f"message cut to {length}", code(genuine.message[:length]))
    for start in range(1, len(genuine.message)):
        yield Case(f"message from byte {start}", code(genuine.message[start:]))


def foreign_signatures(genuine: Genuine, foreign: SigningKey, other_insurer: SigningKey) -> Iterator[Case]:
    """Re-signing: a key not on the trust list, and a real key of another insurer."""
    payloads = [("same claims", genuine.payload), *edited_payloads(genuine.payload)]
    for label, payload in payloads:
        yield Case(f"foreign key, own kid, {label}", signed_by(foreign, header(kid=foreign.kid), payload))
        yield Case(f"foreign key, genuine kid, {label}", signed_by(foreign, header(kid=genuine.kid), payload))
        yield Case(
            f"foreign key, other insurer's kid, {label}", signed_by(foreign, header(kid=other_insurer.kid), payload)
        )
        yield Case(f"other insurer's key, {label}", signed_by(other_insurer, header(kid=other_insurer.kid), payload))
        yield Case(
            f"other insurer's key, genuine kid, {label}", signed_by(other_insurer, header(kid=genuine.kid), payload)
        )
        if payload != genuine.payload:
            yield Case(f"genuine signature, {label}", code(envelope(genuine.protected, {}, payload, genuine.signature)))
    swapped = header(kid=other_insurer.kid)
    yield Case(
        "other insurer's kid, genuine signature", code(envelope(swapped, {}, genuine.payload, genuine.signature))
    )
    yield Case(
        "foreign kid, genuine signature",
        code(envelope(header(kid=foreign.kid), {}, genuine.payload, genuine.signature)),
    )
    r = genuine.signature[:32]
    for label, signature in (
        ("zero", bytes(64)),
        ("r=s=n", P256_ORDER.to_bytes(32, "big") * 2),
        ("s = 0", r + bytes(32)),
        ("s = n", r + P256_ORDER.to_bytes(32, "big")),
        ("r and s swapped", genuine.signature[32:] + r),
        ("63 bytes", genuine.signature[:-1]),
        ("65 bytes", genuine.signature + b"\x00"),
        ("DER", b"\x30\x44\x02\x20" + r + b"\x02\x20" + genuine.signature[32:]),
        ("empty", b""),
    ):
        yield Case(f"signature {label}", code(envelope(genuine.protected, {}, genuine.payload, signature)))


def alg_changes(genuine: Genuine, signer: SigningKey) -> Iterator[Case]:
    """Other algorithms in the protected header: none, HMAC keyed with the public key, ES384, EdDSA..."""
    for alg in OTHER_ALGS:
        protected = header(alg=alg, kid=genuine.kid)
        for label, signature in (("genuine signature", genuine.signature), ("no signature", b"")):
            yield Case(f"alg {alg!r}, {label}", code(envelope(protected, {}, genuine.payload, signature)))
    for alg in (5, 4, 6, "HS256"):
        protected = header(alg=alg, kid=genuine.kid)
        for name, secret in public_key_secrets(signer.public.key):
            tag = hmac.new(secret, sig_structure(protected, genuine.payload), hashlib.sha256).digest()
            yield Case(f"alg {alg!r} HMAC keyed with {name}", code(envelope(protected, {}, genuine.payload, tag)))
    yield Case("no protected header", code(envelope(b"", {}, genuine.payload, genuine.signature)))
    # The same header as far as Python's == goes, written otherwise: not the header the insurer signed.
    kid = cbor2.dumps(genuine.kid)
    for label, protected in (
        ("alg under key 1.0", cbor2.dumps({1.0: ALG_ES256, 4: genuine.kid})),
        ("alg under key true", cbor2.dumps({True: ALG_ES256, 4: genuine.kid})),
        ("kid under key 4.0", cbor2.dumps({1: ALG_ES256, 4.0: genuine.kid})),
        ("alg as a bignum", b"\xa2\x01\xc3\x41\x06\x04" + kid),
        ("alg in two bytes", b"\xa2\x01\x38\x06\x04" + kid),
        ("kid in a shareable tag", b"\xa2\x01\x26\x04\xd8\x1c" + kid),
        ("kid before alg", b"\xa2\x04" + kid + b"\x01\x26"),
    ):
        yield Case(f"protected header {label}", code(envelope(protected, {}, genuine.payload, genuine.signature)))
    yield Case("empty protected map", code(envelope(b"\xa0", {}, genuine.payload, genuine.signature)))
    yield Case(
        "protected header not a map",
        code(envelope(cbor2.dumps([-7, genuine.kid]), {}, genuine.payload, genuine.signature)),
    )
    yield Case(
        "kid as text", code(envelope(header(kid=None, _4=genuine.kid.hex()), {}, genuine.payload, genuine.signature))
    )
    yield Case("empty kid", code(envelope(header(kid=b""), {}, genuine.payload, genuine.signature)))
    yield Case("crit header", code(envelope(header(kid=genuine.kid, _2=[33]), {}, genuine.payload, genuine.signature)))
    yield Case(
        "extra protected field",
        code(envelope(header(kid=genuine.kid, _33=b"x"), {}, genuine.payload, genuine.signature)),
    )


def unprotected_tricks(genuine: Genuine, other_insurer: SigningKey) -> Iterator[Case]:
    alg_only = header(kid=None)
    for label, protected, unprotected in (
        ("kid moved to unprotected", alg_only, {4: genuine.kid}),
        ("alg and kid unprotected", b"", {1: ALG_ES256, 4: genuine.kid}),
        ("alg and kid unprotected, empty map protected", b"\xa0", {1: ALG_ES256, 4: genuine.kid}),
        ("other insurer's kid unprotected", genuine.protected, {4: other_insurer.kid}),
        ("alg override unprotected", genuine.protected, {1: 5}),
        ("x5chain unprotected", genuine.protected, {33: b"\x30\x00"}),
        ("counter signature unprotected", genuine.protected, {7: [b"", {}, b""]}),
        ("unprotected as list", genuine.protected, []),
        ("unprotected as null", genuine.protected, None),
        ("unprotected as bytes", genuine.protected, b""),
    ):
        yield Case(label, code(envelope(protected, unprotected, genuine.payload, genuine.signature)))


def _byte_string_head(length: int, width: int) -> bytes:
    """A CBOR byte-string head of `width` length bytes: non-minimal when wider than needed."""
    return {1: bytes([0x58]), 2: b"\x59", 4: b"\x5a", 8: b"\x5b"}[width] + length.to_bytes(width, "big")


def structure_tricks(genuine: Genuine) -> Iterator[Case]:
    """The genuine parts in another CBOR shape; each is not the message the issuer wrote."""
    protected, payload, signature = genuine.protected, genuine.payload, genuine.signature
    yield Case("tag 18", code(b"\xd2" + genuine.message))
    yield Case("tag 98", code(b"\xd8\x62" + genuine.message))
    yield Case("wrapped in an array", code(b"\x81" + genuine.message))
    yield Case("three parts", code(cbor2.dumps([protected, {}, payload])))
    yield Case("five parts", code(cbor2.dumps([protected, {}, payload, signature, b""])))
    yield Case("a map", code(cbor2.dumps({0: protected, 1: {}, 2: payload, 3: signature})))
    yield Case("detached payload", code(envelope(protected, {}, None, signature)))
    yield Case("payload as a map", code(envelope(protected, {}, cbor2.loads(payload), signature)))
    yield Case("indefinite-length array", code(b"\x9f" + genuine.message[1:] + b"\xff"))
    for trailer in (b"\x00", b"\xff", b"\xa0", genuine.signature):
        yield Case(f"trailing {trailer[:4].hex()}", code(genuine.message + trailer))
    chunked = b"\x5f" + cbor2.dumps(payload[:10]) + cbor2.dumps(payload[10:]) + b"\xff"
    yield Case("payload in chunks", code(b"\x84" + cbor2.dumps(protected) + b"\xa0" + chunked + cbor2.dumps(signature)))
    for width in (1, 2, 4, 8):
        wide = _byte_string_head(len(payload), width) + payload
        if width > 1:  # one length byte is how the payload is written
            yield Case(
                f"payload length in {width} bytes",
                code(b"\x84" + cbor2.dumps(protected) + b"\xa0" + wide + cbor2.dumps(signature)),
            )
        wide_protected = _byte_string_head(len(protected), width) + protected
        yield Case(
            f"protected length in {width} bytes",
            code(b"\x84" + wide_protected + b"\xa0" + cbor2.dumps(payload) + cbor2.dumps(signature)),
        )
    yield Case(
        "unprotected as indefinite map",
        code(b"\x84" + cbor2.dumps(protected) + b"\xbf\xff" + genuine.message[len(cbor2.dumps(protected)) + 2 :]),
    )


def hostile_inputs(genuine: Genuine) -> Iterator[Case]:
    """Oversized input, deeply nested or huge CBOR, odd Unicode and bytes that are not UTF-8."""
    body = genuine.text[len(PREFIX) :]
    yield Case("oversized text", PREFIX + "A" * 1_000_000)
    yield Case("oversized genuine repeat", genuine.text * 50)
    yield Case("oversized no prefix", "9" * 1_000_000)
    yield Case("oversized message", code(genuine.message + bytes(3000)))
    for depth in (50, 600, 5000):
        yield Case(f"nested arrays {depth}", code(b"\x81" * depth + b"\x00"))
    for label, nested in (
        ("indefinite arrays", b"\x9f" * 600),
        ("maps", b"\xa1\x00" * 400 + b"\x00"),
        ("tags", b"\xc6" * 600 + b"\x00"),
        ("bignum", b"\xc2\x59\x01\x00" + b"\xff" * 256),
        ("declared 2^62 bytes", b"\x84\x5b" + (2**62).to_bytes(8, "big")),
        ("declared 2^32 items", b"\x9a\xff\xff\xff\xff"),
        ("float header", b"\xfb" + b"\x7f\xf8" + bytes(6)),
    ):
        yield Case(f"CBOR {label}", code(nested))
        yield Case(f"CBOR {label} as protected header", code(envelope(nested, {}, genuine.payload, genuine.signature)))
    yield Case(
        "nested protected inside the genuine envelope",
        code(envelope(b"\x81" * 500 + b"\x00", {}, genuine.payload, genuine.signature)),
    )
    for label, text in (
        ("zero-width space inside", PREFIX + body[:20] + "\u200b" + body[20:]),
        ("byte order mark inside", PREFIX + "\ufeff" + body),
        ("byte order mark before", "\ufeff" + genuine.text),
        ("right-to-left override", "\u202e" + genuine.text),
        ("NUL inside", genuine.text[:30] + "\x00" + genuine.text[30:]),
        ("combining accent", genuine.text[:30] + "\u0301" + genuine.text[30:]),
        ("lone surrogate", genuine.text[:30] + "\ud800" + genuine.text[31:]),
        ("emoji", genuine.text[:30] + "\U0001f600" + genuine.text[31:]),
        ("full-width digit", genuine.text.replace("1", "\uff11", 2)),
        ("full-width prefix", "\uff2f\uff2d\uff33\uff11\uff1a" + body),
        ("Greek capital alpha for a letter", _swap_first(body, "ABEHIKMNOPTXYZ", "ΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", PREFIX)),
        ("Cyrillic lookalike for a letter", _swap_first(body, "ABEKMHOPCTX", "АВЕКМНОРСТХ", PREFIX)),
        ("latin-1 high bytes", genuine.text[:40] + "\xff\xfe" + genuine.text[42:]),
        ("mathematical bold prefix", "\U0001d40e\U0001d40c\U0001d412" + genuine.text[3:]),
        ("newline inside", genuine.text[:60] + "\n" + genuine.text[60:]),
        ("tab inside", genuine.text[:60] + "\t" + genuine.text[61:]),
        ("other version", "OMS2:" + body),
        ("version zero", "OMS0:" + body),
        ("prefix twice", PREFIX + genuine.text),
    ):
        yield Case(label, text)
    for encoding in ("utf-16", "utf-32", "utf-16-be"):
        yield Case(f"text as {encoding} bytes", genuine.text.encode(encoding).decode("latin-1"))


def high_s_twin(text: str) -> str:
    """The same message with the signature's s replaced by n − s: plain ECDSA accepts both, verifiers only low S."""
    genuine = Genuine.of(text)
    s = int.from_bytes(genuine.signature[32:], "big")
    twin = genuine.signature[:32] + (P256_ORDER - s).to_bytes(32, "big")
    return code(envelope(genuine.protected, {}, genuine.payload, twin))


def _swap_first(text: str, latin: str, lookalikes: str, keep: str = "") -> str:
    """`text` with its first letter from `latin` replaced by the lookalike at the same place."""
    for index, char in enumerate(text):
        if char in latin:
            return keep + text[:index] + lookalikes[latin.index(char)] + text[index + 1 :]
    raise AssertionError("no letter to swap")


def corpus(text: str, foreign: SigningKey, other_insurer: SigningKey, signer: SigningKey) -> list[Case]:
    """All forgeries of the genuine `text` (signed by `signer`); `foreign` is on no trust list."""
    genuine = Genuine.of(text)
    families = {
        "flips": byte_flips(genuine),
        "substitutions": text_substitutions(genuine),
        "truncations": truncations(genuine),
        "re-signed": foreign_signatures(genuine, foreign, other_insurer),
        "alg": alg_changes(genuine, signer),
        "unprotected": unprotected_tricks(genuine, other_insurer),
        "structure": structure_tricks(genuine),
        "hostile": hostile_inputs(genuine),
        "malleated": iter([Case("high-S twin", high_s_twin(text))]),
    }
    cases = [replace(case, family=family) for family, made in families.items() for case in made]
    expected = normalise_scanned(text)
    same = [case.label for case in cases if normalise_scanned(case.text) == expected]
    assert not same, f"not forgeries, the genuine code itself: {same}"
    assert len({case.label for case in cases}) == len(cases), "labels name cases in reports: one each"
    return cases


#: The bulk families: hundreds of cases each, alike in what they test.
BULK = ("flips", "substitutions", "truncations")


def sample(cases: list[Case], bulk_every: int, other_every: int = 1) -> list[Case]:
    """Every `bulk_every`-th case of the bulk families and every `other_every`-th of the hand-made ones;
    oversized, nested and odd-Unicode input is always kept."""
    picked: list[Case] = []
    for family in dict.fromkeys(case.family for case in cases):
        members = [case for case in cases if case.family == family]
        every = bulk_every if family in BULK else 1 if family == "hostile" else other_every
        picked += members[::every]
    return picked
