"""One function from scanned input to a verdict, checked against the registry.

The clinic pages and the JSON API both call `verify_scan`. It accepts what a
scanner can produce: our signed code (static or live, in any keyboard layout),
the 16 digits of a Code128 or typed by hand, or the bytes of a legacy paper
policy. It never raises for bad input: every input gets exactly one verdict.

Every read of one verification comes from one database: a read replica within
MAX_REPLICA_LAG of the primary, or the primary (webapp/db/published_reads.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, literal_column, select

from policy_codes import (
    CodeError,
    CodeKind,
    Enp,
    InvalidValue,
    MalformedCode,
    PolicyClaims,
    UnknownKey,
    Verdict,
    VerifiedCode,
    decode,
    looks_like_legacy,
    normalise_scanned,
    parse_legacy,
)
from policy_codes.enp import ENP_LENGTH
from policy_codes.errors import shown_by
from policy_codes.legacy import LEGACY_LENGTH
from policy_codes.verdicts import NEWBORN_NUMBER_FOUND, Cause, Shown
from policy_codes.words import translate
from signing import KeyStatus
from webapp.db import published_reads, worker_state
from webapp.db.published_reads import PublishedReads, ReadSession
from webapp.models import (
    CodeStatus,
    EnpDirectory,
    Insurer,
    IssuedCode,
    Person,
    Policy,
    PolicyStatus,
    Region,
    SigningKeyRecord,
    StatusCause,
)
from webapp.registry.clock import today_in_moscow
from webapp.registry.codes import REGISTRY_SEX, text_hash
from webapp.registry.keys import keystore
from webapp.registry.people import by_enp, newborn_cover, newborn_cover_ended_on, open_policy

_DIGITS = re.compile(f"[0-9]{{{ENP_LENGTH}}}")


@dataclass(frozen=True)
class Holder:
    """What reception matches against the ID document."""

    name: str
    birth_date: date
    #: Only the last four digits: what a clinic's history may keep.
    masked_enp: str


@dataclass(frozen=True)
class PolicyInfo:
    kind: str
    insurer_code: str
    insurer_name: str
    valid_from: date
    valid_to: date | None
    status: str


@dataclass(frozen=True)
class VerificationResult:
    verdict: Verdict
    shown: Shown
    checked_at: datetime
    holder: Holder | None = None
    policy: PolicyInfo | None = None
    #: For `legacy_paper`: the registry's verdict for that number.
    registry_verdict: Verdict | None = None
    #: Extra facts for the desk, e.g. "newborn_cover" or "signature_not_checked".
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Why the registry withdrew the code, when the verdict alone would mislead: a `superseded` code whose
    #: holder's data changed (the policy stands; ask for the new code).
    cause: Cause | None = None


@dataclass(frozen=True)
class RegistryLookUp(VerificationResult):
    """A number look-up's result (a typed ЕНП, a Code128, a 2011 paper): the registry's record, with what the
    desk checks about a newborn with no policy of their own. A subclass, so that the signed-code path, which
    never covers a newborn, builds its results with no field more."""

    #: The last day (inclusive) of a newborn's cover by the representative's policy: while it lasts
    #: ("newborn_cover"), or, once it ran out, the day it ended ("newborn_cover_ended").
    newborn_cover_until: date | None = None


def message(result: VerificationResult, language: str = "ru") -> str:
    """The verdict's message, in the words that fit what was shown: for a newborn covered by their representative's
    policy, not «полис действующий», which the child does not have yet."""
    if result.shown is Shown.NUMBER and "newborn_cover" in result.notes:
        return translate(NEWBORN_NUMBER_FOUND, language)
    return result.verdict.message(language, result.shown, result.cause)


def headline(result: VerificationResult, language: str = "ru") -> str:
    """A word or two for the top of the verdict. A 2011 paper's signature is never checked, so its headline
    is the registry's verdict for its number, if the paper is read and its name is the registry's."""
    if result.registry_verdict is not None:
        return result.registry_verdict.headline(language, Shown.NUMBER)
    return result.verdict.headline(language, result.shown, result.cause)


def registry_message(result: VerificationResult, language: str = "ru") -> str:
    """The registry's status for a legacy paper, in a paper's words: «По реестру полис действующий»."""
    return result.registry_verdict.message(language, Shown.LEGACY_PAPER) if result.registry_verdict else ""


def is_number_look_up(scanned: str | bytes) -> bool:
    """Whether `verify_scan` answers this input with the registry's record for a number (a typed ЕНП, a Code128,
    a legacy paper) rather than from a signed code: what the clinics' look-up limits count, before the look-up."""
    return _legacy_bytes(scanned) is not None or _number(_text(scanned)) is not None


def verify_scan(scanned: str | bytes, now: datetime | None = None) -> VerificationResult:
    moment = now or datetime.now(UTC)
    return published_reads.run(lambda reads: _verify(scanned, moment, reads))


def _verify(scanned: str | bytes, moment: datetime, reads: PublishedReads) -> VerificationResult:
    legacy = _legacy_bytes(scanned)
    if legacy is not None:
        return _verify_legacy(legacy, moment, reads.session)
    text = _text(scanned)
    digits = _number(text)
    if digits is not None:
        return _verify_number(digits, moment, reads.session)
    try:
        verified = _decode(text, moment, reads.session)
    except CodeError as error:
        return VerificationResult(error.verdict, shown_by(error), moment)
    return _verify_signed(verified, moment, reads)


def _verify_signed(verified: VerifiedCode, moment: datetime, reads: PublishedReads) -> VerificationResult:
    """A code whose signature checked out under a key of the trust list: now the registry's word on it."""
    claims = verified.claims
    shown = Shown.LIVE_CODE if claims.kind is CodeKind.LIVE else Shown.STATIC_CODE
    signer = verified.key.kid.hex()
    row = _registry_row(claims, signer, reads)
    if row is None and reads.engine is not None:
        # Signed by a key of the registry's, yet not on the replica: as a rule, issued within its lag (a new code, the
        # live codes drawn from it). The primary has it; only a code with a good signature costs it this read.
        return _verify_signed(verified, moment, published_reads.ON_PRIMARY)
    if row is None:
        compromised = _signer_status(signer, reads.session) == KeyStatus.COMPROMISED
        return VerificationResult(Verdict.KEY_COMPROMISED if compromised else Verdict.NOT_FOUND, shown, moment)
    if row.signer_status == KeyStatus.COMPROMISED:  # read now, not from this worker's cached trust list
        return VerificationResult(Verdict.KEY_COMPROMISED, shown, moment)
    if not _signed_as_issued(verified, row):
        return VerificationResult(Verdict.FORGED, shown, moment)
    holder = Holder(claims.name.display(), claims.birth_date, claims.enp.masked())
    info = PolicyInfo(row.kind, row.insurer_code, row.insurer_name, row.valid_from, row.valid_to, row.policy_status)
    if row.code_status == CodeStatus.REVOKED:
        return VerificationResult(Verdict.REVOKED, shown, moment, holder, info)
    if row.code_status == CodeStatus.SUPERSEDED:
        cause = Cause.DATA_CHANGED if row.status_cause == StatusCause.DATA_CHANGE else None
        return VerificationResult(Verdict.SUPERSEDED, shown, moment, holder, info, cause=cause)
    return VerificationResult(_policy_verdict(info, moment), shown, moment, holder, info)


def _signed_as_issued(verified: VerifiedCode, row: Any) -> bool:
    """Whether the registry issued this code, or (a live code) would sign it now.

    A static code must be, byte for byte, the text the registry issued under that (ЕНП, serial): so
    its key, kind, dates and every other claim are the registry's, and a stolen key signing the
    same serial again, or with other claims, is caught. A live code is signed afresh every 30 s, by
    the insurer's newest key: its key must be one of the insurer's that was not retired before the
    code was signed, and, while its serial is current, its claims must be the registry's own.
    """
    claims = verified.claims
    if row.insurer_code != claims.insurer_code:  # another insurer's good signature over a serial it did not issue
        return False
    if claims.kind is not CodeKind.LIVE:
        return text_hash(verified.text) == row.text_hash
    if row.signer_status == KeyStatus.RETIRED and claims.issued_at > row.signer_changed_at:
        return False
    if row.code_status != CodeStatus.CURRENT:
        return True  # withdrawn: the verdict says so, whatever the claims
    registry = (
        (row.surname, row.given_name, row.patronymic),
        row.birth_date,
        REGISTRY_SEX[row.sex],
        row.valid_from,
        row.valid_to,
    )
    return (claims.name.parts(), claims.birth_date, claims.sex, claims.valid_from, claims.valid_to) == registry


def _registry_row(claims: PolicyClaims, signer: str, reads: PublishedReads) -> Any:
    """The registry's row for a code, read in the region of the insurer the code names: one region's
    partitions on PostgreSQL (docs/scaling.md). A person who has since moved to another region's insurer
    has their rows there: on a miss, the ЕНП directory names the region to read again (two more reads, for
    a rare code)."""
    enp, live = str(claims.enp), claims.kind is CodeKind.LIVE
    region = _insurer_region(claims.insurer_code, reads.session)
    params = {"enp": enp, "serial": claims.serial, "signer": signer}
    row = reads.first_row(registry_read(region, live), params)
    if row is not None:
        return row
    moved = reads.session.scalar(select(EnpDirectory.region_code).where(EnpDirectory.enp == enp))
    return reads.first_row(registry_read(moved, live), params) if moved not in (None, region) else None


def _insurer_region(insurer_code: str, session: ReadSession) -> str:
    """The code of the insurer's region, kept by this worker (`insurer_regions`, webapp/db/worker_state.py)."""
    known = worker_state.current().insurer_regions
    if insurer_code not in known:
        region = session.scalar(
            select(Region.code).join(Insurer, Insurer.region_id == Region.id).where(Insurer.code == insurer_code)
        )
        known[insurer_code] = region or ""
    return known[insurer_code]


#: A region's code as the registry keeps it (webapp/registry/organisations.py), or "" for none.
_REGION = re.compile("[0-9]{2}|")


@functools.cache
def registry_read(region: str, live: bool = False) -> Select[Any]:
    """Everything a verdict needs about one code and the key that signed the scanned text, in one indexed query,
    in one region: every table's partition key is given, so PostgreSQL reads that region's partitions only.

    A static code is compared with what the registry issued by its text's hash alone, so its read leaves out
    what only a live code's claims are compared with (`_signed_as_issued`): the holder's details and when
    the key retired. Six columns fewer cost the worker ~25,000 instructions less a verification.

    The region is written into the SQL, one statement per region and kind of read (172 at most, made once per
    process), not passed as a parameter: PostgreSQL then leaves the other regions' partitions out when it
    plans, and a prepared statement keeps that plan. With the region as a parameter each read was planned over every
    partition again, ~1 ms a read against ~50 µs (docs/scaling.md).
    """
    if not _REGION.fullmatch(region):
        raise ValueError(f"not a region code: {region!r}")
    here = literal_column(f"'{region}'")
    columns = [
        IssuedCode.status.label("code_status"),
        IssuedCode.status_cause,
        IssuedCode.text_hash,
        SigningKeyRecord.status.label("signer_status"),
        Policy.kind,
        Policy.valid_from,
        Policy.valid_to,
        Policy.status.label("policy_status"),
        Insurer.code.label("insurer_code"),
        Insurer.name.label("insurer_name"),
    ]
    if live:
        columns += [
            SigningKeyRecord.changed_at.label("signer_changed_at"),
            Person.surname,
            Person.given_name,
            Person.patronymic,
            Person.birth_date,
            Person.sex,
        ]
    return (
        select(*columns)
        .select_from(IssuedCode)
        .join(Person, and_(IssuedCode.person_id == Person.id, Person.region_code == here))
        .join(Policy, and_(IssuedCode.policy_id == Policy.id, Policy.region_code == here))
        .join(Insurer, Policy.insurer_id == Insurer.id)
        .join(SigningKeyRecord, SigningKeyRecord.kid == bindparam("signer"))
        .where(IssuedCode.region_code == here, Person.enp == bindparam("enp"), IssuedCode.serial == bindparam("serial"))
    )


def _signer_status(kid: str, session: ReadSession) -> str | None:
    return session.scalar(select(SigningKeyRecord.status).where(SigningKeyRecord.kid == kid))


def _decode(text: str, moment: datetime, session: ReadSession) -> VerifiedCode:
    """Decode against the cached trust list; reload it if the registry has a key the cache lacks.

    A made-up key id costs one indexed look-up, never a reload.
    """
    try:
        return decode(text, keystore.cached_trust_list(), moment)
    except UnknownKey as error:
        if not session.scalar(select(SigningKeyRecord.id).where(SigningKeyRecord.kid == error.kid.hex())):
            raise
        return decode(text, keystore.cached_trust_list(refresh=True, session=session), moment)


def _is_latin1(text: str) -> bool:
    return len(text) == LEGACY_LENGTH and all(ord(char) < 256 for char in text)


def _legacy_bytes(scanned: str | bytes) -> bytes | None:
    """The bytes of a legacy paper barcode, as a scanner sends them (bytes, or a 130-character Latin-1 string)."""
    data = scanned.encode("latin-1") if isinstance(scanned, str) and _is_latin1(scanned) else scanned
    return data if isinstance(data, bytes) and looks_like_legacy(data) else None


def _text(scanned: str | bytes) -> str:
    return scanned if isinstance(scanned, str) else scanned.decode("utf-8", errors="replace")


def _number(text: str) -> str | None:
    """The 16 digits of a Code128 or a typed number, in any keyboard layout, spaced or dashed (7700-0000-…).

    Counted first: 16 characters besides spaces and dashes, as normalising maps each character to at least one and
    never to a digit, so a signed code's few hundred are not normalised only to be told apart (every API request
    asks).
    """
    stripped = text.strip()
    if len(stripped) - stripped.count(" ") - stripped.count("-") != ENP_LENGTH:
        return None
    digits = normalise_scanned(stripped).replace(" ", "").replace("-", "")
    return digits if _DIGITS.fullmatch(digits) else None


def _policy_info(policy: Policy) -> PolicyInfo:
    return PolicyInfo(
        kind=policy.kind,
        insurer_code=policy.insurer.code,
        insurer_name=policy.insurer.name,
        valid_from=policy.valid_from,
        valid_to=policy.valid_to,
        status=policy.status,
    )


#: A policy's verdict by its status, when it is not active.
_WITHDRAWN = {
    PolicyStatus.SUSPENDED: Verdict.SUSPENDED,
    PolicyStatus.TERMINATED: Verdict.TERMINATED,
    PolicyStatus.CLOSED: Verdict.SUPERSEDED,
}


def _policy_verdict(policy: PolicyInfo, now: datetime) -> Verdict:
    """The registry's own view of a policy, today. A status it does not know is an error, never `valid`.

    The status is compared as it was read (a str; a StrEnum member is equal to its value), not made a member
    first: calling the enum cost every verification ~4,000 instructions."""
    if policy.status != PolicyStatus.ACTIVE:
        return _WITHDRAWN[policy.status]
    today = today_in_moscow(now)
    if (policy.valid_to is not None and today > policy.valid_to) or today < policy.valid_from:
        return Verdict.EXPIRED
    return Verdict.VALID


def _registry_verdict(
    person: Person, now: datetime, session: ReadSession
) -> tuple[Verdict, Policy | None, tuple[str, ...], date | None]:
    """The registry's verdict for a person, the policy it goes by, notes for the desk, and the last day of a
    newborn's cover by the representative's policy (while it lasts, or once it ran out)."""
    policy = open_policy(person, session)
    if policy is not None:
        return _policy_verdict(_policy_info(policy), now), policy, (), None
    today = today_in_moscow(now)
    cover = newborn_cover(person, today, session)
    if cover is not None:
        return Verdict.VALID, open_policy(cover.representative, session), ("newborn_cover",), cover.last_day
    if person.birth_registered_on is not None:
        return Verdict.EXPIRED, None, ("newborn_cover_ended",), newborn_cover_ended_on(person, today, session)
    return Verdict.NOT_FOUND, None, (), None


def _lookup(enp: str, session: ReadSession) -> Person | None:
    return session.scalar(select(Person).where(by_enp(enp, session)))


def _verify_number(digits: str, now: datetime, session: ReadSession) -> VerificationResult:
    """A Code128 or a typed number: a registry look-up, not a signed credential."""
    try:
        enp = Enp(digits)
    except InvalidValue:
        return VerificationResult(Verdict.MALFORMED, Shown.NUMBER, now)
    person = _lookup(str(enp), session)
    if person is None:
        return VerificationResult(Verdict.NOT_FOUND, Shown.NUMBER, now)
    verdict, policy, notes, cover_until = _registry_verdict(person, now, session)
    holder = Holder(person.name.display(), person.birth_date, enp.masked())
    info = policy and _policy_info(policy)
    return RegistryLookUp(verdict, Shown.NUMBER, now, holder, info, notes=notes, newborn_cover_until=cover_until)


def _without_yo(parts: tuple[str, str, str]) -> tuple[str, ...]:
    """Papers of 2011 often print Е for Ё, where the registry keeps Ё: the two are the same name here."""
    return tuple(part.replace("Ё", "Е") for part in parts)


def _verify_legacy(data: bytes, now: datetime, session: ReadSession) -> VerificationResult:
    """The 2011 paper policy: its signature cannot be checked, so the registry decides everything.

    Anyone can print such a barcode with a real number beside any name: the paper's name and birth
    date must be the registry's, or it is `forged`; the holder shown is always the registry's.
    """
    try:
        legacy = parse_legacy(data)
    except MalformedCode:
        return VerificationResult(Verdict.MALFORMED, Shown.LEGACY_PAPER, now)
    notes = ("signature_not_checked",)
    person = _lookup(str(legacy.enp), session)
    if person is None:
        return VerificationResult(Verdict.LEGACY_PAPER, Shown.LEGACY_PAPER, now, None, None, Verdict.NOT_FOUND, notes)
    if _without_yo(legacy.name.parts()) != _without_yo(person.name.parts()) or legacy.birth_date != person.birth_date:
        return VerificationResult(Verdict.FORGED, Shown.LEGACY_PAPER, now, notes=notes)
    holder = Holder(person.name.display(), person.birth_date, legacy.enp.masked())
    verdict, policy, more, cover_until = _registry_verdict(person, now, session)
    info = policy and _policy_info(policy)
    return RegistryLookUp(
        Verdict.LEGACY_PAPER, Shown.LEGACY_PAPER, now, holder, info, verdict, notes + more, cover_until
    )
