"""The screenshots in docs/screens/: what each user sees on the screens issue 18 is about.

    .venv/bin/python -m tests.browser.screens docs/screens after

serves the demo registry on loopback, drives Debian's Chromium through each
screen and writes FOLDER/PREFIX-NAME.png (`before-*.png` were taken on main
before issue 18's fixes). Pages are photographed whole, at one device pixel
per CSS pixel, so the files stay small.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from tests.browser.demo_codes import MOTHER, NEWBORN, PETROV, STOLEN, code_text
from tests.helpers.browser import chromium, demo_app, log_in, serving
from webapp.models import CodeStatus

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LOGINS = {
    "clinic": ("clinic", "clinic-demo-2026"),
    "insurer": ("smo-77001", "smo-demo-2026"),
    "citizen": ("ivanova", "citizen-demo-2026"),
    "admin": ("admin", "admin-demo-2026"),
}


@dataclass(frozen=True)
class Screen:
    name: str
    role: str
    viewport: dict[str, int]
    #: Brings the logged-in page to the screen: (page, base URL, app).
    reach: Callable[[Any, str, Flask], None]


def _open(path: str) -> Callable[[Any, str, Flask], None]:
    def reach(page: Any, base: str, app: Flask) -> None:
        page.goto(base + path)

    return reach


def _scan(enp: str, status: CodeStatus) -> Callable[[Any, str, Flask], None]:
    """The clinic scans the person's signed code, as a USB scanner types it and presses Enter."""

    def reach(page: Any, base: str, app: Flask) -> None:
        page.goto(f"{base}/clinic/")
        page.fill("input[name=code]", code_text(app, enp, status))
        page.keyboard.press("Enter")
        page.wait_for_selector("#verdict [data-verdict]")

    return reach


SCREENS = (
    Screen("clinic-verdict-valid", "clinic", PHONE, _scan(PETROV, CodeStatus.CURRENT)),
    Screen("clinic-verdict-revoked", "clinic", PHONE, _scan(STOLEN, CodeStatus.REVOKED)),
    Screen("insurer-person", "insurer", PHONE, _open(f"/insurer/person/{MOTHER}")),
    Screen("citizen-newborn", "citizen", PHONE, _open(f"/me/?person={NEWBORN}")),
    Screen("admin-overview", "admin", PHONE, _open("/admin/")),
    Screen("admin-overview-desktop", "admin", DESKTOP, _open("/admin/")),
)


def take(folder: Path, prefix: str) -> list[Path]:
    """Every screen of SCREENS, as folder/prefix-name.png."""
    folder.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    written = []
    with tempfile.TemporaryDirectory() as scratch, chromium() as browser:
        app = demo_app(Path(scratch))
        with serving(app) as base:
            for screen in SCREENS:
                context = browser.new_context(viewport=screen.viewport, device_scale_factor=1, locale="ru-RU")
                page = context.new_page()
                log_in(page, base, *LOGINS[screen.role])
                page.wait_for_load_state("networkidle")
                screen.reach(page, base, app)
                page.wait_for_load_state("networkidle")
                path = folder / f"{prefix}-{screen.name}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
                context.close()
    return written


def main(arguments: list[str]) -> int:
    if len(arguments) != 2:
        print("usage: python -m tests.browser.screens FOLDER PREFIX   (e.g. docs/screens after)", file=sys.stderr)
        return 2
    for path in take(Path(arguments[0]), arguments[1]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
