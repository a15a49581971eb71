"""The installable app's service worker, served from the root so its scope covers /me/ and /logout."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

pwa = Blueprint("pwa", __name__)


@pwa.get("/sw.js")
def service_worker() -> Response:
    """A worker's scope is at most its own folder: /static/js/sw.js could not reach /me/."""
    response = send_from_directory(Path(current_app.static_folder or "") / "js", "sw.js", max_age=0)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"  # a new version reaches phones on their next visit
    return response
