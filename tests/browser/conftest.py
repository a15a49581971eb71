"""A real server on loopback and Debian's Chromium driven by Playwright, at a phone's viewport.

Screenshots of each step go to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from webapp import create_app
from webapp.extensions import db, limiter
from webapp.ops import demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
#: Chromium as root in a sandboxless container, kept off the (closed) network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@dataclass(frozen=True)
class Server:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo registry served by a real HTTP server in a thread."""
    folder = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'oms.sqlite'}",
            "SECRET_KEY": "browser-tests",
            "SIGNING_KEY_PASSPHRASE": "browser-tests",
            "AUDIT_KEY": "browser-tests",
            "AUDIT_CHECKPOINT": str(folder / "audit_checkpoint.json"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SESSION_COOKIE_SECURE": False,
        }
    )
    with app.app_context():
        upgrade()
        demo.load()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `apt-get install chromium` (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
