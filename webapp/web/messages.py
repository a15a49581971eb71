"""The messages shown once (Flask's flashes): drawn on a page the person opens, never taken by a request made
behind their back.

A form's message («Заявка отправлена»), or «Сеанс завершён», waits in the session for the next page drawn. Some
requests draw pages the person does not read, and would take it: the citizen's service worker fetching a page to
keep for use with no network (static/js/sw.js), an htmx poll answered with an error page (the card's live code, a
progress bar), a picture's request redirected to the login page, a page the browser prepares before it is asked
for (prefetch, prerender). Those get their page without messages. A page drawn with messages says so
(`SHOWN_ONCE_HEADER`): the service worker does not keep it, so a message is not shown again at every offline look.
"""

from __future__ import annotations

from flask import Flask, after_this_request, get_flashed_messages, request
from werkzeug.wrappers import Response

#: Sent by the citizen's service worker with each page it fetches to keep for use with no network.
KEPT_COPY_HEADER = "X-Kept-Copy"
#: Set on a page drawn with messages shown once.
SHOWN_ONCE_HEADER = "X-Shown-Once"
#: How a page the person opens is fetched (Sec-Fetch-Mode: set by the browser, not by a script). A navigation the
#: service worker passes on keeps "navigate" (its Sec-Fetch-Dest is then "empty", not "document"); browsers too old
#: to send the header send none, and X-Kept-Copy and HX-Request stand in for it there.
_OPENED = (None, "navigate")


def _behind_their_back() -> bool:
    headers = request.headers
    prepared = headers.get("Sec-Purpose", "") + headers.get("Purpose", "")  # Chrome's prerender is a "navigate"
    return (
        headers.get(KEPT_COPY_HEADER) == "1"
        or headers.get("HX-Request") == "true"
        or headers.get("Sec-Fetch-Mode") not in _OPENED
        or "prefetch" in prepared
    )


def messages_to_show() -> list[tuple[str, str]]:
    """(category, message) of each message for the page being drawn, or none (the module's docstring)."""
    if _behind_their_back():
        return []
    shown: list[tuple[str, str]] = get_flashed_messages(with_categories=True)  # type: ignore[assignment]
    if shown:
        after_this_request(_mark_shown)  # this request only: no hook on every answer, the API's verify among them
    return shown


def _mark_shown(response: Response) -> Response:
    response.headers[SHOWN_ONCE_HEADER] = "1"
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["messages_to_show"] = messages_to_show
