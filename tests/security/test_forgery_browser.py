"""The forgery corpus through the reception page's offline verifier (static/js/clinic-offline.js), in Chromium.

It must agree with policy_codes/offline.py: no forgery is valid, and every input gets a verdict, never an exception.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from flask import Flask

from signing import KeyRing
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.security.forgeries import corpus, sample
from tests.security.world import MOTHER, served
from tests.webapp.conftest import KEY_START
from tests.webapp.pages import code_text
from webapp.extensions import db
from webapp.registry.keys import keystore, publication

#: One in this many bulk cases (flips, substitutions, truncations); every hand-made one.
BULK_SAMPLE = 8

VERIFY_ALL = """async ([texts, trust, revocations, registryKeys, nowMs]) => {
  const { OfflineVerifier } = await import("/static/js/clinic-offline.js");
  const verifier = await OfflineVerifier.create(trust, [revocations], registryKeys);
  const results = [];
  for (const text of texts) {
    try {
      results.push((await verifier.verify(text, nowMs)).verdict);
    } catch (error) {
      results.push(`raised ${error}`);
    }
  }
  return results;
}"""


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: the browser reads downloaded lists, no database; verify_scan runs the corpus on both."""
    return request.getfixturevalue(f"{request.param}_url")


def in_chromium(url: str, script: str, argument: object) -> object:
    """`script(argument)` evaluated on `url`, in a Chromium of its own.

    In a thread of its own too: Playwright's sync API refuses to start where tests/browser's
    session already runs it.
    """

    def run() -> object:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = chromium.new_page()
            page.goto(url)
            try:
                return page.evaluate(script, argument)
            finally:
                chromium.close()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(run).result()


def test_the_browser_verifier_calls_no_forgery_valid(world: Flask) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    genuine = code_text(world, str(MOTHER.enp))
    with world.app_context():
        lists = [publication.trust_list_document(), publication.revocations_document(), publication.registry_jwks()]
        own, other = keystore.signing_key("77001", now), keystore.signing_key("77002", now)
        db.session.remove()
    cases = sample(corpus(genuine, KeyRing().create("77001", KEY_START), other, own), BULK_SAMPLE)
    texts = [genuine] + [case.text for case in cases]
    with served(world) as base:
        verdicts = in_chromium(f"{base}/login", VERIFY_ALL, [texts, *lists, now.timestamp() * 1000])
    assert isinstance(verdicts, list)
    assert verdicts[0] == "valid", "the genuine code verifies in the browser"
    results = dict(zip([case.label for case in cases], verdicts[1:], strict=True))
    valid = sorted(label for label, verdict in results.items() if verdict == "valid")
    assert valid == [], " | ".join(valid)
    assert {label: verdict for label, verdict in results.items() if str(verdict).startswith("raised")} == {}
