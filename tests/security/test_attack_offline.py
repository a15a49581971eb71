"""The red team's findings on offline verification (F2, F4, F7): what omscode and the reception page
believe from the registry's published lists, checked against lists the registry itself serves.

F2: a suspended or terminated policy's code read `valid` offline for ever, and its holder kept getting
live codes. F4: a retired key still signed codes every offline verifier accepted. F7: conditional GETs
froze the lists' `issued_at`, so a client that kept asking held lists that looked ever older.
Both offline verifiers (policy_codes/offline.py and static/js/clinic-offline.js) must give the same
verdicts for the same lists and codes: tests/security/list_corpus.py holds them to that on made-up
lists, and this module on the registry's own.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from policy_codes import CodeKind, Verdict
from policy_codes.codec import MOSCOW
from policy_codes.offline import OfflineVerifier
from policy_codes.offline_cli import main as omscode
from policy_codes.published_lists import BadList, ListRefusal, refuse_older
from signing import PublicKey, TrustList
from tests.helpers.registry import person_data, register
from tests.security.test_attack_codes import claims_of, signs, stolen_key
from tests.security.test_attack_lists import static_files
from tests.security.test_forgery_browser import in_chromium
from tests.security.world import MOTHER
from tests.webapp.pages import logged_in
from webapp.extensions import db
from webapp.registry import clock, lifecycle, mass_reissue, people
from webapp.registry.errors import RegistryError
from webapp.registry.keys import publication, rotation
from webapp.registry.verification import verify_scan

ENP = str(person_data().enp)

#: Every code through the browser's verifier, from the lists as they were served: the verdicts.
BROWSER_VERDICTS = """async ([texts, trust, revocations, pin, nowMs]) => {
  const { OfflineVerifier } = await import("/static/js/clinic-offline.js");
  const verifier = await OfflineVerifier.create(trust, revocations, pin, nowMs);
  const verdicts = [];
  for (const text of texts) verdicts.push((await verifier.verify(text, nowMs)).verdict);
  return verdicts;
}"""


def present() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def pins() -> list[PublicKey]:
    """The registry keys a clinic pins (`flask keys registry-jwks`)."""
    return list(TrustList.from_jwks(publication.registry_jwks()))


class Clinic:
    """A clinic system that downloads the lists as the API serves them: the full revocation list once, then
    each increment after the cursor it holds."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.trust: dict[str, Any] = {}
        self.revocations: list[dict[str, Any]] = []

    def refresh(self) -> Clinic:
        self.trust = self.client.get("/api/v1/trust-list").get_json()
        since = f"?since={self.revocations[-1]['cursor']}" if self.revocations else ""
        self.revocations.append(self.client.get(f"/api/v1/revocations{since}").get_json())
        return self

    def verifier(self, now: datetime | None = None) -> OfflineVerifier:
        return OfflineVerifier(self.trust, self.revocations, pins(), now)

    def verdict(self, text: str, now: datetime | None = None) -> Verdict:
        return self.verifier(now).verify(text, now).verdict


@pytest.fixture
def clinic(registry: Flask) -> Clinic:
    return Clinic(registry.test_client())


# ---- F2: suspended and terminated policies offline ----


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        (("suspend",), Verdict.SUSPENDED),
        (("terminate",), Verdict.TERMINATED),
        (("suspend", "terminate"), Verdict.TERMINATED),
    ],
)
def test_a_suspended_or_terminated_policys_code_is_not_valid_offline(
    registry: Flask, clinic: Clinic, changes: tuple[str, ...], verdict: Verdict
) -> None:
    """The finding as reported: the policy row changed, the code stayed current and off every list."""
    code = register(at=present())
    assert clinic.refresh().verdict(code.text) is Verdict.VALID
    for change in changes:
        getattr(lifecycle, change)(ENP, "smo", "причина", now=present())
        assert clinic.refresh().verdict(code.text) is not Verdict.VALID, change
    assert clinic.verdict(code.text) is verdict
    assert verify_scan(code.text).verdict is verdict, "online says the same"
    full = Clinic(registry.test_client()).refresh()
    assert full.verdict(code.text) is verdict, "and the full list names it too"


def test_resuming_reissues_the_code_so_that_the_lists_only_grow(registry: Flask, clinic: Clinic) -> None:
    first = register(at=present())
    clinic.refresh()
    lifecycle.suspend(ENP, "smo", "военная служба", now=present())
    assert clinic.refresh().verdict(first.text) is Verdict.SUSPENDED
    lifecycle.resume(ENP, "smo", "служба окончена", now=present())
    second = people.current_code(people.person_by_enp(ENP))
    assert second is not None
    assert second.serial == first.serial + 1, "a new serial: the suspended code is never current again"
    clinic.refresh()
    assert [clinic.verdict(text) for text in (first.text, second.text)] == [Verdict.SUPERSEDED, Verdict.VALID]
    assert [verify_scan(text).verdict for text in (first.text, second.text)] == [Verdict.SUPERSEDED, Verdict.VALID]
    cursors = [(document["since"], document["cursor"]) for document in clinic.revocations]
    assert all(since <= cursor for since, cursor in cursors)
    assert cursors[1][1] < cursors[2][1], "resuming added to the list; nothing was taken off it"


def test_no_code_is_signed_for_a_policy_that_is_not_active(registry: Flask, clinic: Clinic) -> None:
    """Suspended or terminated, a policy gets no fresh code: it would be on no list, `valid` offline."""
    code = register(at=present())
    lifecycle.suspend(ENP, "smo", "военная служба", now=present())
    with pytest.raises(RegistryError):
        lifecycle.reissue(ENP, "smo", "потерян телефон", now=present())
    assert mass_reissue.compromise(code.kid, "test").result == {"codes": 0}, "a compromise reissues no suspended code"
    assert people.current_code(people.person_by_enp(ENP)) is None
    clinic.refresh()
    assert clinic.verdict(code.text) is Verdict.KEY_COMPROMISED


@pytest.mark.parametrize("change", ["suspend", "terminate"])
def test_a_suspended_or_terminated_citizen_is_handed_no_code(world: Flask, change: str) -> None:
    citizen = logged_in(world, "ivanova")
    assert citizen.get("/me/live").status_code == 200
    with world.app_context():
        getattr(lifecycle, change)(str(MOTHER.enp), "smo", "причина", now=present())
    for path in ("/me/live", "/me/show", "/me/code.svg", "/me/code.png", "/me/extract.pdf"):
        assert citizen.get(path).status_code == 404, path
    card = citizen.get("/me/").get_data(as_text=True)
    assert 'id="live"' not in card, "no code on the card, live or static"
    assert "code.svg" not in card


def test_codes_withheld_before_the_fix_are_listed_by_the_upgrade(registry: Flask, clinic: Clinic) -> None:
    """A registry that suspended and terminated policies before: migration 0008 lists their codes, as
    suspending and terminating now do. Downgraded, the registry is as it was then: the codes current, unlisted."""
    enps = [str(person_data(f"77000000000003{index}").enp) for index in range(3)]
    codes = [register(person_data(f"77000000000003{index}"), at=present()).text for index in range(3)]
    lifecycle.suspend(enps[0], "smo", "военная служба", now=present())
    lifecycle.terminate(enps[1], "smo", "смерть", now=present())
    lifecycle.suspend(enps[2], "smo", "военная служба", now=present())
    lifecycle.resume(enps[2], "smo", "служба окончена", now=present())
    db.session.commit()
    downgrade(revision="0007")  # to the revision before 0008
    db.session.expire_all()
    # The finding, as a registry of before the fix had it: the codes current and on no list. Read with plain
    # SQL, as today's code reads a schema of today (the region partitions, the lists' snapshots).
    withheld = text(
        "SELECT count(*) FROM issued_codes c JOIN persons p ON p.id = c.person_id"
        " WHERE p.enp = :enp AND c.status = 'current'"
        " AND NOT EXISTS (SELECT 1 FROM revocation_events e WHERE e.code_id = c.id)"
    )
    assert [db.session.scalar(withheld, {"enp": enp}) for enp in enps] == [1, 1, 1]
    db.session.rollback()
    upgrade()
    db.session.expire_all()
    full = Clinic(registry.test_client()).refresh()
    assert [full.verdict(text) for text in codes] == [Verdict.SUSPENDED, Verdict.TERMINATED, Verdict.SUPERSEDED]
    assert [people.current_code(people.person_by_enp(enp)) is None for enp in enps] == [True, True, False]


# ---- F2: what an offline `valid` may claim ----


def test_omscode_says_valid_by_the_lists_not_by_the_registry(
    registry: Flask, clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = register(at=present())
    clinic.refresh()
    documents = (clinic.trust, clinic.revocations[-1])
    issued = min(datetime.fromisoformat(document["issued_at"]) for document in documents).astimezone(MOSCOW)
    files = {"pin": publication.registry_jwks(), "trust": clinic.trust, "revocations": clinic.revocations[-1]}
    for name, document in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
    arguments = ["verify", "--registry-key", str(tmp_path / "pin.json"), "--trust-list", str(tmp_path / "trust.json")]
    arguments += ["--revocations", str(tmp_path / "revocations.json"), "--state", str(tmp_path / "state.json")]
    assert omscode([*arguments, code.text]) == 0
    said = capsys.readouterr().out
    assert "реестр" in said
    assert "в реестре он действующий" not in said, "no registry was asked"
    assert issued.strftime("%d.%m.%Y %H:%M") in said, "the lists it goes by, and when they were issued"
    assert omscode([*arguments, "--lang", "en", code.text]) == 0
    english = capsys.readouterr().out
    assert "lists of" in english
    assert issued.strftime("%d.%m.%Y %H:%M") in english


def test_the_reception_page_takes_offline_words_for_valid(world: Flask) -> None:
    page = logged_in(world, "clinic").get("/clinic/").get_data(as_text=True)
    found = re.search(r'data-words="([^"]*)"', page)
    assert found
    words = json.loads(html.unescape(found.group(1)))
    assert "в реестре он действующий" not in words["valid"]["message"]
    assert "{date}" in words["valid"]["message"], "the page fills in its lists' date"
    assert words["suspended"]["message"] == Verdict.SUSPENDED.message("ru")


# ---- F4: a retired key signs nothing after its retirement ----


def test_a_retired_key_signs_nothing_offline_after_its_retirement(registry: Flask, clinic: Clinic) -> None:
    """The finding as reported: rotation retires the key, a thief holding it signs a static code with a made-up
    serial and a live code, both issued now; every offline verifier said `valid`."""
    code = register(at=present() - timedelta(minutes=10))
    thief = stolen_key(code.kid)
    retired_at = present() - timedelta(minutes=5)
    rotation.rotate("77001", "test", now=retired_at)
    moment = present()
    made_up = signs(thief, replace(claims_of(code), serial=77, issued_at=moment))
    live = signs(
        thief, replace(claims_of(code), kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(seconds=90))
    )
    clinic.refresh()
    entry = next(key for key in clinic.trust["keys"] if key["insurer"] == "77001" and key["status"] == "retired")
    assert datetime.fromisoformat(entry["retired_at"]) == retired_at
    assert clinic.verdict(made_up, moment) is Verdict.FORGED
    assert clinic.verdict(live, moment) is Verdict.FORGED
    assert clinic.verdict(code.text, moment) is Verdict.VALID, "what it signed before it retired still verifies"
    assert verify_scan(made_up, moment).verdict is not Verdict.VALID
    assert verify_scan(live, moment).verdict is Verdict.FORGED


def test_the_trust_list_format_changed_with_the_retirement_times(registry: Flask, clinic: Clinic) -> None:
    """A verifier of the first format ignores members it does not know: it would read `retired_at` as nothing
    and accept what the registry's list calls forged. The format's name changed, so it refuses instead."""
    register(at=present())
    clinic.refresh()
    assert clinic.trust["format"] == "oms-trust-list-2"


# ---- both verifiers, from the registry's own lists ----


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_both_offline_verifiers_agree_on_the_registrys_lists(registry: Flask, clinic: Clinic) -> None:
    texts = _withdrawn_and_forged_codes(clinic)
    moment = present() + timedelta(seconds=1)
    expected = ["suspended", "terminated", "terminated", "superseded", "valid", "valid", "forged", "forged"]
    python = [str(clinic.verdict(text, moment)) for text in texts.values()]
    with static_files() as base:
        arguments = [list(texts.values()), clinic.trust, clinic.revocations, publication.registry_jwks()]
        browser = in_chromium(f"{base}/static/js/clinic-offline.js", BROWSER_VERDICTS, [*arguments, _ms(moment)])
    assert dict(zip(texts, python, strict=True)) == dict(zip(texts, expected, strict=True))
    assert browser == python


def _withdrawn_and_forged_codes(clinic: Clinic) -> dict[str, str]:
    """Codes in every state F2 and F4 are about, the clinic downloading the lists after each change."""
    changes: dict[str, tuple[str, ...]] = {
        "suspended": ("suspend",),
        "terminated": ("terminate",),
        "suspended, then terminated": ("suspend", "terminate"),
        "suspended, then resumed: the old code": ("suspend", "resume"),
        "signed by the retired key before it retired": (),
    }
    enps = {name: person_data(f"7700000000000{index:02d}") for index, name in enumerate(changes, start=10)}
    first = {name: register(data, at=present() - timedelta(minutes=10)) for name, data in enps.items()}
    thief = stolen_key(first["suspended"].kid)
    clinic.refresh()
    for name, steps in changes.items():
        for step in steps:
            getattr(lifecycle, step)(str(enps[name].enp), "smo", "причина", now=present())
            clinic.refresh()
    resumed = people.current_code(people.person_by_enp(str(enps["suspended, then resumed: the old code"].enp)))
    assert resumed is not None
    retired_at = present()
    rotation.rotate("77001", "test", now=retired_at)
    clinic.refresh()
    moment = retired_at + timedelta(seconds=1)
    texts = {name: code.text for name, code in first.items()}
    texts["suspended, then resumed: the new code"] = resumed.text
    texts["a made-up serial by the retired key"] = signs(
        thief, replace(claims_of(resumed), serial=99, issued_at=moment)
    )
    texts["a live code by the retired key"] = signs(
        thief,
        replace(claims_of(resumed), kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(seconds=90)),
    )
    return texts


def _ms(moment: datetime) -> float:
    return moment.timestamp() * 1000


# ---- F7: a client that keeps asking never holds stale lists ----


@pytest.fixture
def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The registry's clock (webapp/registry/clock.py), stopped at the start of the hour before this one; a test moves
    it on. (Signatures are made at the real time: the registry key the first request makes must already be valid.)"""
    moment = present().replace(minute=0, second=0) - timedelta(hours=1)
    held = [moment]
    real: Callable[[datetime | None], datetime] = clock.now
    monkeypatch.setattr(clock, "now", lambda at=None: real(at or held[0]))
    return held


LISTS = ("/api/v1/trust-list", "/api/v1/revocations")


def _get(client: FlaskClient, path: str, etag: str | None = None) -> Any:
    return client.get(path, headers={"If-None-Match": etag} if etag else {})


def test_a_client_that_keeps_asking_never_holds_stale_lists(registry: Flask, stopped_clock: list[datetime]) -> None:
    """The finding as reported: the ETags ignored `issued_at`, so revalidating kept the first documents for ever."""
    register(at=present())
    client = registry.test_client()
    start = stopped_clock[0]
    held = {path: _get(client, path) for path in LISTS}
    for hours in (1, 25, 73):
        stopped_clock[0] = start + timedelta(hours=hours, minutes=10)
        for path in LISTS:
            again = _get(client, path, held[path].headers["ETag"])
            assert again.status_code == 200, f"{path}, {hours} h on: a new edition, not 304"
            issued = datetime.fromisoformat(again.get_json()["issued_at"])
            assert stopped_clock[0] - timedelta(hours=1) < issued <= stopped_clock[0]
            held[path] = again
        trust, revocations = (held[path].get_json() for path in LISTS)
        verifier = OfflineVerifier(trust, [revocations], pins(), stopped_clock[0])
        assert verifier.lists.age(stopped_clock[0]) < timedelta(hours=1), "omscode's 72 hours never run out"


def test_within_the_hour_a_client_keeps_its_copy(registry: Flask, stopped_clock: list[datetime]) -> None:
    """An edition lasts the hour: every worker signs the same bytes, and revalidating answers 304."""
    register(at=present())
    client = registry.test_client()
    start = stopped_clock[0]
    held = {path: _get(client, path) for path in LISTS}
    stopped_clock[0] = start + timedelta(minutes=50)
    for path, first in held.items():
        assert _get(client, path, first.headers["ETag"]).status_code == 304, path
        assert _get(client, path).get_json() == first.get_json(), f"{path}: the same document, signed the same way"


def test_a_trust_list_from_before_a_key_change_is_older_than_the_one_after(
    registry: Flask, stopped_clock: list[datetime]
) -> None:
    """Editions are dated by the hour, but never before the last change they carry: a trust list from earlier in the
    hour that still calls a key active is a replay to a verifier that holds the one after the change."""
    register(at=present())
    client = registry.test_client()
    start = stopped_clock[0]
    stopped_clock[0] = start + timedelta(minutes=5)
    before = client.get("/api/v1/trust-list").get_json()
    stopped_clock[0] = start + timedelta(minutes=20)
    rotation.rotate("77001", "test", now=stopped_clock[0])
    stopped_clock[0] = start + timedelta(minutes=25)
    after = client.get("/api/v1/trust-list").get_json()
    revocations = client.get("/api/v1/revocations").get_json()
    held = OfflineVerifier(after, [revocations], pins(), stopped_clock[0]).lists.held
    replayed = OfflineVerifier(before, [revocations], pins(), stopped_clock[0]).lists
    with pytest.raises(BadList) as refused:
        refuse_older(held, replayed)
    assert refused.value.reason is ListRefusal.OLDER_TRUST_LIST
