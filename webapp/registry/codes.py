"""From registry rows to signed codes: the claims a person's code carries."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from datetime import date, datetime

from policy_codes import CodeKind, Enp, FullName, PolicyClaims, Sex, encode
from policy_codes.codec import LIVE_CODE_LIFETIME, moscow_date
from policy_codes.render import qr_png, qr_svg
from signing import SigningKey
from webapp.models import IssuedCode, Person, Policy, PolicyKind, PolicyStatus
from webapp.registry.errors import N_, RegistryError
from webapp.registry.keys import keystore
from webapp.registry.rules import in_force

#: A static code's picture changes only when the code does, so each worker draws each one once, for
#: the citizen's pages and the PDF extract alike. (Live codes are new every time: plain `qr_svg`.)
static_qr_svg = functools.lru_cache(maxsize=512)(qr_svg)
static_qr_png = functools.lru_cache(maxsize=512)(qr_png)

_KINDS = {PolicyKind.POLICY: CodeKind.POLICY, PolicyKind.TEMPORARY_CERTIFICATE: CodeKind.TEMPORARY_CERTIFICATE}
#: Sex as the registry writes it, and as a code carries it.
REGISTRY_SEX = {"M": Sex.MALE, "F": Sex.FEMALE}


def make_claims(
    enp: str | Enp,
    name: FullName,
    birth_date: date,
    sex: str,
    insurer_code: str,
    kind: PolicyKind,
    valid_from: date,
    valid_to: date | None,
    serial: int,
    issued_at: datetime,
) -> PolicyClaims:
    """Claims from registry values (sex as the registry writes it, "M" or "F")."""
    return PolicyClaims(
        enp=enp if isinstance(enp, Enp) else Enp(enp),
        serial=serial,
        kind=_KINDS[kind],
        insurer_code=insurer_code,
        name=name,
        birth_date=birth_date,
        sex=REGISTRY_SEX[sex],
        valid_from=valid_from,
        valid_to=valid_to,
        issued_at=issued_at,
    )


def claims_for(person: Person, policy: Policy, serial: int, issued_at: datetime) -> PolicyClaims:
    """What the code of `person` under `policy` says. Only an active policy gets a code, static or live: a suspended
    or terminated one's would be on no revocation list, and offline verifiers would take it for valid."""
    if policy.status != PolicyStatus.ACTIVE:
        raise RegistryError(N_("Действие полиса приостановлено или прекращено: новый код не выпускается"))
    return make_claims(
        person.enp,
        person.name,
        person.birth_date,
        person.sex,
        policy.insurer.code,
        PolicyKind(policy.kind),
        policy.valid_from,
        policy.valid_to,
        serial,
        issued_at,
    )


def sign(claims: PolicyClaims, key: SigningKey) -> str:
    """The code text of `claims` under `key`; a code that would outlive the key is refused in words.

    A code may not outlive its key (docs/code-format.md), and an insurer's key lives three years: in its last
    year and a bit, a time-limited policy (to the end of next year) or a temporary certificate ends after it.
    The codec's `KeyUnusable` for it reached the insurer's page as a 500 and stopped a whole import; this
    names the key's last day and what to do, a rotation (the new key signs for three years more).
    """
    ends_at = claims.ends_at()
    if ends_at is not None and ends_at > key.public.not_after:
        raise RegistryError(
            N_(
                "Ключ подписи СМО %(insurer)s действует до %(day)s, а полис — дольше: код не выпущен. "
                "Оператору реестра нужно выпустить СМО новый ключ (ротация ключей)"
            ),
            insurer=claims.insurer_code,
            day=moscow_date(key.public.not_after).strftime("%d.%m.%Y"),
        )
    return encode(claims, key)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def live_code(code: IssuedCode, now: datetime) -> str:
    """A short-lived code for the holder's screen: same claims, kind live, 90 s to run; only for a policy in force.

    It names the current static code's serial, so revoking or superseding that
    code stops its live codes too.
    """
    policy = code.policy
    if not in_force(PolicyStatus(policy.status), policy.valid_to, moscow_date(now)):
        # Past its last day: a live code would read «код устарел, обновите» at the desk, fresh as it was, and the
        # clerk would never hear that the policy ended. The page keeps the static code, read as an ended policy.
        raise RegistryError(N_("Срок действия полиса закончился: живой код не выпускается"))
    static = claims_for(code.person, policy, code.serial, now)
    key = keystore.signing_key(policy.insurer.code, now)
    # Within its key's last 90 s, a live code runs out with the key rather than not being shown.
    live = replace(static, kind=CodeKind.LIVE, expires_at=min(now + LIVE_CODE_LIFETIME, key.public.not_after))
    return sign(live, key)
