"""Both offline verifiers, the reception page's (static/js/clinic-offline.js, in Chromium) and Python's
(policy_codes/offline.py, which the online verifier's codec is), at the edges of time (2026-12-06): a policy's and a
temporary certificate's last second of their last Moscow day and the first of the next, a live code's last second
and the next, a live code signed ahead of the verifier's clock by up to 5 minutes and by a second more.

They agree on every case, and on the verdict the rules give: the day is Moscow's (docs/code-format.md), whatever
zone the desk is in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask

from policy_codes import CodeKind, Enp, encode
from policy_codes.codec import CLOCK_SKEW, LIVE_CODE_LIFETIME, MOSCOW
from policy_codes.offline import OfflineVerifier
from signing import TrustList
from tests.helpers.browser import serving
from tests.helpers.claims import make_claims
from tests.security.test_forgery_browser import each_in_chromium
from webapp.extensions import db
from webapp.registry.keys import keystore, publication

VERIFY_AT = """async ([cases, trust, revocations, registryKeys, listsMs]) => {
  const { OfflineVerifier } = await import("/static/js/clinic-offline.js");
  const verifier = await OfflineVerifier.create(trust, [revocations], registryKeys, listsMs);
  const results = [];
  for (const [text, nowMs] of cases) results.push((await verifier.verify(text, nowMs)).verdict);
  return results;
}"""


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: the verifiers read downloaded lists, no database."""
    return request.getfixturevalue(f"{request.param}_url")


def moscow_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), MOSCOW).astimezone(UTC)


def test_the_offline_verifiers_agree_at_the_edges_of_time(world: Flask) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    last_day = (now + timedelta(days=40)).astimezone(MOSCOW).date()
    second = timedelta(seconds=1)
    with world.app_context():
        trust, revocations, registry_keys = (
            publication.trust_list_document(),
            publication.revocations_document(),
            publication.registry_jwks(),
        )
        key = keystore.signing_key("77001", now)
        db.session.remove()

    def signed(kind: CodeKind, issued_at: datetime, **changes: object) -> str:
        claims = make_claims(
            enp=Enp("7700000000000016"),
            insurer_code="77001",
            kind=kind,
            valid_from=now.date() - timedelta(days=1),
            issued_at=issued_at,
            **changes,
        )
        return encode(claims, key)

    ends = moscow_midnight(last_day + timedelta(days=1))  # the first instant after the last day, in Moscow
    live_at = now + timedelta(minutes=1)
    cases = []
    for kind in (CodeKind.POLICY, CodeKind.TEMPORARY_CERTIFICATE):
        text = signed(kind, now, valid_to=last_day)
        cases += [
            (f"{kind.name} last second", text, ends - second, "valid"),
            (f"{kind.name} next day", text, ends, "expired"),
        ]
    live = signed(CodeKind.LIVE, live_at, expires_at=live_at + LIVE_CODE_LIFETIME)
    cases += [
        ("live, signed a minute ahead of the desk", live, now, "valid"),
        ("live, last second", live, live_at + LIVE_CODE_LIFETIME, "valid"),
        ("live, a second after", live, live_at + LIVE_CODE_LIFETIME + second, "expired"),
    ]
    for ahead, verdict in ((CLOCK_SKEW, "valid"), (CLOCK_SKEW + second, "forged")):
        text = signed(CodeKind.LIVE, now + ahead, expires_at=now + ahead + LIVE_CODE_LIFETIME)
        cases.append((f"live, signed {ahead} ahead", text, now, verdict))

    python = OfflineVerifier(trust, [revocations], list(TrustList.from_jwks(registry_keys)), now)
    in_python = [str(python.verify(text, at).verdict) for _label, text, at, _verdict in cases]
    argument = [
        [[text, at.timestamp() * 1000] for _label, text, at, _verdict in cases],
        trust,
        revocations,
        registry_keys,
        now.timestamp() * 1000,
    ]
    with serving(world, threaded=False) as base:
        (in_browser,) = each_in_chromium(f"{base}/login", VERIFY_AT, [argument])
    table = [
        (label, wanted, py, js) for (label, _t, _a, wanted), py, js in zip(cases, in_python, in_browser, strict=True)
    ]
    assert [row for row in table if not row[1] == row[2] == row[3]] == []
