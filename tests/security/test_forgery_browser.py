"""The whole forgery corpus through both offline verifiers: the reception page's (static/js/clinic-offline.js, in
Chromium) and Python's (policy_codes/offline.py), from the same signed lists at the same moment.

Every case must get the same verdict from both, and the same holder (none, for a forgery): a disagreement is a
bug in one of them. No forgery is valid, and no input raises.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from flask import Flask

from policy_codes.offline import OfflineVerifier
from signing import KeyRing, TrustList
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, serving
from tests.helpers.registry import KEY_START
from tests.security.forgeries import corpus
from tests.security.world import MOTHER
from tests.webapp.pages import code_text
from webapp.extensions import db
from webapp.registry.keys import keystore, publication

#: Cases per page evaluation: a few evaluations for the whole corpus, each small enough to report sensibly.
BATCH = 500

VERIFY_ALL = """async ([texts, trust, revocations, registryKeys, nowMs]) => {
  const { OfflineVerifier } = await import("/static/js/clinic-offline.js");
  const verifier = await OfflineVerifier.create(trust, [revocations], registryKeys, nowMs);
  const results = [];
  for (const text of texts) {
    try {
      const { verdict, holder } = await verifier.verify(text, nowMs);
      results.push([verdict, holder && holder.name, holder && holder.birthDate]);
    } catch (error) {
      results.push([`raised ${error}`, null, null]);
    }
  }
  return results;
}"""


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: the browser reads downloaded lists, no database; verify_scan runs the corpus on both."""
    return request.getfixturevalue(f"{request.param}_url")


def in_chromium(url: str, script: str, argument: object) -> object:
    """`script(argument)` evaluated on `url`, in a Chromium of its own."""
    (result,) = each_in_chromium(url, script, [argument])
    return result


def each_in_chromium(url: str, script: str, arguments: list[object]) -> list[object]:
    """`script(argument)` for each of `arguments`, evaluated in turn on one page at `url`, in a Chromium of its own.

    In a thread of its own too: Playwright's sync API refuses to start where tests/browser's
    session already runs it.
    """

    def run() -> list[object]:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = chromium.new_page()
            page.goto(url)
            try:
                return [page.evaluate(script, argument) for argument in arguments]
            finally:
                chromium.close()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(run).result()


def test_the_browser_verifier_gives_the_python_verdict_for_every_forgery(world: Flask) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    genuine = code_text(world, str(MOTHER.enp))
    with world.app_context():
        trust, revocations, registry_keys = (
            publication.trust_list_document(),
            publication.revocations_document(),
            publication.registry_jwks(),
        )
        own, other = keystore.signing_key("77001", now), keystore.signing_key("77002", now)
        db.session.remove()
    cases = corpus(genuine, KeyRing().create("77001", KEY_START), other, own)
    texts = [genuine] + [case.text for case in cases]

    python = OfflineVerifier(trust, [revocations], list(TrustList.from_jwks(registry_keys)), now)
    expected = [
        [str(result.verdict), result.holder_name, result.birth_date]
        for result in (python.verify(text, now) for text in texts)
    ]
    lists = [trust, revocations, registry_keys, now.timestamp() * 1000]
    batches = [[texts[start : start + BATCH], *lists] for start in range(0, len(texts), BATCH)]
    with serving(world, threaded=False) as base:
        browser = [verdict for batch in each_in_chromium(f"{base}/login", VERIFY_ALL, batches) for verdict in batch]

    assert len(browser) == len(texts)
    assert browser[0] == expected[0] == ["valid", "Иванова Мария Петровна", "1990-04-12"], "the genuine code"
    labels = ["genuine", *(case.label for case in cases)]
    disagreements = [
        f"{label}: the browser says {seen}, Python {wanted}"
        for label, seen, wanted in zip(labels, browser, expected, strict=True)
        if seen != wanted
    ]
    assert not disagreements, f"{len(disagreements)} of {len(texts)} cases:\n" + "\n".join(disagreements)
    valid = [label for label, (verdict, *_holder) in zip(labels[1:], browser[1:], strict=True) if verdict == "valid"]
    assert valid == [], "no forgery is valid"
