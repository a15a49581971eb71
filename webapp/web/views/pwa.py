"""The installable app's service worker, served from the root so its scope covers /me/ and /logout; and what
the pages it fetches to keep in the background leave to the person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, get_flashed_messages, request, send_from_directory

pwa = Blueprint("pwa", __name__)

#: Sent by the service worker with each page it fetches to keep for use with no network (static/js/sw.js).
KEPT_COPY_HEADER = "X-Kept-Copy"


@pwa.get("/sw.js")
def service_worker() -> Response:
    """A worker's scope is at most its own folder: /static/js/sw.js could not reach /me/."""
    response = send_from_directory(Path(current_app.static_folder or "") / "js", "sw.js", max_age=0)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"  # a new version reaches phones on their next visit
    return response


@pwa.app_template_global()
def messages_to_show(with_categories: bool = False) -> list[Any]:
    """The messages shown once (Flask's flashes) for the page being drawn; none for a page the service worker
    fetches in the background to keep. Read there, a message of a form the person has just sent would be taken
    by that fetch, which can land between the form's answer and the page it leads to on a slow network,
    and the person would never see it."""
    if request.headers.get(KEPT_COPY_HEADER) == "1":
        return []
    return get_flashed_messages(with_categories=with_categories)
