"""Every form a role can reach, sent with odd values field by field: bad input is a 4xx or a page, never a 500
and never an error in the log. The forms are found the way a person finds them, by following the pages' links
from every page without arguments and the people's pages, so a form added later is sent too."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.world import CHILD, MOTHER, client_as, plain_get_routes
from webapp.extensions import limiter

#: What people and scripts type into forms that the forms do not expect.
ODD_VALUES = (
    "",
    " ",
    "x" * 5000,
    "-1",
    "0",
    "99999999999999999999",
    "１２３",  # full-width digits: str.isdigit() says yes, int() takes them
    "2026-02-30",
    "<script>alert(1)</script>",
    "\u202e",
    "ё" * 300,
    "1.5",
    "nan",
    "7700000000000016",
    "../../etc/passwd",
)
#: Pages with arguments whose forms the walk starts from: the insurer's people and their requests.
START_PAGES = (
    f"/insurer/person/{MOTHER.enp}",
    f"/insurer/person/{CHILD.enp}",
    "/insurer/?q=Иван",
    "/insurer/requests",
)
#: Left out: they end the session the walk uses, or change only its language.
LEFT_OUT = ("logout", "/language")
MOST_PAGES = 300
#: Forms whose good values end what other forms act on (a suspended or terminated policy is reissued no more, a
#: disabled login logs in no more): sent last, in this order, so that the others are sent in full first.
ENDING = ("suspend", "revoke", "terminate", "/active", "compromise")
#: What a form sent with a token of another session gets: the walk must not test only that.
STALE_FORM = "Форма устарела"
#: The tags that send a value: a named button sends its own (which of a form's actions), a select its chosen option.
FIELDS = ("input", "select", "textarea", "button")


@dataclass
class Form:
    #: The page it was found on, and where it is sent.
    page: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class PageReader(HTMLParser):
    """The links and the POST forms of one page (file inputs aside: uploads are tested on their own). A form's
    fields hold what a person sending it as it stands would send: a select's selected (else first) option, the
    checked radio button, the first of its named buttons, so that every other field's odd value reaches past them."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.links: set[str] = set()
        self.forms: list[Form] = []
        self._open: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "a" and named.get("href", "").startswith("/") and not named["href"].startswith("/static"):
            self.links.add(named["href"].split("#")[0])
        elif tag == "form":
            posted = named.get("method", "get").lower() == "post"
            action = urljoin(self.path, named.get("action") or self.path)
            self._open = Form(self.path, action) if posted else None
            if self._open is not None:
                self.forms.append(self._open)
        elif self._open is not None and tag in FIELDS and named.get("name") and named.get("type") != "file":
            if named.get("type") == "radio" and "checked" in named:
                self._open.fields[named["name"]] = named.get("value", "")
            else:
                self._open.fields.setdefault(named["name"], named.get("value", ""))
            self._select = named["name"] if tag == "select" else None
        elif (
            self._open is not None
            and tag == "option"
            and self._select is not None
            and (not self._open.fields[self._select] or "selected" in named)
        ):
            self._open.fields[self._select] = named.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None
        if tag in ("select", "form"):
            self._select = None


def reachable_forms(client: FlaskClient, app: Flask) -> list[Form]:
    waiting = [path for path in plain_get_routes(app) if not path.startswith("/api")] + list(START_PAGES)
    seen: set[str] = set()
    forms: dict[tuple[str, tuple[str, ...]], Form] = {}
    while waiting and len(seen) < MOST_PAGES:
        path = waiting.pop()
        if path in seen or any(part in path for part in LEFT_OUT):
            continue
        seen.add(path)
        answer = client.get(path)
        assert answer.status_code < 500, (path, answer.status_code)
        if answer.mimetype != "text/html":
            continue
        page = PageReader(path)
        page.feed(answer.get_data(as_text=True))
        waiting += sorted(page.links - seen)
        for form in page.forms:
            if not any(part in form.action for part in LEFT_OUT):
                forms.setdefault((form.action, tuple(sorted(form.fields))), form)
    return sorted(forms.values(), key=ending_rank)


def ending_rank(form: Form) -> int:
    return next((rank for rank, word in enumerate(ENDING, start=1) if word in form.action), 0)


@pytest.mark.parametrize("role", ["anonymous", "citizen", "clinic", "insurer", "admin"])
def test_every_reachable_form_takes_odd_values_without_a_failure(
    world: Flask, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    client = client_as(world, role)
    forms = reachable_forms(client, world)
    assert forms, "the walk found the role's forms"
    failures, gone, sent = [], [], 0
    for form in forms:
        for name in (name for name in form.fields if name != "csrf_token"):
            for value in ODD_VALUES:
                limiter.reset()  # the login and look-up limits would answer 429 before the form is read
                fresh = with_fresh_token(client, world, role, form)
                if fresh is None:  # an earlier value was taken (a policy terminated, say): its page offers it no more
                    gone.append(form.action)
                    break
                client = fresh
                answer = client.post(form.action, data={**form.fields, name: value})
                sent += 1
                if answer.status_code >= 500 or STALE_FORM in answer.get_data(as_text=True):
                    failures.append(f"{form.action} {name}={value[:20]!r}: {answer.status_code}")
    assert failures == [], "never a failure, and never a refused token: every form was read"
    assert [record.getMessage()[:200] for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert all(ending_rank(Form("", action)) for action in gone), f"only an ending form's own end stops it: {gone}"
    assert sent >= len(forms), "every form was sent"


def with_fresh_token(client: FlaskClient, app: Flask, role: str, form: Form) -> FlaskClient | None:
    """The client, logged in again if a form ended its session, with the form's token for its session now; None
    when the form's page no longer offers it."""
    page = client.get(form.page)
    if page.status_code != 200:
        client = client_as(app, role)
        page = client.get(form.page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    if page.status_code != 200 or token is None:
        return None
    form.fields["csrf_token"] = token.group(1)
    return client
