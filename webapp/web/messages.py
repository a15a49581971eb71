"""The messages shown once (Flask's flashes): drawn on a page the person opens, never taken by a request made
behind their back.

A form's message («Заявка отправлена»), or «Сеанс завершён», waits in the session for the next page drawn. Three
kinds of request draw pages the person does not read, and would take it: the citizen's service worker fetching a
page to keep for use with no network (static/js/sw.js), an htmx poll answered with an error page (the card's live
code, a progress bar), and a picture's request redirected to the login page. Those get their page without messages.
"""

from __future__ import annotations

from flask import Flask, get_flashed_messages, request

#: Sent by the citizen's service worker with each page it fetches to keep for use with no network.
KEPT_COPY_HEADER = "X-Kept-Copy"
#: How a page the person opens is fetched (Sec-Fetch-Mode: set by the browser, not by a script). A navigation the
#: service worker passes on keeps "navigate" (its Sec-Fetch-Dest is then "empty", not "document"); browsers too old
#: to send the header send none, and X-Kept-Copy and HX-Request stand in for it there.
_OPENED = (None, "navigate")


def messages_to_show() -> list[tuple[str, str]]:
    """(category, message) of each message for the page being drawn, or none (the module's docstring)."""
    headers = request.headers
    if (
        headers.get(KEPT_COPY_HEADER) == "1"
        or headers.get("HX-Request") == "true"
        or headers.get("Sec-Fetch-Mode") not in _OPENED
    ):
        return []
    return get_flashed_messages(with_categories=True)  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["messages_to_show"] = messages_to_show
