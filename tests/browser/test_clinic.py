"""Reception: camera scanning (issue #4) and verification with no network (issue #5), in Chromium.

The offline verifier in static/js/clinic-offline.js must give the verdict the
Python one (policy_codes/offline.py) gives: the parity test feeds both the same
codes. Codes made here belong to people this module registers, so the demo
citizens other browser tests use are left as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import cbor2
import pytest
from sqlalchemy import select

from policy_codes import Enp, FullName, decode, encode
from policy_codes.base45 import b45encode
from policy_codes.offline import OfflineVerifier
from signing import SigningKey, TrustList, sign1
from signing.jws import sign_compact
from tests.browser.demo_codes import forged
from tests.browser.fake_camera import (  # noqa: F401  (fake_camera_fixture: the fake_camera fixture)
    clinic_storage_state,
    fake_camera_fixture,
    scan_with_camera,
)
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, Server, shot
from webapp.extensions import db
from webapp.models import Category, CodeStatus, IssuedCode, Person
from webapp.registry import lifecycle, people
from webapp.registry.codes import live_code
from webapp.registry.keys import keystore, publication
from webapp.registry.people import PersonData

PETROV = str(Enp.with_check_digit("770000000000004"))
ACTOR = "browser-test"
#: Keeps the people of this module apart from the demo registry's.
REVOKED_ENP = str(Enp.with_check_digit("779900000000001"))
REISSUED_ENP = str(Enp.with_check_digit("779900000000002"))
HYPHENATED_ENP = str(Enp.with_check_digit("779900000000003"))
LATE_ENP = str(Enp.with_check_digit("779900000000004"))
#: The demo's soldier, whose policy the demo suspends.
SOLDIER_ENP = str(Enp.with_check_digit("770000000000007"))


@dataclass(frozen=True)
class Codes:
    valid: str
    forged: str
    revoked: str
    superseded: str
    unknown_key: str
    hyphenated: str
    wrong_insurer: str
    bad_claims: str


def _registered(enp: str, name: FullName) -> Person:
    person = db.session.scalar(select(Person).where(Person.enp == enp))
    if person is None:
        data = PersonData(Enp(enp), name, date(1999, 1, 2), "F", None, Category.CITIZEN)
        lifecycle.register_person(data, "77001", ACTOR)
        person = people.person_by_enp(enp)
    return person


def _code(person: Person, status: CodeStatus) -> str:
    return db.session.scalars(
        select(IssuedCode.text).where(IssuedCode.person_id == person.id, IssuedCode.status == status)
    ).first()


@pytest.fixture(scope="module")
def codes(live_server: Server) -> Codes:
    with live_server.app.app_context():
        valid = people.current_code(people.person_by_enp(PETROV)).text
        revoked = _registered(REVOKED_ENP, FullName("Отзывова", "Вера", "Петровна"))
        if people.current_code(revoked):
            lifecycle.revoke(REVOKED_ENP, ACTOR, "тест: код отозван")
        reissued = _registered(REISSUED_ENP, FullName("Заменова", "Ольга", ""))
        if _code(reissued, CodeStatus.SUPERSEDED) is None:
            lifecycle.reissue(REISSUED_ENP, ACTOR, "тест: перевыпуск")
        hyphenated = _registered(HYPHENATED_ENP, FullName("Римская-корсакова", "Д'арта", ""))
        claims = decode(valid, keystore.trust_list()).claims
        stranger = SigningKey.generate("77001", not_before=claims.issued_at - timedelta(days=1))
        insurer_key = keystore.signing_key("77001", datetime.now(UTC))
        other_insurer = decode(_code(hyphenated, CodeStatus.CURRENT), keystore.trust_list()).claims
        result = Codes(
            valid=valid,
            forged=forged(valid),
            revoked=_code(revoked, CodeStatus.REVOKED),
            superseded=_code(reissued, CodeStatus.SUPERSEDED),
            unknown_key=encode(claims, stranger),
            hyphenated=_code(hyphenated, CodeStatus.CURRENT),
            # Signed by a trusted key, but it claims another insurer: forged.
            wrong_insurer="OMS1:"
            + b45encode(sign1(cbor2.dumps({**other_insurer.to_wire(), 4: 77002}), insurer_key, at=claims.issued_at)),
            # Signed by a trusted key over claims that are not the documented map: malformed.
            bad_claims="OMS1:" + b45encode(sign1(cbor2.dumps({1: 5}), insurer_key, at=claims.issued_at)),
        )
        db.session.remove()
    return result


def _open_clinic(chromium: object, base: str, permissions: list[str], javascript: bool = True) -> object:
    """The reception page on a phone, logged in as the demo clinic."""
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport=PHONE,
        device_scale_factor=2,
        locale="ru-RU",
        permissions=permissions,
        java_script_enabled=javascript,
        storage_state=clinic_storage_state(chromium, base),
    )
    page = context.new_page()
    page.goto(f"{base}/clinic/")
    if javascript:
        page.wait_for_selector("#offline-lists[data-state=ready]")
    return page


@pytest.fixture
def clinic(browser: object, live_server: Server, request: pytest.FixtureRequest) -> Iterator[object]:
    """The reception page; parametrize indirectly with (permissions, JavaScript on) to change those."""
    permissions, javascript = getattr(request, "param", ([], True))
    page = _open_clinic(browser, live_server.url, permissions, javascript)
    yield page
    page.context.close()  # type: ignore[attr-defined]


def _submit(page: object, text: str) -> dict[str, str]:
    """Scan `text` into the form as a USB scanner would; the verdict shown, as its parts."""
    page.evaluate("document.getElementById('verdict').replaceChildren()")  # type: ignore[attr-defined]
    page.fill("#code", text)  # type: ignore[attr-defined]
    page.click("#scan-form button.primary")  # type: ignore[attr-defined]
    verdict = page.wait_for_selector("#verdict [data-verdict]")  # type: ignore[attr-defined]
    return {
        "verdict": verdict.get_attribute("data-verdict"),
        "offline": verdict.get_attribute("data-offline") or "",
        "text": verdict.inner_text(),
    }


BACKDATE_LISTS = """async (hours) => {
  const database = await new Promise((resolve, reject) => {
    const opening = indexedDB.open("oms-clinic", 1);
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const store = database.transaction("lists", "readwrite").objectStore("lists");
  const record = await new Promise((resolve) => { store.get("current").onsuccess = (e) => resolve(e.target.result); });
  record.fetchedAt -= hours * 3600 * 1000;
  await new Promise((resolve) => { store.put(record, "current").onsuccess = resolve; });
  database.close();
}"""


STORED_INCREMENTS = """async () => {
  const database = await new Promise((resolve) => {
    indexedDB.open("oms-clinic", 1).onsuccess = (e) => resolve(e.target.result);
  });
  const store = database.transaction("lists", "readonly").objectStore("lists");
  const record = await new Promise((resolve) => { store.get("current").onsuccess = (e) => resolve(e.target.result); });
  database.close();
  return record.revocations.map((document) => document.since);
}"""


def _revoked_after_caching(app: object) -> str:
    """A code revoked after the page first kept the lists: only an increment of the list names it."""
    with app.app_context():  # type: ignore[attr-defined]
        person = _registered(LATE_ENP, FullName("Позднова", "Лидия", ""))
        if people.current_code(person):
            lifecycle.revoke(LATE_ENP, ACTOR, "тест: отозван после загрузки списков")
        text = _code(person, CodeStatus.REVOKED)
        db.session.remove()
    return text


def _soldiers_code(app: object) -> str:
    with app.app_context():  # type: ignore[attr-defined]
        text = _code(people.person_by_enp(SOLDIER_ENP), CodeStatus.SUSPENDED)
        db.session.remove()
    return text


def test_offline_reception_verifies_in_the_browser(live_server: Server, clinic: object, codes: Codes) -> None:
    page = clinic
    late = _revoked_after_caching(live_server.app)
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_selector("#offline-lists[data-state=ready]")  # type: ignore[attr-defined]
    since = page.evaluate(STORED_INCREMENTS)  # type: ignore[attr-defined]
    assert len(since) >= 2, "the reload fetched only what changed"
    assert since[0] == 0
    assert since[-1] > 0
    online = _submit(page, codes.valid)
    assert (online["verdict"], online["offline"]) == ("valid", ""), "online, the server answers"
    shot(page, "clinic-online-valid")

    # The server cannot be reached though the browser thinks it is online: htmx:sendError.
    page.route("**/clinic/verify", lambda route: route.abort("connectionrefused"))  # type: ignore[attr-defined]
    unreachable = _submit(page, codes.revoked)
    assert (unreachable["verdict"], unreachable["offline"]) == ("revoked", "true")
    page.unroute("**/clinic/verify")  # type: ignore[attr-defined]

    page.context.set_offline(True)  # type: ignore[attr-defined]
    valid = _submit(page, codes.valid)
    assert (valid["verdict"], valid["offline"]) == ("valid", "true")
    assert "Петров Алексей Николаевич, 30.01.1978" in valid["text"]
    assert page.is_visible("#verdict .verdict-headline [data-icon=check]")  # type: ignore[attr-defined]
    assert re.search(r"Код действителен по спискам реестра от \d\d\.\d\d\.\d{4} \d\d:\d\d \(МСК\)", valid["text"])
    assert "в реестре он действующий" not in valid["text"], "offline, no registry was asked"
    assert re.search(r"Нет сети: проверено в браузере по спискам реестра, полученным (в эту|1) минуту", valid["text"])
    assert not page.is_visible(".offline-stale")  # type: ignore[attr-defined]
    shot(page, "clinic-offline-valid")

    forged = _submit(page, codes.forged)
    assert forged["verdict"] == "forged"
    assert "Подпись не совпадает" in forged["text"]
    assert page.is_visible("#verdict .verdict-headline [data-icon=cross]")  # type: ignore[attr-defined]
    shot(page, "clinic-offline-forged")
    revoked = _submit(page, codes.revoked)
    assert revoked["verdict"] == "revoked"
    assert "Отзывова Вера Петровна" in revoked["text"]
    assert "Помощь в экстренной форме" in revoked["text"], "the patient's cover is in doubt"
    replaced = _submit(page, codes.superseded)
    assert replaced["verdict"] == "superseded"
    assert "Помощь в экстренной форме" not in replaced["text"], "an old code: ask for the current one"
    assert _submit(page, codes.unknown_key)["verdict"] == "unknown_key"
    assert _submit(page, late)["verdict"] == "revoked", "the increment was kept and believed"
    suspended = _submit(page, _soldiers_code(live_server.app))
    assert suspended["verdict"] == "suspended", "the revocation list names a suspended policy's code"
    assert "Действие полиса приостановлено" in suspended["text"]

    typed = _submit(page, PETROV)
    assert typed["verdict"] == "unchecked", "a number is a registry look-up: never valid offline"
    assert "Номер и бумажный полис проверяются только по реестру" in typed["text"]
    assert not page.is_visible("#verdict [data-icon=check]")  # type: ignore[attr-defined]
    shot(page, "clinic-offline-number")

    page.evaluate(BACKDATE_LISTS, 80)  # type: ignore[attr-defined]
    stale = _submit(page, codes.valid)
    assert stale["verdict"] == "valid"
    assert "Спискам больше 72 часов" in stale["text"]
    assert page.is_visible(".offline-stale")  # type: ignore[attr-defined]
    assert "3 дня назад" in stale["text"]
    assert page.get_attribute("#offline-lists", "data-state") == "stale"  # type: ignore[attr-defined]
    shot(page, "clinic-offline-stale")


PARITY = """async ([texts, trust, revocations, registryKeys, nowMs]) => {
  const { OfflineVerifier } = await import("/static/js/clinic-offline.js");
  const verifier = await OfflineVerifier.create(trust, [revocations], registryKeys);
  const results = [];
  for (const text of texts) results.push(await verifier.verify(text, nowMs));
  return results;
}"""


def _russian_layout(text: str) -> str:
    """What a USB scanner types for `text` with the Russian layout on (policy_codes/keyboard.py, reversed)."""
    keys = "QWERTYUIOPASDFGHJKLZXCVBNM:./$"
    russian = "ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬЖЮ.;"
    return text.translate(str.maketrans(keys, russian))


def _lists(app: object, compromised_insurer: str | None = None) -> tuple[dict, dict, dict]:
    """The published trust list, revocation list and registry JWKS. With `compromised_insurer`, a trust
    list that marks that insurer's keys compromised, signed by the registry as the real one would be."""
    with app.app_context():  # type: ignore[attr-defined]
        trust = publication.trust_list_document()
        revocations = publication.revocations_document()
        registry_keys = publication.registry_jwks()
        if compromised_insurer:
            keys = [
                {**{name: value for name, value in key.items() if name != "retired_at"}, "status": "compromised"}
                if key["insurer"] == compromised_insurer
                else key
                for key in trust["keys"]
            ]
            body = {"format": trust["format"], "issued_at": trust["issued_at"], "keys": keys}
            canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
            trust = {**body, "jws": sign_compact(canonical, publication.registry_key())}
        db.session.remove()
    return trust, revocations, registry_keys


def _both_verdicts(
    page: object, texts: list[str], lists: tuple[dict, dict, dict], later: timedelta = timedelta(0)
) -> tuple[list[dict], list]:
    """What the browser's verifier and the Python one say of `texts`, `later` than now."""
    trust, revocations, registry_keys = lists
    python = OfflineVerifier(trust, [revocations], list(TrustList.from_jwks(registry_keys)))
    now = datetime.now(UTC).replace(microsecond=0) + later
    browser = page.evaluate(  # type: ignore[attr-defined]
        PARITY, [texts, trust, revocations, registry_keys, int(now.timestamp() * 1000)]
    )
    return browser, [python.verify(text, now) for text in texts]


def test_the_browser_verifier_gives_the_python_verdicts(live_server: Server, clinic: object, codes: Codes) -> None:
    with live_server.app.app_context():
        petrov_code = people.current_code(people.person_by_enp(PETROV))
        live = live_code(petrov_code, datetime.now(UTC))
        db.session.remove()
    texts = [
        codes.valid,
        codes.forged,
        codes.revoked,
        codes.superseded,
        codes.unknown_key,
        codes.hyphenated,
        codes.wrong_insurer,
        codes.bad_claims,
        live,
        codes.valid.lower() + "\r\n",
        codes.valid + "\x1d",  # a scanner's group separator: Python's strip() takes it, as it takes U+0085
        "\x85" + codes.valid,
        _russian_layout(codes.valid),
        codes.valid[:-3],
        codes.valid[:120],
        "OMS1:" + b45encode(b"\x84\x40\xa0\x40\x40"),
        "OMS1:" + b45encode(bytes(range(40))),
        "OMS1:!!",
        "OMS2:ABC",
        "https://example.org/",
        "",
        "OMS1:" + "0" * 1200,
    ]
    browser, expected = _both_verdicts(clinic, texts, _lists(live_server.app))
    assert [result["verdict"] for result in browser] == [str(result.verdict) for result in expected]
    assert [result["shown"] for result in browser] == [str(result.shown) for result in expected]
    assert [result["holder"] and result["holder"]["name"] for result in browser] == [
        result.holder_name for result in expected
    ]
    assert [result["holder"] and result["holder"]["birthDate"] for result in browser] == [
        result.birth_date for result in expected
    ]
    assert browser[5]["holder"]["name"] == "Римская-Корсакова Д'Арта", "hyphen and apostrophe as Python's title()"
    assert [result["verdict"] for result in browser[:9]] == [
        "valid",
        "forged",
        "revoked",
        "superseded",
        "unknown_key",
        "valid",
        "forged",
        "malformed",
        "valid",
    ]
    assert browser[8]["shown"] == "live_code"
    lists = _lists(live_server.app)
    browser, expected = _both_verdicts(clinic, [live, codes.valid], lists, later=timedelta(minutes=5))
    assert [result["verdict"] for result in browser] == [str(result.verdict) for result in expected]
    assert [result["verdict"] for result in browser] == ["expired", "valid"], "a live code runs out in 90 s"
    assert [result["shown"] for result in browser] == [str(result.shown) for result in expected]
    assert browser[0]["shown"] == "live_code", "so the desk is told to ask for a fresh one, not a new policy"


def test_a_compromised_key_is_named_as_such(live_server: Server, clinic: object, codes: Codes) -> None:
    browser, expected = _both_verdicts(clinic, [codes.valid], _lists(live_server.app, compromised_insurer="77001"))
    assert [result["verdict"] for result in browser] == [str(result.verdict) for result in expected]
    assert browser[0]["verdict"] == "key_compromised"


def test_a_tampered_list_is_refused(live_server: Server, clinic: object) -> None:
    trust, revocations, registry_keys = _lists(live_server.app)
    refuse = """async ([trust, revocations, keys]) => {
      const { OfflineVerifier } = await import("/static/js/clinic-offline.js");
      try { await OfflineVerifier.create(trust, [revocations], keys); return "accepted"; }
      catch (error) { return error.constructor.name; }
    }"""
    assert clinic.evaluate(refuse, [trust, revocations, registry_keys]) == "accepted"  # type: ignore[attr-defined]
    emptied = {**revocations, "revoked": ""}
    assert clinic.evaluate(refuse, [trust, emptied, registry_keys]) == "BadList"  # type: ignore[attr-defined]
    edited = {**trust, "jws": trust["jws"][:-2] + ("AA" if not trust["jws"].endswith("AA") else "BB")}
    assert clinic.evaluate(refuse, [edited, revocations, registry_keys]) == "BadList"  # type: ignore[attr-defined]
    insurers = {"keys": [key for key in trust["keys"] if key["insurer"] != "registry"]}
    assert clinic.evaluate(refuse, [trust, revocations, insurers]) == "BadList", "only the pinned key signs lists"  # type: ignore[attr-defined]


def _hosts(requests: list[str]) -> set[str]:
    return {urlsplit(url).hostname or "" for url in requests if not url.startswith(("data:", "blob:"))}


def test_camera_scan_shows_the_verdict_and_loads_nothing_from_elsewhere(
    live_server: Server, fake_camera: object, codes: Codes
) -> None:
    chromium = fake_camera(codes.valid)  # type: ignore[operator]
    requests: list[str] = []
    page = scan_with_camera(chromium, live_server.url, requests=requests, native_detector=False)
    verdict = page.locator("#verdict [data-verdict]")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert "Петров Алексей Николаевич, 30.01.1978" in verdict.inner_text()
    assert page.is_visible("#camera-video")
    shot(page, "clinic-camera-valid")
    assert _hosts(requests) == {"127.0.0.1"}, "nothing from a CDN"
    assert any(url.endswith("/static/vendor/zxing-wasm/zxing_reader.wasm") for url in requests)
    page.wait_for_timeout(1500)
    checks = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.endsWith('/verify')).length")
    assert checks == 1, "the same code in view is one scan, not one a frame"
    page.context.close()


def test_camera_reads_the_number_barcode(live_server: Server, fake_camera: object) -> None:
    chromium = fake_camera(PETROV)  # type: ignore[operator]
    page = scan_with_camera(chromium, live_server.url, native_detector=False)
    verdict = page.locator("#verdict [data-verdict]")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert "Номер найден в реестре" in verdict.inner_text()
    page.context.close()


def test_camera_reads_the_signed_code_of_a_card_showing_both(
    live_server: Server, fake_camera: object, codes: Codes
) -> None:
    """A holder's card shows the QR above its ЕНП's barcode; turned round to the desk, the barcode comes first. The
    camera sees both: the signed code is what gets checked, once, not the bare number, nor the two in turn."""
    chromium = fake_camera(PETROV, codes.valid)  # type: ignore[operator]
    page = scan_with_camera(chromium, live_server.url, native_detector=False)
    page.wait_for_timeout(1500)
    verdict = page.locator("#verdict [data-verdict]")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert "Номер найден в реестре" not in verdict.inner_text()
    checks = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.endsWith('/verify')).length")
    assert checks == 1
    page.context.close()


def _camera_trouble(page: object, state: str) -> str:
    page.click("#camera-toggle")  # type: ignore[attr-defined]
    status = page.wait_for_selector(f"#camera-status[data-state={state}]")  # type: ignore[attr-defined]
    shot(page, f"clinic-camera-{state}")
    return status.inner_text()


@pytest.mark.parametrize("clinic", [(["camera"], True)], indirect=True)
def test_no_camera_is_said_plainly(clinic: object) -> None:
    assert "Камера не найдена" in _camera_trouble(clinic, "absent")


def test_a_denied_camera_is_said_plainly(browser: object, live_server: Server) -> None:
    """A camera is there (a fake one), but the page may not use it."""
    chromium = browser.browser_type.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"]
    )
    try:
        page = _open_clinic(chromium, live_server.url, permissions=[])
        assert "Доступ к камере запрещён" in _camera_trouble(page, "denied")
        assert not page.is_visible("#camera-video")  # type: ignore[attr-defined]
    finally:
        chromium.close()


@pytest.mark.parametrize("clinic", [([], False)], indirect=True)
def test_without_javascript_the_form_still_works(clinic: object, codes: Codes) -> None:
    page = clinic
    assert not page.is_visible("#camera-toggle"), "no camera button without JavaScript"  # type: ignore[attr-defined]
    page.fill("#code", codes.valid)  # type: ignore[attr-defined]
    page.click("#scan-form button.primary")  # type: ignore[attr-defined]
    page.wait_for_url("**/clinic/verify")  # type: ignore[attr-defined]
    assert page.get_attribute("#verdict [data-verdict]", "data-verdict") == "valid"  # type: ignore[attr-defined]


# ---- the verdict as a clerk reads it (issue 18, item 5) ----

#: Records each tone the page plays (WebAudio runs in headless Chromium; this only watches it).
LISTEN_TO_TONES = """(() => {
  window.tonesPlayed = [];
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.tonesPlayed.push(this.frequency.value);
    return start.apply(this, args);
  };
})();"""


def _headline(page: object) -> str:
    return page.inner_text("#verdict .verdict-headline").strip()  # type: ignore[attr-defined]


def test_the_headline_is_a_word_or_two_and_fits_one_glance(clinic: object, codes: Codes) -> None:
    page = clinic
    for text, headline in [
        (codes.valid, "ДЕЙСТВИТЕЛЕН"),
        (codes.revoked, "ОТОЗВАН"),
        (codes.forged, "ПОДДЕЛКА"),
        ("1234567890123452", "НЕ НАЙДЕН"),
        (PETROV[:-1] + str((int(PETROV[-1]) + 1) % 10), "ОПЕЧАТКА"),
    ]:
        _submit(page, text)
        assert _headline(page) == headline
        box = page.locator("#verdict .verdict-headline").bounding_box()  # type: ignore[attr-defined]
        assert box is not None
        assert box["height"] <= 100, "at most two short lines on a 390 px phone"
        message = page.locator("#verdict .verdict-message").bounding_box()  # type: ignore[attr-defined]
        assert message is not None
        assert message["y"] >= box["y"] + box["height"], "what it means and what to do, beneath"
    shot(page, "clinic-headline-typo")


def test_after_a_verdict_the_next_scan_needs_no_tap(clinic: object, codes: Codes) -> None:
    page = clinic
    for text in (codes.valid, codes.forged, "1234567890123452"):
        _submit(page, text)
        page.wait_for_function("document.activeElement && document.activeElement.id === 'code'")  # type: ignore[attr-defined]
        assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") == len(text)  # type: ignore[attr-defined]
    page.context.set_offline(True)  # type: ignore[attr-defined]
    _submit(page, codes.revoked)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'code'")  # type: ignore[attr-defined]
    page.keyboard.type(codes.valid)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector("#verdict [data-verdict=valid]")  # type: ignore[attr-defined]


def test_a_typed_number_offline_says_only_that_it_needs_the_network(clinic: object) -> None:
    page = clinic
    page.context.set_offline(True)  # type: ignore[attr-defined]
    typed = _submit(page, PETROV)
    assert typed["verdict"] == "unchecked"
    assert _headline(page) == "НЕТ СЕТИ"
    assert "проверено в браузере" not in typed["text"], "nothing was checked"
    mistyped = _submit(page, PETROV[:-1] + str((int(PETROV[-1]) + 1) % 10))
    assert mistyped["verdict"] == "malformed"
    assert _headline(page) == "ОПЕЧАТКА"
    assert "В номере опечатка" in mistyped["text"]
    assert "проверено в браузере" not in mistyped["text"]
    shot(page, "clinic-offline-typo")


def test_a_number_with_a_digit_dropped_offline_is_counted_as_online(clinic: object) -> None:
    """In a basement with no network the desk said «Не полис» for 15 digits, as the server had: it counts them."""
    page = clinic
    page.context.set_offline(True)  # type: ignore[attr-defined]
    dropped = _submit(page, f"{PETROV[:4]} {PETROV[4:8]} {PETROV[8:12]} {PETROV[12:15]}")
    assert dropped["verdict"] == "not_a_policy_code"
    assert _headline(page) == "НЕ 16 ЦИФР"
    assert "Введено 15 цифр, а в номере полиса (ЕНП) их 16" in dropped["text"]
    shot(page, "clinic-offline-miscounted")
    assert _submit(page, "7700")["verdict"] == "not_a_policy_code"
    assert _headline(page) == "НЕ ПОЛИС", "four digits are no policy number"


def test_an_out_of_date_live_code_offline_asks_for_a_fresh_one(live_server: Server, clinic: object) -> None:
    """A live code shown three minutes after it was signed (the page's clock moved on, not the key's)."""
    with live_server.app.app_context():
        code = people.current_code(people.person_by_enp(PETROV))
        signed = live_code(code, datetime.now(UTC))
        db.session.remove()
    clinic.clock.set_fixed_time(datetime.now(UTC) + timedelta(minutes=3))  # type: ignore[attr-defined]
    clinic.context.set_offline(True)  # type: ignore[attr-defined]
    shown = _submit(clinic, signed)
    assert shown["verdict"] == "expired"
    assert _headline(clinic) == "КОД УСТАРЕЛ"
    assert "Код на экране устарел" in shown["text"]


def test_a_sound_for_each_verdict_only_when_asked_and_remembered(
    browser: object, live_server: Server, codes: Codes
) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport=PHONE, locale="ru-RU", storage_state=clinic_storage_state(browser, live_server.url)
    )
    context.add_init_script(LISTEN_TO_TONES)
    page = context.new_page()
    page.goto(f"{live_server.url}/clinic/")
    page.wait_for_selector("#offline-lists[data-state=ready]")
    toggle = page.locator("#sound-toggle")
    assert toggle.is_visible()
    assert not toggle.is_checked(), "off by default"
    _submit(page, codes.valid)
    assert page.evaluate("window.tonesPlayed") == []
    toggle.check()
    page.reload()
    page.wait_for_selector("#offline-lists[data-state=ready]")
    assert page.locator("#sound-toggle").is_checked(), "the choice is remembered on this computer"
    _submit(page, codes.valid)
    page.wait_for_function("window.tonesPlayed.length > 0")
    good = page.evaluate("window.tonesPlayed.splice(0)")
    _submit(page, codes.forged)
    page.wait_for_function("window.tonesPlayed.length > 0")
    bad = page.evaluate("window.tonesPlayed.splice(0)")
    assert good
    assert bad
    assert min(good) > max(bad), "valid rings high, anything else buzzes low"
    page.locator("#sound-toggle").uncheck()
    _submit(page, codes.valid)
    page.wait_for_timeout(300)
    assert page.evaluate("window.tonesPlayed") == []
    context.close()


#: The demo's newcomer, who holds a temporary certificate until her policy is ready.
NEWCOMER_ENP = str(Enp.with_check_digit("770000000000006"))
#: The demo's worker from the EAEU, whose policy ends with his right to stay.
WORKER_ENP = str(Enp.with_check_digit("770000000000005"))


def test_a_certificate_and_an_ending_policy_offline_say_until_when(live_server: Server, clinic: object) -> None:
    """The browser's verdict words a certificate's code, and a policy's with an end, as the server's does."""
    with live_server.app.app_context():
        text = people.current_code(people.person_by_enp(NEWCOMER_ENP)).text
        valid_to = people.open_policy(people.person_by_enp(NEWCOMER_ENP)).valid_to
        petrov = people.current_code(people.person_by_enp(PETROV)).text
        worker = people.current_code(people.person_by_enp(WORKER_ENP)).text
        worker_valid_to = people.open_policy(people.person_by_enp(WORKER_ENP)).valid_to
        db.session.remove()
    clinic.context.set_offline(True)  # type: ignore[attr-defined]
    shown = _submit(clinic, text)
    assert (shown["verdict"], shown["offline"]) == ("valid", "true")
    line = f"Временное свидетельство, действует до {valid_to.strftime('%d.%m.%Y')} включительно"
    assert clinic.inner_text("#verdict .verdict-terms") == line  # type: ignore[attr-defined]
    assert shown["text"].index(line) < shown["text"].index("Смирнова Анна Викторовна"), "read before the name"
    shot(clinic, "clinic-offline-temporary-certificate")
    _submit(clinic, worker)
    line = f"Полис ОМС единого образца, действует до {worker_valid_to.strftime('%d.%m.%Y')} включительно"
    assert clinic.inner_text("#verdict .verdict-terms") == line, "a policy with an end says it"  # type: ignore[attr-defined]
    _submit(clinic, petrov)
    assert not clinic.is_visible("#verdict .verdict-terms"), "a policy with no end needs no line"  # type: ignore[attr-defined]
