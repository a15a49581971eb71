"""A real server on loopback and Debian's Chromium driven by Playwright, at a phone's viewport.

Screenshots of each step go to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.browser import PHONE, Server, chromium, demo_app, serving


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
