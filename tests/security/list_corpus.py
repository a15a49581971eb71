"""The published lists, good and bad: one corpus for every verifier of the registry's lists.

docs/code-format.md ("Published lists") states the rule; policy_codes/published_lists.py (omscode) and
static/js/clinic-offline.js (the reception page) apply it. Each case says what both must do with it:
accept it (and then give `verdicts` for the two codes of `World.codes`), or refuse it with `refusal`.

Built from keys made here, with no registry and no database: the documents are written as
webapp/registry/keys/publication.py writes them, and signed independently of signing/jws.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from policy_codes import encode
from policy_codes.revocation import digest_of_text
from signing import KeyStatus, PublicKey, SigningKey, TrustList
from signing.trust_list import b64url
from tests.helpers.claims import INSURER, ISSUED_AT, KEY_START, NOW, make_claims
from tests.security.forgeries import P256_ORDER

REGISTRY = "registry"
TRUST_FORMAT = "oms-trust-list-2"
REVOCATIONS_FORMAT = "oms-revocations-2"
#: The revocation list's headings, in the order a verifier reads a code listed under several.
HEADINGS = ("revoked", "terminated", "superseded", "suspended")
LIFETIME = timedelta(days=3 * 365)
#: What each verifier is told the present is.
LISTS_AT = NOW - timedelta(hours=1)
#: When World.retired, a registry key, retired: after the lists of LISTS_AT were signed.
REGISTRY_RETIRED_AT = NOW - timedelta(minutes=30)
#: When World.retired_insurer retired: after World.codes[6] was signed, before World.codes[7].
INSURER_RETIRED_AT = ISSUED_AT + timedelta(hours=1)
#: What the genuine revocation lists say of World.codes, by serial: a code suspended, then superseded (its policy
#: resumed) or terminated, is under both headings.
LISTED = {"revoked": (2,), "terminated": (4, 6), "superseded": (5,), "suspended": (3, 5, 6)}
#: What a verifier makes of World.codes from the genuine lists: serials 1 to 6 as LISTED says, then the retired
#: insurer key's code from before its retirement and the one from after.
VERDICTS = ("valid", "revoked", "suspended", "terminated", "superseded", "terminated", "valid", "forged")


@dataclass(frozen=True)
class ListCase:
    label: str
    pin: Any  # the registry JWKS the clinic installed
    trust: Any
    revocations: list[Any]
    #: The reason both verifiers refuse with (a ListRefusal value); None: both accept the lists.
    refusal: str | None
    #: For accepted lists, the verdicts of World.codes.
    verdicts: tuple[str, ...] = VERDICTS

    def as_json(self) -> list[Any]:
        """What the browser is handed."""
        return [self.pin, self.trust, self.revocations]


@dataclass(frozen=True)
class World:
    registry: SigningKey  # the registry's key, pinned, signs the genuine lists
    rotated: SigningKey  # a second pinned registry key, newer: lists may come signed by either
    retired: SigningKey  # a registry key retired in the pin and the trust list, at REGISTRY_RETIRED_AT
    stolen: SigningKey  # a registry key the pin marks compromised; the thief still has it
    stolen_later: SigningKey  # pinned as active, marked compromised by the trust lists issued since
    expired: SigningKey  # a registry key whose window ended on KEY_START
    not_yet: SigningKey  # a registry key whose window starts next year
    insurer: SigningKey  # an insurer's key: on the trust list, and pinned by mistake in one case
    retired_insurer: SigningKey  # an insurer's key the trust list retires at INSURER_RETIRED_AT
    attacker: SigningKey  # on no list
    codes: tuple[str, ...]  # serials 1 to 8 of one holder, whose verdicts VERDICTS gives

    def pin(self, *extra: PublicKey) -> dict[str, Any]:
        keys = [
            self.registry.public,
            self.rotated.public,
            self.retired.public.with_status(KeyStatus.RETIRED, REGISTRY_RETIRED_AT),
            self.stolen.public.with_status(KeyStatus.COMPROMISED),
            self.stolen_later.public,
            self.expired.public,
            self.not_yet.public,
            *extra,
        ]
        return TrustList(keys).to_jwks()

    def trusted(self) -> list[PublicKey]:
        """The keys of the genuine trust list."""
        return [
            self.registry.public,
            self.rotated.public,
            self.retired.public.with_status(KeyStatus.RETIRED, REGISTRY_RETIRED_AT),
            self.stolen.public.with_status(KeyStatus.COMPROMISED),
            self.stolen_later.public.with_status(KeyStatus.COMPROMISED),
            self.expired.public,
            self.not_yet.public,
            self.insurer.public,
            self.retired_insurer.public.with_status(KeyStatus.RETIRED, INSURER_RETIRED_AT),
        ]


def registry_key(not_before: datetime = KEY_START) -> SigningKey:
    return SigningKey.generate(REGISTRY, not_before, LIFETIME)


@cache
def world() -> World:
    insurer = SigningKey.generate(INSURER, KEY_START, LIFETIME)
    retired_insurer = SigningKey.generate(INSURER, KEY_START, LIFETIME)
    after = INSURER_RETIRED_AT + timedelta(minutes=1)
    return World(
        registry=registry_key(),
        rotated=registry_key(KEY_START + timedelta(days=300)),
        retired=registry_key(KEY_START - timedelta(days=365)),
        stolen=registry_key(),
        stolen_later=registry_key(),
        expired=registry_key(KEY_START - LIFETIME),
        not_yet=registry_key(datetime(2027, 1, 1, tzinfo=UTC)),
        insurer=insurer,
        retired_insurer=retired_insurer,
        attacker=registry_key(),
        codes=(
            *(encode(make_claims(serial=serial), insurer) for serial in range(1, 7)),
            encode(make_claims(serial=7), retired_insurer),
            encode(make_claims(serial=8, issued_at=after), retired_insurer),
        ),
    )


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def jws(key: SigningKey, payload: bytes, header: dict[str, Any] | bytes | None = None) -> str:
    """A compact JWS of `payload` by `key`, whatever the header says (by default ES256 and the key's kid)."""
    fields = header if header is not None else {"alg": "ES256", "kid": b64url(key.kid)}
    written = fields if isinstance(fields, bytes) else json.dumps(fields, separators=(",", ":")).encode()
    signing_input = f"{b64url(written)}.{b64url(payload)}"
    signature = key.sign(signing_input.encode("ascii"), key.public.not_before)
    return f"{signing_input}.{b64url(signature)}"


def _time(value: Any) -> Any:
    """A time as the registry writes it; anything else as it is (to write it wrong)."""
    return value.isoformat() if isinstance(value, datetime) else value


def trust_list(
    signer: SigningKey, issued_at: Any = LISTS_AT, keys: list[PublicKey] | None = None, entries: Any = None
) -> dict[str, Any]:
    """A trust list of `keys` (the genuine ones by default), or of raw `entries`."""
    listed = TrustList(world().trusted() if keys is None else keys).to_jwks()["keys"] if entries is None else entries
    body = {"format": TRUST_FORMAT, "issued_at": _time(issued_at), "keys": listed}
    return {**body, "jws": jws(signer, canonical(body))}


def _digests(*serials: int) -> bytes:
    """The revocation list's digests of the world's codes of these serials."""
    return b"".join(digest_of_text(world().codes[serial - 1]) for serial in serials)


def revocations(
    signer: SigningKey,
    issued_at: Any = LISTS_AT,
    since: Any = 0,
    cursor: Any = 7,
    revoked: bytes | None = None,
    listed: dict[str, bytes] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """A revocation list naming World.codes as LISTED says; or naming `listed` (digests by heading), or only the
    `revoked` digests, revoked."""
    if listed is None:
        everything = {heading: _digests(*serials) for heading, serials in LISTED.items()}
        listed = everything if revoked is None else {"revoked": revoked}
    digests = {heading: listed.get(heading, b"") for heading in HEADINGS}
    signed = {"format": REVOCATIONS_FORMAT, "issued_at": _time(issued_at), "since": since, "cursor": cursor}
    signed |= {f"{heading}_sha256": hashlib.sha256(data).hexdigest() for heading, data in digests.items()}
    signed.update(changes)
    return {
        **signed,
        **{heading: base64.b64encode(data).decode("ascii") for heading, data in digests.items()},
        "jws": jws(signer, canonical(signed)),
    }


def resigned(document: dict[str, Any], signer: SigningKey, payload: bytes) -> dict[str, Any]:
    """`document` whose signed part is replaced by `payload`, signed by `signer`."""
    return {**document, "jws": jws(signer, payload)}


def high_s_twin(token: str) -> str:
    """The same JWS with the signature's s replaced by n − s: plain ECDSA accepts both."""
    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    s = int.from_bytes(raw[32:], "big")
    return f"{header}.{payload}.{b64url(raw[:32] + (P256_ORDER - s).to_bytes(32, 'big'))}"


def _payload_of(document: dict[str, Any]) -> dict[str, Any]:
    body = document["jws"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def good_cases(w: World) -> Iterator[ListCase]:
    pin = w.pin()
    yield ListCase("genuine lists", pin, trust_list(w.registry), [revocations(w.registry)], None)
    yield ListCase(
        "signed by the second pinned registry key", pin, trust_list(w.rotated), [revocations(w.rotated)], None
    )
    yield ListCase("signed by a retired registry key", pin, trust_list(w.retired), [revocations(w.retired)], None)
    full = revocations(w.registry, LISTS_AT - timedelta(hours=2), revoked=b"")
    increment = revocations(w.registry, LISTS_AT, since=7, cursor=9)
    yield ListCase("a full revocation list, then an increment", pin, trust_list(w.registry), [full, increment], None)
    yield ListCase(
        "whole numbers written with a fraction",
        pin,
        trust_list(w.registry),
        [revocations(w.registry, since=0.0, cursor=7.0)],
        None,
    )
    ahead = NOW + timedelta(minutes=4)
    yield ListCase(
        "issued 4 minutes ahead of the verifier's clock",
        pin,
        trust_list(w.registry, ahead),
        [revocations(w.registry, ahead)],
        None,
    )
    old = NOW - timedelta(hours=100)
    yield ListCase(
        "100 hours old (how stale is omscode's business)",
        pin,
        trust_list(w.registry, old),
        [revocations(w.registry, old)],
        None,
    )
    without_registry = [key for key in w.trusted() if key.owner != REGISTRY]
    yield ListCase(
        "a trust list that lists no registry key",
        pin,
        trust_list(w.registry, keys=without_registry),
        [revocations(w.registry)],
        None,
    )
    compromised_insurer = [
        key.with_status(KeyStatus.COMPROMISED) if key.kid == w.insurer.kid else key for key in w.trusted()
    ]
    yield ListCase(
        "a trust list that marks the insurer's key compromised",
        pin,
        trust_list(w.registry, keys=compromised_insurer),
        [revocations(w.registry)],
        None,
        ("key_compromised",) * 6 + VERDICTS[6:],
    )
    retired_later = [
        key.with_status(KeyStatus.RETIRED, NOW) if key.kid == w.retired_insurer.kid else key for key in w.trusted()
    ]
    yield ListCase(
        "a trust list that retires the insurer's key after both its codes",
        pin,
        trust_list(w.registry, keys=retired_later),
        [revocations(w.registry)],
        None,
        (*VERDICTS[:6], "valid", "valid"),
    )
    earlier = LISTS_AT - timedelta(hours=2)
    later = {"revoked": _digests(2), "terminated": _digests(4, 6), "superseded": _digests(5)}
    yield ListCase(
        "suspended in the full list, superseded or terminated in an increment",
        pin,
        trust_list(w.registry),
        [
            revocations(w.registry, earlier, cursor=5, listed={"suspended": _digests(3, 5, 6)}),
            revocations(w.registry, since=5, cursor=7, listed=later),
        ],
        None,
    )
    yield ListCase(
        "every code in the full list and again in an increment",
        pin,
        trust_list(w.registry),
        [revocations(w.registry, earlier, cursor=5), revocations(w.registry, since=5, cursor=7)],
        None,
    )
    utc_z = trust_list(w.registry, issued_at="2026-11-23T11:00:00.5Z")
    yield ListCase("times in Z with a fraction", pin, utc_z, [revocations(w.registry)], None)


def key_cases(w: World) -> Iterator[ListCase]:
    """Who signed, and when: the findings of issue 16."""
    pin = w.pin()
    genuine_trust, genuine_revocations = trust_list(w.registry), revocations(w.registry)
    yield ListCase(
        "trust list signed by a key the pin marks compromised",
        pin,
        trust_list(w.stolen),
        [genuine_revocations],
        "key_compromised",
    )
    yield ListCase(
        "revocation list signed by a key the pin marks compromised",
        pin,
        genuine_trust,
        [revocations(w.stolen, revoked=b"")],
        "key_compromised",
    )
    yield ListCase(
        "trust list signed by a key it marks compromised itself",
        pin,
        trust_list(w.stolen_later),
        [genuine_revocations],
        "key_compromised",
    )
    yield ListCase(
        "revocation list signed by a key the trust list marks compromised",
        pin,
        genuine_trust,
        [revocations(w.stolen_later, revoked=b"")],
        "key_compromised",
    )
    yield ListCase(
        "increment signed by a key the trust list marks compromised",
        pin,
        genuine_trust,
        [genuine_revocations, revocations(w.stolen_later, since=7, cursor=8, revoked=b"")],
        "key_compromised",
    )
    insurer_pinned = w.pin(w.insurer.public)
    yield ListCase(
        "trust list signed by an insurer's key pinned by mistake",
        insurer_pinned,
        trust_list(w.insurer),
        [genuine_revocations],
        "not_registry_key",
    )
    yield ListCase(
        "revocation list signed by an insurer's key pinned by mistake",
        insurer_pinned,
        genuine_trust,
        [revocations(w.insurer, revoked=b"")],
        "not_registry_key",
    )
    as_insurer = [replace(w.registry.public, owner=INSURER), *w.trusted()[1:]]
    yield ListCase(
        "trust list that names its signing key an insurer's",
        pin,
        trust_list(w.registry, keys=as_insurer),
        [genuine_revocations],
        "not_registry_key",
    )
    yield ListCase(
        "revocation list signed by a key the trust list names an insurer's",
        pin,
        trust_list(w.rotated, keys=as_insurer),
        [genuine_revocations],
        "not_registry_key",
    )
    yield ListCase(
        "trust list issued after its key's window ended",
        pin,
        trust_list(w.expired),
        [genuine_revocations],
        "outside_key_window",
    )
    yield ListCase(
        "revocation list issued after its key's window ended",
        pin,
        genuine_trust,
        [revocations(w.expired, revoked=b"")],
        "outside_key_window",
    )
    yield ListCase(
        "trust list issued before its key's window starts",
        pin,
        trust_list(w.not_yet),
        [genuine_revocations],
        "outside_key_window",
    )
    after_retirement = REGISTRY_RETIRED_AT + timedelta(minutes=1)
    yield ListCase(
        "trust list signed by a registry key after it retired",
        pin,
        trust_list(w.retired, after_retirement),
        [genuine_revocations],
        "outside_key_window",
    )
    yield ListCase(
        "revocation list signed by a registry key after it retired",
        pin,
        genuine_trust,
        [revocations(w.retired, after_retirement, revoked=b"")],
        "outside_key_window",
    )
    retired_before = [
        w.registry.public.with_status(KeyStatus.RETIRED, LISTS_AT - timedelta(minutes=1)),
        *w.trusted()[1:],
    ]
    yield ListCase(
        "trust list that retires its signing key before its own issue",
        pin,
        trust_list(w.registry, keys=retired_before),
        [genuine_revocations],
        "outside_key_window",
    )
    shortened = [replace(w.registry.public, not_after=LISTS_AT - timedelta(days=1)), *w.trusted()[1:]]
    yield ListCase(
        "trust list that ends its signing key's window before its own issue",
        pin,
        trust_list(w.registry, keys=shortened),
        [genuine_revocations],
        "outside_key_window",
    )
    in_window = KEY_START - timedelta(days=2)
    yield ListCase(
        "lists issued inside their key's window, which has since ended",
        pin,
        trust_list(w.expired, in_window),
        [revocations(w.expired, in_window)],
        "key_expired",
    )
    yield ListCase(
        "revocation list issued inside its key's window, which has since ended",
        pin,
        genuine_trust,
        [revocations(w.expired, in_window, revoked=b"")],
        "key_expired",
    )
    future = NOW + timedelta(minutes=6)
    yield ListCase(
        "trust list issued 6 minutes in the future",
        pin,
        trust_list(w.registry, future),
        [genuine_revocations],
        "issued_in_future",
    )
    yield ListCase(
        "revocation list issued a day in the future",
        pin,
        genuine_trust,
        [revocations(w.registry, NOW + timedelta(days=1), revoked=b"")],
        "issued_in_future",
    )


def signature_cases(w: World) -> Iterator[ListCase]:
    pin = w.pin()
    genuine_trust, genuine_revocations = trust_list(w.registry), revocations(w.registry)
    yield ListCase(
        "signed by a key on no list",
        pin,
        trust_list(w.attacker),
        [genuine_revocations],
        "unknown_key",
    )
    yield ListCase(
        "signed by an insurer's key that is not pinned",
        pin,
        trust_list(w.insurer),
        [genuine_revocations],
        "unknown_key",
    )
    registry_kid = {"alg": "ES256", "kid": b64url(w.registry.kid)}
    yield ListCase(
        "the attacker's signature under the registry's kid",
        pin,
        {**genuine_trust, "jws": jws(w.attacker, canonical(_payload_of(genuine_trust)), registry_kid)},
        [genuine_revocations],
        "bad_signature",
    )
    yield ListCase(
        "high-S twin of a genuine trust list",
        pin,
        {**genuine_trust, "jws": high_s_twin(genuine_trust["jws"])},
        [genuine_revocations],
        "bad_signature",
    )
    yield ListCase(
        "high-S twin of a genuine revocation list",
        pin,
        genuine_trust,
        [{**genuine_revocations, "jws": high_s_twin(genuine_revocations["jws"])}],
        "bad_signature",
    )
    header, payload, signature = genuine_trust["jws"].split(".")
    yield ListCase(
        "signature cut to 63 bytes",
        pin,
        {**genuine_trust, "jws": f"{header}.{payload}.{signature[:-2]}"},
        [genuine_revocations],
        "bad_signature",
    )


def _with_jws(document: dict[str, Any], token: str) -> dict[str, Any]:
    return {**document, "jws": token}


def shape_cases(w: World) -> Iterator[ListCase]:
    """Documents of the wrong shape, most of them signed by the registry's own key all the same."""
    pin = w.pin()
    genuine_trust, genuine_revocations = trust_list(w.registry), revocations(w.registry)
    header, payload, signature = genuine_trust["jws"].split(".")
    payload_bytes = canonical(_payload_of(genuine_trust))
    bom_header = b"\xef\xbb\xbf" + json.dumps({"alg": "ES256", "kid": b64url(w.registry.kid)}).encode()
    malformed: list[tuple[str, Any]] = [
        ("no signature", {key: value for key, value in genuine_trust.items() if key != "jws"}),
        ("not an object", [genuine_trust]),
        ("JWS of two parts", _with_jws(genuine_trust, f"{header}.{payload}")),
        ("alg none", _with_jws(genuine_trust, jws(w.registry, b"{}", {"alg": "none", "kid": b64url(w.registry.kid)}))),
        ("no kid", _with_jws(genuine_trust, jws(w.registry, canonical(_payload_of(genuine_trust)), {"alg": "ES256"}))),
        ("kid not base64url", _with_jws(genuine_trust, jws(w.registry, b"{}", {"alg": "ES256", "kid": "k!d"}))),
        ("header in standard base64", _with_jws(genuine_trust, "77u/" + genuine_trust["jws"])),
        ("header after a byte order mark", _with_jws(genuine_trust, jws(w.registry, payload_bytes, bom_header))),
        ("base64 padding in the JWS", _with_jws(genuine_trust, f"{header}.{payload}=.{signature}")),
        ("white space in the JWS", _with_jws(genuine_trust, f"{header}.{payload[:8]} {payload[8:]}.{signature}")),
    ]
    for label, document in malformed:
        yield ListCase(f"trust list: {label}", pin, document, [genuine_revocations], "malformed")
    body = _payload_of(genuine_trust)
    signed_oddities: list[tuple[str, bytes]] = [
        ("payload an array", b"[]"),
        ("payload in UTF-16", json.dumps(body).encode("utf-16")),
        ("payload after a byte order mark", b"\xef\xbb\xbf" + canonical(body)),
        ("payload with NaN", canonical(body)[:-1] + b',"x":NaN}'),
        ("payload not JSON", b"{"),
    ]
    for label, data in signed_oddities:
        yield ListCase(
            f"trust list: {label}", pin, resigned(genuine_trust, w.registry, data), [genuine_revocations], "malformed"
        )
    for label, issued_at in (
        ("no time zone", "2026-11-23T11:00:00"),
        ("a date only", "2026-11-23"),
        ("a space for the T", "2026-11-23 11:00:00+00:00"),
        ("hour 24", "2026-11-22T24:00:00+00:00"),
        ("30 February", "2026-02-30T11:00:00+00:00"),
        ("an ISO week date", "2026-W47-1T11:00:00+00:00"),
        ("compact form", "20261123T110000Z"),
        ("a number", 1795431600),
        ("Eastern Arabic digits", "٢٠٢٦-11-23T11:00:00+00:00"),
        ("a trailing newline", "2026-11-23T11:00:00+00:00\n"),
        ("no seconds", "2026-11-23T11:00+00:00"),
    ):
        yield ListCase(
            f"trust list issued_at: {label}",
            pin,
            trust_list(w.registry, issued_at=issued_at),
            [genuine_revocations],
            "malformed",
        )
    yield ListCase(
        "a trust list of the first format, whose retired keys do not say when they retired",
        pin,
        resigned(genuine_trust, w.registry, canonical({**body, "format": "oms-trust-list-1"})),
        [genuine_revocations],
        "wrong_format",
    )
    yield ListCase(
        "a revocation list for the trust list", pin, genuine_revocations, [genuine_revocations], "wrong_format"
    )
    yield ListCase("the trust list for a revocation list", pin, genuine_trust, [genuine_trust], "wrong_format")
    yield ListCase("no revocation list", pin, genuine_trust, [], "malformed")
    yield from _content_cases(w, pin, genuine_trust, genuine_revocations)


def _content_cases(
    w: World, pin: dict[str, Any], genuine_trust: dict[str, Any], genuine_revocations: dict[str, Any]
) -> Iterator[ListCase]:
    """What a registry-signed document says, when it says it wrong."""
    keys = TrustList(w.trusted()).to_jwks()["keys"]
    wide_x = {**keys[0], "x": b64url(b"\x00" + base64.urlsafe_b64decode(keys[0]["x"] + "="))}
    retired = next(index for index, key in enumerate(keys) if key["status"] == "retired")
    active = next(index for index, key in enumerate(keys) if key["status"] == "active")

    def with_entry(index: int, entry: dict[str, Any]) -> list[dict[str, Any]]:
        return [entry if place == index else key for place, key in enumerate(keys)]

    unsaid = {name: value for name, value in keys[retired].items() if name != "retired_at"}
    for label, entries in (
        ("keys not a list", {"a": keys}),
        ("a key's x in 33 bytes", [wide_x, *keys[1:]]),
        ("a key with a kid not its own", [{**keys[0], "kid": keys[1]["kid"]}, *keys[1:]]),
        ("a key without a time zone", [{**keys[0], "not_after": "2029-01-01T00:00:00"}, *keys[1:]]),
        ("a key of unknown status", [{**keys[0], "status": "revoked"}, *keys[1:]]),
        ("a key owned by a number", [{**keys[0], "insurer": 77001}, *keys[1:]]),
        ("a retired key that does not say when it retired", with_entry(retired, unsaid)),
        ("a retired key retired at no time", with_entry(retired, {**keys[retired], "retired_at": None})),
        ("a retired key retired yesterday", with_entry(retired, {**keys[retired], "retired_at": "yesterday"})),
        (
            "a retired key retired on 30 February",
            with_entry(retired, {**keys[retired], "retired_at": "2026-02-30T00:00:00Z"}),
        ),
        ("an active key that says it retired", with_entry(active, {**keys[active], "retired_at": NOW.isoformat()})),
        ("an active key with a null retirement", with_entry(active, {**keys[active], "retired_at": None})),
    ):
        yield ListCase(
            f"trust list: {label}", pin, trust_list(w.registry, entries=entries), [genuine_revocations], "bad_key_entry"
        )
    for label, since, cursor in (
        ("starts at 5", 5, 9),
        ("since true", True, 7),
        ("since as text", "0", 7),
        ("cursor below since", 0, -1),
        ("cursor 7.5", 0, 7.5),
        ("cursor past 2^53", 0, 2**53),
        ("cursor missing", 0, None),
    ):
        yield ListCase(
            f"revocation list: {label}",
            pin,
            genuine_trust,
            [revocations(w.registry, since=since, cursor=cursor)],
            "bad_cursor",
        )
    yield ListCase(
        "an increment that does not follow",
        pin,
        genuine_trust,
        [genuine_revocations, revocations(w.registry, since=6, cursor=9)],
        "bad_cursor",
    )
    emptied = {**genuine_revocations, "revoked": ""}
    spaced = {
        **genuine_revocations,
        "revoked": genuine_revocations["revoked"][:4] + " " + genuine_revocations["revoked"][4:],
    }
    odd = revocations(w.registry, revoked=_digests(2)[:5])
    unsuspended = {**genuine_revocations, "suspended": base64.b64encode(_digests(3, 5)).decode("ascii")}
    for label, document in (
        ("a suspended digest dropped", unsuspended),
        (
            "terminated digests missing",
            {key: value for key, value in genuine_revocations.items() if key != "terminated"},
        ),
        ("a terminated digest moved to superseded", _moved(genuine_revocations, "terminated", "superseded")),
        ("a revoked digest dropped", emptied),
        ("digests as a list", {**genuine_revocations, "revoked": [genuine_revocations["revoked"]]}),
        ("white space in the digests", spaced),
        ("digests not whole", odd),
        ("digests missing", {key: value for key, value in genuine_revocations.items() if key != "revoked"}),
    ):
        yield ListCase(f"revocation list: {label}", pin, genuine_trust, [document], "bad_digests")


def _moved(document: dict[str, Any], heading: str, to: str) -> dict[str, Any]:
    """`document` with the digests under `heading` put under `to` instead, its signed hashes left as they were."""
    return {
        **document,
        heading: "",
        to: base64.b64encode(base64.b64decode(document[to]) + base64.b64decode(document[heading])).decode("ascii"),
    }


def pin_cases(w: World) -> Iterator[ListCase]:
    genuine_trust, genuine_revocations = trust_list(w.registry), revocations(w.registry)
    for label, pin in (
        ("an empty pin", {"keys": []}),
        ("a pin that is not a key set", [w.pin()]),
        ("a pin with a damaged key", {"keys": [{**w.pin()["keys"][0], "y": w.pin()["keys"][0]["x"]}]}),
    ):
        yield ListCase(label, pin, genuine_trust, [genuine_revocations], "bad_pin")


FAMILIES: tuple[Callable[[World], Iterator[ListCase]], ...] = (
    good_cases,
    key_cases,
    signature_cases,
    shape_cases,
    pin_cases,
)


@cache
def list_corpus() -> tuple[ListCase, ...]:
    w = world()
    cases = tuple(case for family in FAMILIES for case in family(w))
    assert len({case.label for case in cases}) == len(cases), "labels name cases in reports: one each"
    return cases
