"""A secret shown once, copied with a button on a 390×844 phone (static/js/copy.js): the operator's generated
password and API token, the insurer's one-time code. To the clipboard where the browser allows it; otherwise the
text is selected, and the button says which in words.

These tests create logins and tokens, so they have a demo registry of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.demo_codes import MOTHER
from tests.browser.page_checks import MIN_TARGET, ConsoleErrors
from tests.helpers.browser import PHONE, Server, demo_app, log_in, serving, shot

#: What the page shows the secret in, by page.
PASSWORD = "code.admin-secret-value"
CODE = ".activation-code"
#: A browser without the clipboard API (a page not served over HTTPS): copy.js falls back to selecting.
NO_CLIPBOARD = "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
#: ... and one where the old way of copying (execCommand) does not work either: the text is left selected.
NO_COPYING = NO_CLIPBOARD + "document.execCommand = () => false;"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = demo_app(tmp_path_factory.mktemp("copy"))
    with serving(app) as url:
        yield Server(url, app)


@pytest.fixture
def open_phone(browser: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """A phone logged in as `login`; with the clipboard permitted, or with `init` run before each page's scripts.
    Its console errors (a script the CSP refused, say) fail the test."""
    contexts = []
    console = ConsoleErrors()

    def open_one(login: tuple[str, str], clipboard: bool = True, init: str = "") -> Any:
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="ru-RU")
        if clipboard:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        if init:
            context.add_init_script(init)
        contexts.append(context)
        page = context.new_page()
        console.attach(page)
        log_in(page, server.url, *login)
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert console.take() == []


def new_password_page(page: Any, base: str, username: str) -> None:
    """The operator creates a member of staff with a password the registry makes."""
    page.goto(f"{base}/admin/users/new")
    page.fill("input[name=username]", username)
    page.check("input[name=role][value=clinic]")
    page.select_option("select[name=clinic]", "GP-001")
    page.check("input[name=generate]")
    page.click("main form button.primary")
    page.wait_for_selector(PASSWORD)


def issue_activation_code(page: Any) -> None:
    """From the person's page: «Выдать код…», then, on the page that asks first, «Выдать код»."""
    with page.expect_navigation():
        page.click("a[href$='/activation-code']")
    with page.expect_navigation():
        page.click("main form.action-form button.primary")


def copy_button(page: Any) -> Any:
    button = page.locator("[data-copy]")
    box = button.bounding_box()
    assert box is not None, "the copy button is shown"
    assert min(box["width"], box["height"]) >= MIN_TARGET, f"a thumb's target: {box}"
    return button


def test_the_operator_copies_a_generated_password_to_the_clipboard(server: Server, open_phone: Any) -> None:
    page = open_phone(("admin", "admin-demo-2026"))
    new_password_page(page, server.url, "boris")
    button = copy_button(page)
    assert button.inner_text().strip() == "Скопировать"
    button.click()
    page.wait_for_selector("[data-copy] [data-state=copied]:not([hidden])")
    assert button.inner_text().strip() == "Скопировано", "said in words"
    assert page.inner_text("[data-copy] + [role=status]") == "Скопировано", "and told a screen reader"
    password = page.inner_text(PASSWORD)
    assert page.evaluate("navigator.clipboard.readText()") == password
    shot(page, "copy-password-copied")


def test_the_token_is_copied_in_english_too(server: Server, open_phone: Any) -> None:
    page = open_phone(("admin", "admin-demo-2026"))
    with page.expect_navigation():
        page.click("header button[name=language][value=en]")
    page.goto(f"{server.url}/admin/tokens")
    page.select_option("select[name=clinic]", "GP-001")
    page.click("main form button.primary")
    button = copy_button(page)
    assert button.inner_text().strip() == "Copy"
    button.click()
    page.wait_for_selector("[data-copy] [data-state=copied]:not([hidden])")
    assert button.inner_text().strip() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == page.inner_text(PASSWORD)
    assert page.evaluate("navigator.clipboard.readText()").startswith("oms_")


def test_without_the_clipboard_api_the_code_is_selected_and_copied_the_old_way(server: Server, open_phone: Any) -> None:
    page = open_phone(("smo-77001", "smo-demo-2026"), clipboard=False, init=NO_CLIPBOARD)
    page.goto(f"{server.url}/insurer/person/{MOTHER}")
    issue_activation_code(page)
    copy_button(page).click()
    page.wait_for_selector("[data-copy] [data-state=copied]:not([hidden])")
    assert page.evaluate("getSelection().toString()") == page.inner_text(CODE)


def test_where_nothing_copies_the_code_is_left_selected_and_the_button_says_so(server: Server, open_phone: Any) -> None:
    page = open_phone(("smo-77001", "smo-demo-2026"), clipboard=False, init=NO_COPYING)
    page.goto(f"{server.url}/insurer/person/{MOTHER}")
    issue_activation_code(page)
    button = copy_button(page)
    button.click()
    page.wait_for_selector("[data-copy] [data-state=selected]:not([hidden])")
    assert button.inner_text().strip() == "Выделено: скопируйте"
    assert page.evaluate("getSelection().toString()") == page.inner_text(CODE)
    shot(page, "copy-code-selected")
