"""What the reception page hands its browser for camera scanning and offline checks (issues #4, #5).

The browser side runs in tests/browser/test_clinic.py; these check the server's part on both databases.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from flask import Flask

from policy_codes import Verdict
from policy_codes.offline import OfflineVerifier
from policy_codes.verdicts import offline_message, offline_words
from signing import TrustList
from tests.helpers.registry import NOW
from tests.webapp.pages import MOTHER, code_text, csrf, logged_in
from webapp.registry.keys import publication

ROOT = Path(__file__).resolve().parents[2]
WASM = ROOT / "static/vendor/zxing-wasm/zxing_reader.wasm"
PONYFILL_BUNDLE = ROOT / "static/vendor/barcode-detector/zxing-exported.js"


def _data(page: str, name: str) -> object:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    assert match, f"the page carries data-{name}"
    return json.loads(html.unescape(match.group(1)))


def test_the_page_pins_the_registry_key_that_signs_the_published_lists(site: Flask) -> None:
    client = logged_in(site, "clinic")
    page = client.get("/clinic/").get_data(as_text=True)
    pinned = _data(page, "registry-keys")
    with site.app_context():
        assert pinned == publication.registry_jwks()
    trust = client.get("/api/v1/trust-list").get_json()
    revocations = client.get("/api/v1/revocations").get_json()
    verifier = OfflineVerifier(trust, [revocations], list(TrustList.from_jwks(pinned)))
    assert verifier.verify(code_text(site, MOTHER), NOW).verdict is Verdict.VALID
    assert {key["insurer"] for key in pinned["keys"]} == {"registry"}, "only the operator's keys are pinned"


def test_the_page_carries_every_verdict_in_the_chosen_language(site: Flask) -> None:
    """As an offline verifier says them: a `valid` by the lists of a date the page fills in, not the registry's;
    each with its headline, and in the words that fit what was shown where those differ."""
    client = logged_in(site, "clinic")
    words = _data(client.get("/clinic/").get_data(as_text=True), "words")
    assert words == offline_words("ru", "{date}")
    assert {key for key in words if "/" not in key} == {str(verdict) for verdict in Verdict}
    assert words["valid"] == {"headline": "Действителен", "message": offline_message(Verdict.VALID, "ru", "{date}")}
    assert words["expired/live_code"]["headline"] == "Код устарел"
    assert words["malformed/number"]["headline"] == "Опечатка"
    client.post("/language", data={"language": "en", "next": "/clinic/", "csrf_token": csrf(client, "/clinic/")})
    page = client.get("/clinic/").get_data(as_text=True)
    assert _data(page, "words") == offline_words("en", "{date}")
    assert _data(page, "words")["valid"]["message"].startswith("Valid by the registry's lists of {date}")
    assert "Offline: checked in the browser against the registry's lists from {age}." in page


def test_without_javascript_there_is_no_camera_button_and_the_form_posts(site: Flask) -> None:
    client = logged_in(site, "clinic")
    page = client.get("/clinic/").get_data(as_text=True)
    button = re.search(r"<button[^>]*id=\"camera-toggle\"[^>]*>", page)
    assert button is not None
    assert " hidden" in button.group(0), "the script shows the button only where a camera can work"
    token = csrf(client, "/clinic/")
    answer = client.post("/clinic/verify", data={"code": code_text(site, MOTHER), "csrf_token": token})
    assert 'data-verdict="valid"' in answer.get_data(as_text=True)
    assert "<script" not in re.sub(r"<script[^>]* src=[^>]*></script>", "", answer.get_data(as_text=True))


def test_the_vendored_decoder_and_its_wasm_are_served_from_here(site: Flask) -> None:
    client = site.test_client()
    wasm = client.get("/static/vendor/zxing-wasm/zxing_reader.wasm")
    assert wasm.status_code == 200
    assert wasm.mimetype == "application/wasm", "streaming compilation needs the right type"
    digest = hashlib.sha256(wasm.get_data()).hexdigest()
    assert digest in PONYFILL_BUNDLE.read_text(encoding="utf-8"), "the .wasm is the one the vendored JS was built for"
    wasm.close()
    for module in ("vendor/barcode-detector/ponyfill.js", "js/clinic-offline.js", "js/clinic-camera.js"):
        response = client.get(f"/static/{module}")
        assert response.status_code == 200
        assert response.mimetype in ("text/javascript", "application/javascript"), "ES modules need a script type"
        response.close()
    assert WASM.with_name("LICENSE").exists()
    assert PONYFILL_BUNDLE.with_name("LICENSE").exists()
