"""Issue 16's findings on the published lists: who may sign them, when, how old they may be, and ECDSA's twins.

One rule (docs/code-format.md, "Published lists"), two verifiers: omscode (policy_codes/published_lists.py)
and the reception page (static/js/clinic-offline.js, in Debian's Chromium). Both run over the one corpus of
tests/security/list_corpus.py and must accept and refuse exactly the same documents, for the same reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any, ClassVar

import pytest
from flask import Flask

from policy_codes import Verdict
from policy_codes.offline import OfflineVerifier
from policy_codes.offline_cli import main as omscode
from policy_codes.published_lists import BadList, read_pin, refuse_older
from signing import KeyRing, SigningKey, TrustList
from tests.helpers.claims import NOW
from tests.helpers.registry import person_data, register
from tests.security.forgeries import P256_ORDER, high_s_twin
from tests.security.list_corpus import (
    ListCase,
    list_corpus,
    registry_key,
    revocations,
    trust_list,
    world,
)
from tests.security.test_forgery_browser import in_chromium
from webapp.registry import lifecycle, mass_reissue
from webapp.registry.keys import publication

ROOT = Path(__file__).resolve().parents[2]

#: Each case through the browser's verifier: ["accepted", verdicts…] or ["refused", reason].
BROWSER_OUTCOMES = """async ([cases, codes, nowMs]) => {
  const { OfflineVerifier, BadList } = await import("/static/js/clinic-offline.js");
  const outcomes = [];
  for (const [pin, trust, revocations] of cases) {
    let verifier;
    try {
      verifier = await OfflineVerifier.create(trust, revocations, pin, nowMs);
    } catch (error) {
      outcomes.push(error instanceof BadList ? ["refused", String(error.reason)] : ["raised", String(error)]);
      continue;
    }
    const verdicts = [];
    for (const code of codes) verdicts.push((await verifier.verify(code, nowMs)).verdict);
    outcomes.push(["accepted", ...verdicts]);
  }
  return outcomes;
}"""


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: what is attacked is the signed documents, not the database."""
    return request.getfixturevalue(f"{request.param}_url")


def expected(case: ListCase) -> list[str]:
    return ["refused", case.refusal] if case.refusal else ["accepted", *case.verdicts]


def python_outcome(case: ListCase) -> list[str]:
    try:
        verifier = OfflineVerifier(case.trust, case.revocations, read_pin(case.pin), now=NOW)
    except BadList as error:
        return ["refused", str(error.reason)]
    except Exception as error:  # anything but BadList is a crash in a clinic's verifier
        return ["raised", repr(error)]
    return ["accepted", *(str(verifier.verify(code, NOW).verdict) for code in world().codes)]


def differences(outcomes: dict[str, list[str]]) -> dict[str, str]:
    return {
        case.label: f"{outcomes[case.label]} (the rule: {expected(case)})"
        for case in list_corpus()
        if outcomes[case.label] != expected(case)
    }


class _Files(SimpleHTTPRequestHandler):
    """The repository's files, and under /lists/ the documents a test publishes."""

    published: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if not path.startswith("/lists/"):
            super().do_GET()
            return
        body = json.dumps(self.published[path.removeprefix("/lists/")]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Not on the test's output."""


@contextmanager
def static_files(published: dict[str, Any] | None = None) -> Iterator[str]:
    """The repository's files over HTTP on loopback: a module script needs an origin, and the verifier no server.
    `published`: documents served at /lists/NAME (any query ignored), as the API would serve them."""
    handler = type("Handler", (_Files,), {"published": published or {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(ROOT)))
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def browser_outcomes(cases: list[ListCase], codes: tuple[str, ...]) -> list[list[str]]:
    with static_files() as base:
        arguments = [[case.as_json() for case in cases], list(codes), NOW.timestamp() * 1000]
        outcomes = in_chromium(f"{base}/static/js/clinic-offline.js", BROWSER_OUTCOMES, arguments)
    assert isinstance(outcomes, list)
    return outcomes


# ---- finding 1: one rule for who signs the lists, and when ----


def test_the_corpus_covers_every_way_to_be_bad() -> None:
    reasons = {case.refusal for case in list_corpus()}
    assert reasons == {
        None,
        "bad_pin",
        "malformed",
        "unknown_key",
        "bad_signature",
        "wrong_format",
        "bad_key_entry",
        "bad_cursor",
        "bad_digests",
        "not_registry_key",
        "outside_key_window",
        "key_compromised",
        "key_expired",
        "issued_in_future",
    }
    assert sum(case.refusal is None for case in list_corpus()) >= 8, "good lists, so the refusals are not vacuous"


def test_omscodes_verifier_applies_the_rule() -> None:
    assert differences({case.label: python_outcome(case) for case in list_corpus()}) == {}


def test_the_browser_verifier_applies_the_same_rule() -> None:
    cases = list(list_corpus())
    outcomes = browser_outcomes(cases, world().codes)
    assert differences({case.label: outcome for case, outcome in zip(cases, outcomes, strict=True)}) == {}


def test_a_registry_key_marked_compromised_signs_no_list_omscode_accepts(
    registry: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator marks the registry's key compromised and the clinic takes the new pin; the thief's
    copy of the old key then signs a revocation list that forgets a stolen phone, and a trust list."""
    moment = datetime.now(UTC)
    code = register(at=moment)
    stolen = publication.registry_key(moment)
    lifecycle.revoke(str(person_data().enp), "test", "телефон украден", now=moment)
    mass_reissue.compromise(stolen.kid.hex(), "test")
    pin, trust = publication.registry_jwks(), publication.trust_list_document()
    genuine_revocations = publication.revocations_document()
    forged_revocations = revocations_signed_by(stolen, genuine_revocations)
    forged_trust = trust_signed_by(stolen, trust)

    files = Files(tmp_path, pin, trust, genuine_revocations)
    assert files.omscode(code.text) == 1, "the genuine lists load, and the code is revoked"
    assert "revoked" in capsys.readouterr().out
    files.write("revocations", forged_revocations)
    assert files.omscode(code.text) == 2
    assert "Списки не приняты: список подписан скомпрометированным ключом реестра" in capsys.readouterr().err
    files.write("revocations", genuine_revocations)
    files.write("trust", forged_trust)
    assert files.omscode(code.text) == 2
    assert "скомпрометированным ключом реестра" in capsys.readouterr().err


def revocations_signed_by(key: SigningKey, document: dict[str, Any]) -> dict[str, Any]:
    """`document`'s date and cursor on a revocation list that withdraws nothing, signed by `key` (the thief)."""
    issued_at = datetime.fromisoformat(document["issued_at"])
    return revocations(key, issued_at, since=document["since"], cursor=document["cursor"], revoked=b"")


def trust_signed_by(key: SigningKey, document: dict[str, Any]) -> dict[str, Any]:
    """`document`'s keys, every one active, in a trust list signed by `key` (the thief)."""
    entries = [{**entry, "status": "active"} for entry in document["keys"]]
    return trust_list(key, issued_at=datetime.fromisoformat(document["issued_at"]), entries=entries)


# ---- finding 2: omscode exits 2 on stale lists, and on lists older than those it holds ----


class Files:
    """The pin and the lists on a clinic's disk, and omscode run over them with a state file of the test's own."""

    def __init__(self, folder: Path, pin: Any, trust: Any, revocations: Any, state: Path | None = None) -> None:
        self.folder = folder
        self.state = state or folder / "state" / "lists.json"
        for name, document in (("pin", pin), ("trust", trust), ("revocations", revocations)):
            self.write(name, document)

    def write(self, name: str, document: Any) -> None:
        (self.folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")

    def arguments(self, *more: str) -> list[str]:
        return [
            "verify",
            "--registry-key",
            str(self.folder / "pin.json"),
            "--trust-list",
            str(self.folder / "trust.json"),
            "--revocations",
            str(self.folder / "revocations.json"),
            *more,
        ]

    def omscode(self, text: str, *more: str) -> int:
        return omscode(self.arguments("--state", str(self.state), *more, text))


@pytest.fixture
def fresh() -> SigningKey:
    """A registry key whose window covers the real present (omscode reads the clock)."""
    return registry_key(datetime.now(UTC).replace(microsecond=0) - timedelta(days=10))


def present() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def pin_of(key: SigningKey) -> dict[str, Any]:
    return TrustList([key.public]).to_jwks()


def test_omscode_refuses_stale_lists_unless_allowed(
    fresh: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = world().codes[0]
    old = present() - timedelta(hours=73)
    files = Files(tmp_path, pin_of(fresh), trust_list(fresh, old), revocations(fresh, old))
    assert files.omscode(code) == 2
    error = capsys.readouterr().err
    assert "Списки не приняты: спискам больше 72 часов" in error
    assert "--allow-stale" in error
    assert not files.state.exists(), "lists refused are not remembered"
    assert files.omscode(code, "--allow-stale") == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert "Внимание: спискам больше 72 часов" in captured.err
    files.write("trust", trust_list(fresh, present()))
    assert files.omscode(code) == 2, "the older of the two lists counts"
    files.write("revocations", revocations(fresh, present()))
    assert files.omscode(code) == 0


def test_omscode_refuses_a_trust_list_older_than_the_one_it_holds(
    fresh: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = world().codes[0]
    now = present()
    newer = trust_list(fresh, now - timedelta(minutes=10))
    files = Files(tmp_path, pin_of(fresh), newer, revocations(fresh, now))
    assert files.omscode(code) == 0
    assert files.omscode(code) == 0, "the same lists again are no replay"
    files.write("trust", trust_list(fresh, now - timedelta(hours=1)))
    assert files.omscode(code) == 2
    assert "Списки не приняты: список доверенных ключей старше уже принятого" in capsys.readouterr().err
    files.write("trust", newer)
    assert files.omscode(code) == 0, "refusing the old one did not forget the newer"


def test_omscode_refuses_a_rewound_revocation_list(
    fresh: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = world().codes[1]  # serial 2: revoked by the lists below
    now = present()
    files = Files(tmp_path, pin_of(fresh), trust_list(fresh, now), revocations(fresh, now - timedelta(minutes=5)))
    assert files.omscode(code) == 1, "revoked"
    files.write("revocations", revocations(fresh, now, cursor=6, revoked=b""))
    assert files.omscode(code) == 2, "a later list with an earlier cursor is rewound"
    assert "Списки не приняты: список отзыва старше уже принятого" in capsys.readouterr().err
    files.write("revocations", revocations(fresh, now - timedelta(minutes=20)))
    assert files.omscode(code) == 2, "an earlier list with the same cursor is older"
    files.write("revocations", revocations(fresh, now, cursor=9))
    assert files.omscode(code) == 1
    state = json.loads(files.state.read_text(encoding="utf-8"))
    assert state["revocations_cursor"] == 9


#: Each later set of lists against the first, through refuseOlder: "ok" or the reason.
BROWSER_REPLAYS = """async ([sets, pin, nowMs]) => {
  const { OfflineVerifier, BadList, refuseOlder } = await import("/static/js/clinic-offline.js");
  const verifiers = [];
  for (const [trust, revocations] of sets) {
    verifiers.push(await OfflineVerifier.create(trust, [revocations], pin, nowMs));
  }
  return verifiers.map((verifier) => {
    try {
      refuseOlder(verifiers[0], verifier);
      return "ok";
    } catch (error) {
      return error instanceof BadList ? error.reason : `raised ${error}`;
    }
  });
}"""


def replay_sets() -> list[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """(label, trust list, revocation list, what a verifier holding the first says of it)."""
    w = world()
    earlier, held, later = (NOW - timedelta(hours=hours) for hours in (3, 2, 1))
    return [
        ("the same lists", trust_list(w.registry, held), revocations(w.registry, held), "ok"),
        ("newer lists", trust_list(w.registry, later), revocations(w.registry, later, cursor=9), "ok"),
        ("an older trust list", trust_list(w.registry, earlier), revocations(w.registry, later), "older_trust_list"),
        (
            "a rewound cursor",
            trust_list(w.registry, later),
            revocations(w.registry, later, cursor=6),
            "older_revocations",
        ),
        (
            "an older revocation list",
            trust_list(w.registry, later),
            revocations(w.registry, earlier),
            "older_revocations",
        ),
    ]


def test_both_verifiers_refuse_the_same_replays() -> None:
    sets = replay_sets()
    pin = world().pin()
    verifiers = [OfflineVerifier(trust, [revocations], read_pin(pin), now=NOW) for _, trust, revocations, _ in sets]
    python = []
    for verifier in verifiers:
        try:
            refuse_older(verifiers[0].lists.held, verifier.lists)
            python.append("ok")
        except BadList as error:
            python.append(str(error.reason))
    with static_files() as base:
        arguments = [[[trust, revocations] for _, trust, revocations, _ in sets], pin, NOW.timestamp() * 1000]
        browser = in_chromium(f"{base}/static/js/clinic-offline.js", BROWSER_REPLAYS, arguments)
    expected = [outcome for *_, outcome in sets]
    assert dict(zip([label for label, *_ in sets], python, strict=True)) == dict(
        zip([label for label, *_ in sets], expected, strict=True)
    )
    assert browser == python


#: The reception page's refresh (clinic-lists.js), fed by /lists/: what it keeps, and what it refuses.
PAGE_REFRESHES = """async ([pin, later]) => {
  const { readLists, refreshLists, storedVerifier } = await import("/static/js/clinic-lists.js");
  const urls = (name) => ({ trustList: `/lists/${name}-trust`, revocations: `/lists/${name}-revocations` });
  const outcomes = [];
  for (const name of ["held", "older", "newer"]) {
    try {
      await refreshLists(urls(name), pin);
      outcomes.push("kept");
    } catch (error) {
      outcomes.push(error.reason ?? `raised ${error}`);
    }
  }
  outcomes.push((await readLists()).trust.issued_at);
  outcomes.push((await storedVerifier(pin)) ? "usable" : "unusable");
  const realNow = Date.now;
  Date.now = () => realNow() + later;
  outcomes.push((await storedVerifier(pin)) ? "usable" : "unusable");
  Date.now = realNow;
  return outcomes;
}"""


def test_the_reception_page_keeps_no_older_lists_and_drops_lists_whose_key_ran_out() -> None:
    """Served an older trust list than it holds, the page keeps what it holds; once the registry key that
    signed the stored lists runs out, they stop verifying, cached or not."""
    now = present()
    key = SigningKey.generate("registry", now - timedelta(days=1), timedelta(days=2))
    held, older, newer = now - timedelta(minutes=30), now - timedelta(hours=1), now - timedelta(minutes=10)
    published = {
        "held-trust": trust_list(key, held),
        "held-revocations": revocations(key, held),
        "older-trust": trust_list(key, older),
        "older-revocations": revocations(key, now - timedelta(minutes=5), since=7, cursor=7, revoked=b""),
        "newer-trust": trust_list(key, newer),
        "newer-revocations": revocations(key, now - timedelta(minutes=5), since=7, cursor=8, revoked=b""),
    }
    with static_files(published) as base:
        outcomes = in_chromium(f"{base}/static/js/clinic-offline.js", PAGE_REFRESHES, [pin_of(key), 2 * 86400 * 1000])
    assert outcomes == ["kept", "older_trust_list", "kept", newer.isoformat(), "usable", "unusable"]


def test_omscode_keeps_its_state_where_the_readme_says(
    fresh: SigningKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = present()
    files = Files(tmp_path, pin_of(fresh), trust_list(fresh, now), revocations(fresh, now))
    code = world().codes[0]
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert omscode(files.arguments(code)) == 0
    assert (tmp_path / "xdg" / "omscode" / "lists.json").is_file()
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert omscode(files.arguments(code)) == 0
    held = tmp_path / "home" / ".local" / "state" / "omscode" / "lists.json"
    assert held.is_file()
    assert held.stat().st_mode & 0o077 == 0, "only its owner reads or writes what a clinic holds"
    files.write("trust", trust_list(fresh, now - timedelta(minutes=1)))
    assert omscode(files.arguments(code)) == 2, "the default state is remembered between runs"


def test_omscode_refuses_a_damaged_state_file(
    fresh: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = present()
    files = Files(tmp_path, pin_of(fresh), trust_list(fresh, now), revocations(fresh, now))
    files.state.parent.mkdir()
    for damaged in ("not json", "[]", '{"trust_list_issued_at": "yesterday"}'):
        files.state.write_text(damaged, encoding="utf-8")
        assert files.omscode(world().codes[0]) == 2
        error = capsys.readouterr().err
        assert "Файл состояния" in error
        assert "Traceback" not in error
    assert files.state.read_text(encoding="utf-8") == damaged, "left for the clinic to look at"


# ---- finding 3: only the low-S form of an ECDSA signature ----


def test_signing_always_gives_the_low_s_form() -> None:
    key = KeyRing().create("77001")
    for index in range(64):
        signature = key.sign(f"message {index}".encode())
        assert int.from_bytes(signature[32:], "big") <= P256_ORDER // 2


def test_high_s_twins_are_refused_by_python_and_the_browser() -> None:
    """Of a genuine code (the forgery corpus holds it too) and of a genuine list (the list corpus holds those)."""
    w = world()
    genuine, twin = w.codes[0], high_s_twin(w.codes[0])
    assert twin != genuine
    trust = trust_list(w.registry, NOW - timedelta(hours=1))
    case = ListCase("genuine", w.pin(), trust, [revocations(w.registry, NOW - timedelta(hours=1))], None)
    verifier = OfflineVerifier(case.trust, case.revocations, read_pin(case.pin), now=NOW)
    assert [verifier.verify(text, NOW).verdict for text in (genuine, twin)] == [Verdict.VALID, Verdict.FORGED]
    assert browser_outcomes([case], (genuine, twin)) == [["accepted", "valid", "forged"]]
