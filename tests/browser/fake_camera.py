"""A camera that shows a given code, for browser tests of scanning at the reception desk.

Chromium reads a Y4M file as its camera when launched with
`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE`
(and `--use-fake-ui-for-media-stream` to grant access without asking). The
file is a launch argument, so each code needs a Chromium of its own.

How to use it in another browser test:

    from tests.browser.fake_camera import fake_camera_fixture, scan_with_camera  # noqa: F401

    def test_scenario(live_server, fake_camera):
        chromium = fake_camera(code_text)          # Chromium whose camera shows this code
        page = scan_with_camera(chromium, live_server.url)   # clinic logs in, scans, a verdict shows
        assert page.get_attribute("#verdict [data-verdict]", "data-verdict") == "valid"
        page.context.close()

The fixture is registered under the name `fake_camera` (importing
`fake_camera_fixture` makes it visible to the module; the other name keeps ruff
from seeing a redefinition). Each call launches one more Chromium, all closed
after the test. A QR is drawn for code text, a Code128 for 16 digits; several codes are drawn one above
the other.
`scan_with_camera` opens a fresh context each time, so scanning the same code
again (after a revocation, say) is a new scan, not a repeat the page ignores.
It logs the clinic in once per server (`clinic_storage_state`): logins are
rate-limited to 5 a minute per user.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from policy_codes import Enp
from policy_codes.render import code128_png, qr_png
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, log_in

WIDTH, HEIGHT = 640, 480
FRAMES = 3
CLINIC_LOGIN = ("clinic", "clinic-demo-2026")


def _code_picture(code_text: str) -> Image.Image:
    digits = code_text.strip()
    png = code128_png(Enp(digits)) if len(digits) == 16 and digits.isdigit() else qr_png(code_text, scale=4)
    return Image.open(io.BytesIO(png)).convert("L")


def _picture(code_texts: tuple[str, ...]) -> Image.Image:
    """The codes one above the other, as a holder's card shows its QR and its ЕНП's barcode, fitted in a frame."""
    pictures = [_code_picture(text) for text in code_texts]
    image = Image.new("L", (max(p.width for p in pictures), sum(p.height for p in pictures)), 255)
    top = 0
    for picture in pictures:
        image.paste(picture, ((image.width - picture.width) // 2, top))
        top += picture.height
    image.thumbnail((WIDTH - 40, HEIGHT - 40), Image.Resampling.NEAREST)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(image, ((WIDTH - image.width) // 2, (HEIGHT - image.height) // 2))
    return frame


def write_fake_video(path: Path, *code_texts: str) -> Path:
    """A Y4M (YUV 4:2:0) file of a few identical frames showing the codes on white."""
    luma = _picture(code_texts).tobytes()
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)  # no colour
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(FRAMES):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def camera_args(video: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


@pytest.fixture(name="fake_camera")
def fake_camera_fixture(browser: object, tmp_path: Path) -> Iterator[Callable[[str], object]]:
    """`fake_camera(*code_texts)` → a Chromium (Playwright Browser) whose camera shows those codes."""
    launched: list[object] = []

    def launch(*code_texts: str) -> object:
        video = write_fake_video(tmp_path / f"camera-{len(launched)}.y4m", *code_texts)
        chromium = browser.browser_type.launch(  # type: ignore[attr-defined]
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *camera_args(video)]
        )
        launched.append(chromium)
        return chromium

    yield launch
    for chromium in launched:
        chromium.close()  # type: ignore[attr-defined]


_clinic_states: dict[str, dict[str, object]] = {}


def clinic_storage_state(browser: object, base: str) -> dict[str, object]:
    """The demo clinic's logged-in cookies, for `new_context(storage_state=...)`; one login per server."""
    if base not in _clinic_states:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        log_in(page, base, *CLINIC_LOGIN)
        page.wait_for_url(f"{base}/clinic/")
        _clinic_states[base] = context.storage_state()
        context.close()
    return _clinic_states[base]


def scan_with_camera(
    chromium: object,
    base: str,
    language: str = "ru-RU",
    requests: list[str] | None = None,
    native_detector: bool = True,
) -> object:
    """Open the reception page as the demo clinic in a fresh phone-sized context and scan with the camera.

    Returns the page once a verdict shows. `requests` collects every URL the page asked for;
    `native_detector=False` hides the browser's own BarcodeDetector, so the vendored one reads.
    """
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport=PHONE,
        device_scale_factor=2,
        locale=language,
        permissions=["camera"],
        storage_state=clinic_storage_state(chromium, base),
    )
    if requests is not None:
        context.on("request", lambda request: requests.append(request.url))
    if not native_detector:
        context.add_init_script("delete window.BarcodeDetector;")
    page = context.new_page()
    page.goto(f"{base}/clinic/")
    page.click("#camera-toggle")
    page.wait_for_selector("#verdict [data-verdict]", timeout=30_000)
    return page
