"""A real server on loopback and Debian's Chromium driven by Playwright, at a phone's viewport.

Screenshots of each step go to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.server import chromium, demo_app, serving
from webapp.extensions import limiter

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Server:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo registry served by a real HTTP server in a thread."""
    app = demo_app(tmp_path_factory.mktemp("browser"))
    with serving(app) as url:
        yield Server(url, app)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        with chromium() as launched:
            yield launched
    except RuntimeError as missing:
        pytest.fail(str(missing))


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="ru-RU")  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


def shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def log_in(page: object, base: str, username: str, password: str) -> None:
    """Log in through the form. The login limit (5 a minute per login, tested in tests/webapp) is reset
    first: the browser tests log in as the same demo users many times a minute."""
    limiter.reset()
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button.primary")  # type: ignore[attr-defined]
