"""The whole story on a 390×844 phone, with Chromium's fake camera showing the code:

1. a citizen logs in and sees their QR;
2. the clinic scans it with the camera: `valid`, with the holder's name;
3. the insurer revokes the code;
4. the same scan now says `revoked`.

Each step leaves a screenshot in test-artifacts/. The demo registry is shared by the
browser tests, so the citizen gets a fresh code again at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policy_codes import Enp
from tests.browser.fake_camera import fake_camera_fixture, scan_with_camera  # noqa: F401
from tests.browser.test_citizen import read_qr
from tests.helpers.browser import Server, log_in, shot
from webapp.registry import lifecycle

IVANOVA = str(Enp.with_check_digit("770000000000001"))


@pytest.fixture
def ivanova_restored(live_server: Server) -> Iterator[None]:
    yield
    with live_server.app.app_context():
        lifecycle.reissue(IVANOVA, "test", "после сценария с отзывом")


def test_citizen_shows_clinic_scans_insurer_revokes_clinic_scans_again(
    live_server: Server, phone: object, fake_camera: object, ivanova_restored: None
) -> None:
    page = phone
    log_in(page, live_server.url, "ivanova", "citizen-demo-2026")
    page.wait_for_selector("#live svg, #live img")
    shot(page, "scenario-1-citizen-sees-qr")
    page.click("text=Показать в регистратуре")
    page.locator("img.reception-qr").evaluate("image => image.decode()")  # loaded and ready to read
    code_text = read_qr(page.locator("img.reception-qr").screenshot())
    assert code_text.startswith("OMS1:")

    chromium = fake_camera(code_text)  # type: ignore[operator]
    clinic = scan_with_camera(chromium, live_server.url)
    assert clinic.get_attribute("#verdict [data-verdict]", "data-verdict") == "valid"
    assert "Иванова Мария Петровна" in clinic.inner_text("#verdict")
    shot(clinic, "scenario-2-clinic-camera-valid")
    clinic.context.close()

    insurer = page.context.browser.new_context(viewport=page.viewport_size).new_page()
    log_in(insurer, live_server.url, "smo-77001", "smo-demo-2026")
    insurer.goto(f"{live_server.url}/insurer/person/{IVANOVA}")
    insurer.click(f"a[href$='/person/{IVANOVA}/revoke']")
    insurer.select_option("select[name=reason]", "misused")
    insurer.click("button.danger")
    insurer.wait_for_selector(".flash.ok")
    shot(insurer, "scenario-3-insurer-revoked")
    insurer.context.close()

    clinic = scan_with_camera(chromium, live_server.url)
    assert clinic.get_attribute("#verdict [data-verdict]", "data-verdict") == "revoked"
    shot(clinic, "scenario-4-clinic-camera-revoked")
    clinic.context.close()
