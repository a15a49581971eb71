"""The demo registry served on loopback, and Debian's Chromium driven by Playwright: where it is, how it
starts, a phone's viewport, and the steps every browser test takes (log in, take a screenshot). The browser
tests and the screenshot script (tests/browser/screens.py) share them."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from webapp import create_app
from webapp.extensions import db, limiter
from webapp.ops import demo

T = TypeVar("T")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
#: Chromium as root in a sandboxless container, kept off the (closed) network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def demo_app(folder: Path, loaded_at: datetime | None = None, **settings: Any) -> Flask:
    """An app on a fresh SQLite file in `folder`, migrated and loaded with the demo registry (as of `loaded_at`)."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'oms.sqlite'}",
            "SECRET_KEY": "browser-tests",
            "SIGNING_KEY_PASSPHRASE": "browser-tests",
            "AUDIT_KEY": "browser-tests",
            "AUDIT_CHECKPOINT": str(folder / "audit_checkpoint.json"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SESSION_COOKIE_SECURE": False,
            **settings,
        }
    )
    with app.app_context():
        upgrade()
        demo.load(loaded_at)
        db.session.remove()
    return app


@contextmanager
def serving(app: Flask, threaded: bool = True) -> Iterator[str]:
    """The app behind werkzeug's own server (what `make run` uses, and it logs request lines) in a thread;
    yields its base URL. `threaded=False` answers one request at a time."""
    server = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Chromium (Playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: `apt-get install chromium` (.ci/run does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def apart(work: Callable[..., T], *args: Any) -> T:
    """`work(*args)` in a thread of its own: for a test that starts its own Chromium (`chromium()`) in a session where
    tests/browser's runs already, which Playwright's sync API refuses in the same thread."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(work, *args).result()


@dataclass(frozen=True)
class Server:
    url: str
    app: Flask


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
