"""The JSON API for clinic systems (docs/openapi.yaml): its blueprint, and how the app serves it.

`POST /api/v1/verify` needs a clinic's bearer token and is rate-limited per token (limits.py). The trust
list and the revocation list are public, signed and cacheable (routes.py). Errors are JSON too
(errors.py), and no request body or personal data is ever logged.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from webapp.extensions import csrf
from webapp.web.api import limits, routes  # noqa: F401 -- the routes register on the blueprint as they load
from webapp.web.api.blueprint import api
from webapp.web.routing import is_api_path


class NoSessionForApi(SecureCookieSessionInterface):
    """Clinic systems authenticate with bearer tokens, so API requests neither read nor set a session cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api_path(request.path):  # the session opens before the URL is matched to a blueprint
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.register_blueprint(api)
    csrf.exempt(api)  # bearer tokens, no cookies: nothing for a forged form to ride on
    limits.exempt_from_the_limiter(api)
    app.session_interface = NoSessionForApi()
