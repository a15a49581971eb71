"""The holder's phone: the code shows, refreshes while online, and falls back to the static code offline."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from policy_codes import Verdict
from tests.helpers.browser import Server, log_in, shot
from webapp.registry.verification import verify_scan


def read_qr(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    return result.text


def test_citizen_sees_a_live_code_that_falls_back_offline(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "ivanova", "citizen-demo-2026")
    page.wait_for_selector("#live[data-showing=live] svg")
    assert "Иванова Мария Петровна" in page.inner_text("h1")
    shot(page, "citizen-live-code")
    live = read_qr(page.locator("#live").screenshot())
    assert live.startswith("OMS1:")

    page.context.set_offline(True)
    page.wait_for_selector("#live[data-showing=static] img")
    static = read_qr(page.locator("#live img").screenshot())
    shot(page, "citizen-offline-static-code")
    assert static != live
    with live_server.app.app_context():
        assert verify_scan(live).shown == "live_code"
        assert verify_scan(live).verdict is Verdict.VALID
        assert verify_scan(static).shown == "static_code"
        assert verify_scan(static).verdict is Verdict.VALID


def test_show_at_reception_fills_the_screen_with_a_readable_code(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "petrov", "citizen-demo-2026")
    page.click("text=Показать в регистратуре")
    page.wait_for_selector("img.reception-qr")
    page.locator("img.reception-qr").evaluate("image => image.decode()")  # loaded; wait_for_function would need eval
    box = page.locator("img.reception-qr").bounding_box()
    assert box is not None
    assert box["width"] >= 340, "the code takes the width of a 390 px phone"
    shot(page, "citizen-show-at-reception")
    text = read_qr(page.locator("img.reception-qr").screenshot())
    with live_server.app.app_context():
        result = verify_scan(text)
    assert result.verdict is Verdict.VALID
    assert result.holder is not None
    assert result.holder.name == "Петров Алексей Николаевич"
