"""The rule for the registry's published lists (docs/code-format.md, "Published lists").

A clinic believes a trust list or a revocation list only when a registry key it
pinned signed it, while that key was good, and said it the documented way.
omscode applies the rule here; static/js/clinic-offline.js applies the same
steps in the same order, with the same reasons; tests/security/list_corpus.py
holds both to one corpus.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from policy_codes.codec import CLOCK_SKEW
from policy_codes.revocation import DIGEST_BYTES
from policy_codes.words import N_, translate
from signing import KeyStatus, PublicKey, SigningError, TrustList
from signing.jws import loads_json, parse_compact
from signing.trust_list import parse_instant

#: The second trust-list format: a retired key says when it retired (docs/code-format.md says why it is a new one).
TRUST_LIST_FORMAT = "oms-trust-list-2"
REVOCATIONS_FORMAT = "oms-revocations-2"
#: The revocation list's headings, each a list of digests named for the verdict of a code it lists. A code listed
#: under several reads the first: a suspended code is later superseded (its policy resumed) or terminated, and
#: revoked, superseded and terminated are final, a code reaching at most one of them.
HEADINGS = ("revoked", "terminated", "superseded", "suspended")
REGISTRY_OWNER = "registry"
#: How far ahead of the verifier's clock a list may be dated: as far as a live code (policy_codes/codec.py).
MAX_CLOCK_SKEW = CLOCK_SKEW
#: Past this age omscode refuses the lists (unless told --allow-stale) and the reception page warns.
STALE_AFTER = timedelta(hours=72)
#: Cursors are whole numbers a browser holds exactly.
MAX_CURSOR = 2**53 - 1
#: Padded standard base64, whole (fullmatch), as the revocation list carries its digests.
BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


class ListRefusal(StrEnum):
    """Why lists are refused: the rule's reasons in its order, then omscode's own (age and replay)."""

    BAD_PIN = "bad_pin"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_FORMAT = "wrong_format"
    BAD_KEY_ENTRY = "bad_key_entry"
    BAD_CURSOR = "bad_cursor"
    BAD_DIGESTS = "bad_digests"
    NOT_REGISTRY_KEY = "not_registry_key"
    OUTSIDE_KEY_WINDOW = "outside_key_window"
    KEY_COMPROMISED = "key_compromised"
    KEY_EXPIRED = "key_expired"
    ISSUED_IN_FUTURE = "issued_in_future"
    OLDER_TRUST_LIST = "older_trust_list"
    OLDER_REVOCATIONS = "older_revocations"
    STALE = "stale"

    def message(self, language: str = "ru") -> str:
        """Why, in `language` ("ru" or "en"; Russian otherwise)."""
        return translate(MESSAGES[self], language)


MESSAGES: dict[ListRefusal, str] = {
    ListRefusal.BAD_PIN: N_("закреплённый ключ реестра пуст или повреждён"),
    ListRefusal.MALFORMED: N_("документ повреждён или не того вида, что описан"),
    ListRefusal.UNKNOWN_KEY: N_("список подписан ключом, который не закреплён как ключ реестра"),
    ListRefusal.BAD_SIGNATURE: N_("подпись списка не совпадает: список подделан или изменён"),
    ListRefusal.WRONG_FORMAT: N_("документ — не тот список, что ожидался"),
    ListRefusal.BAD_KEY_ENTRY: N_("в списке доверенных ключей повреждён ключ"),
    ListRefusal.BAD_CURSOR: N_("список отзыва не продолжает предыдущий"),
    ListRefusal.BAD_DIGESTS: N_("записи списка отзыва не совпадают с подписанными"),
    ListRefusal.NOT_REGISTRY_KEY: N_("список подписан ключом, который принадлежит не реестру"),
    ListRefusal.OUTSIDE_KEY_WINDOW: N_("список выпущен вне срока действия ключа реестра"),
    ListRefusal.KEY_COMPROMISED: N_("список подписан скомпрометированным ключом реестра"),
    ListRefusal.KEY_EXPIRED: N_("срок действия ключа реестра, подписавшего список, истёк"),
    ListRefusal.ISSUED_IN_FUTURE: N_("список датирован будущим временем: проверьте часы этого компьютера"),
    ListRefusal.OLDER_TRUST_LIST: N_("список доверенных ключей старше уже принятого"),
    ListRefusal.OLDER_REVOCATIONS: N_("список отзыва старше уже принятого"),
    ListRefusal.STALE: N_("спискам больше 72 часов: загрузите свежие (или запустите с --allow-stale)"),
}


class BadList(Exception):
    """The lists are refused, for `reason`."""

    def __init__(self, reason: ListRefusal, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Held:
    """What a verifier keeps of the newest lists it accepted, to refuse older ones."""

    trust_list_issued_at: datetime
    revocations_issued_at: datetime
    revocations_cursor: int


@dataclass(frozen=True)
class PublishedLists:
    """What a trust list and its revocation documents say, once the rule has accepted them."""

    trust_list: TrustList
    trust_list_issued_at: datetime
    #: The digests under each of HEADINGS.
    listed: dict[str, frozenset[bytes]]
    cursor: int
    revocations_issued_at: datetime

    @property
    def held(self) -> Held:
        return Held(self.trust_list_issued_at, self.revocations_issued_at, self.cursor)

    @property
    def issued_at(self) -> datetime:
        """When the older of the two lists was issued: what they say holds as of then."""
        return min(self.trust_list_issued_at, self.revocations_issued_at)

    def age(self, now: datetime) -> timedelta:
        """How old the older of the two lists is."""
        return now - self.issued_at

    def heading_of(self, digest: bytes) -> str | None:
        """The heading a withdrawn code is listed under (the first of HEADINGS naming it), or None."""
        return next((heading for heading in HEADINGS if digest in self.listed[heading]), None)


@dataclass(frozen=True)
class _Signed:
    kid: bytes
    payload: dict[str, Any]
    issued_at: datetime


def read_pin(document: Any) -> list[PublicKey]:
    """The registry keys a clinic pinned (a JWKS, as `flask keys registry-jwks` prints it)."""
    try:
        keys = list(TrustList.from_jwks(document))
    except SigningError as error:
        raise BadList(ListRefusal.BAD_PIN, str(error)) from error
    if not keys:
        raise BadList(ListRefusal.BAD_PIN, "no key is pinned")
    return keys


def read_lists(
    trust_document: Any, revocation_documents: list[Any], pinned: list[PublicKey], now: datetime
) -> PublishedLists:
    """The trust list, then the revocation list (a full one, then any increments in order), by the rule."""
    if not pinned:
        raise BadList(ListRefusal.BAD_PIN, "no key is pinned")
    pins = {key.kid: key for key in pinned}
    moment = now.replace(microsecond=now.microsecond // 1000 * 1000)  # a browser's clock keeps milliseconds
    trust = _signed(trust_document, pins, TRUST_LIST_FORMAT)
    try:
        trust_list = TrustList.from_jwks(trust.payload)
    except SigningError as error:
        raise BadList(ListRefusal.BAD_KEY_ENTRY, str(error)) from error
    _judge_signer(trust, (pins[trust.kid], trust_list.get(trust.kid)), moment)
    if not revocation_documents:
        raise BadList(ListRefusal.MALFORMED, "a revocation list is needed")
    listed: dict[str, set[bytes]] = {heading: set() for heading in HEADINGS}
    cursor = 0
    for document in revocation_documents:
        revocations = _signed(document, pins, REVOCATIONS_FORMAT)
        cursor = _next_cursor(revocations.payload, cursor)
        for heading in HEADINGS:
            listed[heading] |= _digests(document, revocations.payload, heading)
        _judge_signer(revocations, (pins[revocations.kid], trust_list.get(revocations.kid)), moment)
    return PublishedLists(
        trust_list,
        trust.issued_at,
        {heading: frozenset(digests) for heading, digests in listed.items()},
        cursor,
        revocations.issued_at,
    )


def refuse_older(held: Held | None, lists: PublishedLists) -> None:
    """`BadList` if `lists` are older than those `held` (a replay); the same lists again are fine."""
    if held is None:
        return
    if lists.trust_list_issued_at < held.trust_list_issued_at:
        raise BadList(ListRefusal.OLDER_TRUST_LIST, f"accepted before: {held.trust_list_issued_at.isoformat()}")
    if lists.cursor < held.revocations_cursor or lists.revocations_issued_at < held.revocations_issued_at:
        raise BadList(
            ListRefusal.OLDER_REVOCATIONS,
            f"accepted before: {held.revocations_issued_at.isoformat()}, cursor {held.revocations_cursor}",
        )


def _signed(document: Any, pins: dict[bytes, PublicKey], expected_format: str) -> _Signed:
    """Steps 1 to 4: the JWS, its key, its signature, and the signed part's format and date."""
    if not isinstance(document, dict) or not isinstance(document.get("jws"), str):
        raise BadList(ListRefusal.MALFORMED, "the document carries no signature")
    try:
        jws = parse_compact(document["jws"])
    except SigningError as error:
        raise BadList(ListRefusal.MALFORMED, str(error)) from error
    key = pins.get(jws.kid)
    if key is None:
        raise BadList(ListRefusal.UNKNOWN_KEY, jws.kid.hex())
    try:
        key.verify(jws.signature, jws.signing_input)
    except SigningError as error:
        raise BadList(ListRefusal.BAD_SIGNATURE, jws.kid.hex()) from error
    try:
        payload = loads_json(jws.payload)
    except (ValueError, RecursionError) as error:
        raise BadList(ListRefusal.MALFORMED, "the signed part is not JSON") from error
    if not isinstance(payload, dict):
        raise BadList(ListRefusal.MALFORMED, "the signed part is not an object")
    if payload.get("format") != expected_format:
        raise BadList(ListRefusal.WRONG_FORMAT, f"not {expected_format}")
    try:
        issued_at = parse_instant(payload.get("issued_at"))
    except SigningError as error:
        raise BadList(ListRefusal.MALFORMED, "issued_at is not a time of the documented form") from error
    return _Signed(jws.kid, payload, issued_at)


def _judge_signer(signed: _Signed, descriptions: Iterable[PublicKey | None], now: datetime) -> None:
    """Steps 6 and 7: the signing key as the pin describes it and as the trust list does, then the date."""
    for key in descriptions:
        if key is None:  # the trust list need not list the registry's keys
            continue
        if key.owner != REGISTRY_OWNER:
            raise BadList(ListRefusal.NOT_REGISTRY_KEY, f"{key.kid.hex()} is {key.owner}'s")
        if not key.signed_in_window(signed.issued_at):
            raise BadList(ListRefusal.OUTSIDE_KEY_WINDOW, key.kid.hex())
        if key.status is KeyStatus.COMPROMISED:
            raise BadList(ListRefusal.KEY_COMPROMISED, key.kid.hex())
        if now > key.not_after:
            raise BadList(ListRefusal.KEY_EXPIRED, key.kid.hex())
    if signed.issued_at > now + MAX_CLOCK_SKEW:
        raise BadList(ListRefusal.ISSUED_IN_FUTURE, signed.issued_at.isoformat())


def _whole(value: Any) -> int | None:
    """A whole number from 0 to 2^53 − 1 (7.0 as 7, as a browser reads JSON), or None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CURSOR:
        return None
    return value


def _next_cursor(payload: dict[str, Any], cursor: int) -> int:
    since, reached = _whole(payload.get("since")), _whole(payload.get("cursor"))
    if since != cursor or reached is None or reached < since:
        raise BadList(ListRefusal.BAD_CURSOR, f"an increment must start at cursor {cursor}")
    return reached


def _digests(document: dict[str, Any], payload: dict[str, Any], field: str) -> set[bytes]:
    text = document.get(field)
    if not isinstance(text, str) or not BASE64.fullmatch(text):
        raise BadList(ListRefusal.BAD_DIGESTS, f"{field} is not base64")
    raw = base64.b64decode(text)
    if len(raw) % DIGEST_BYTES or hashlib.sha256(raw).hexdigest() != payload.get(f"{field}_sha256"):
        raise BadList(ListRefusal.BAD_DIGESTS, f"{field} does not match its signed hash")
    return {raw[index : index + DIGEST_BYTES] for index in range(0, len(raw), DIGEST_BYTES)}
