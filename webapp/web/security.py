"""Security headers, a strict CSP and cookie settings, for every response; no personal data in request logs."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, request

#: No inline script or style anywhere; wasm for the camera decoder; camera only here.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


#: A query string after a path, and a run of digits as long as a СНИЛС (11) or an ЕНП (16).
_QUERY = re.compile(r"(/[^\s?\"]*)\?[^\s\"]*")
_LONG_NUMBER = re.compile(r"\d{11,}")
#: Loggers that write request paths: werkzeug's request lines, Flask's "Exception on <path>", gunicorn's.
_PATH_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


class NoPersonalDataInPaths(logging.Filter):
    """Paths and queries carry ЕНП, СНИЛС, names and birth dates (/insurer/?q=…, /insurer/person/<ЕНП>):
    logged, a query becomes `?…` and a long number `…`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report, not ours to break
            return True
        record.msg, record.args = _LONG_NUMBER.sub("…", _QUERY.sub(r"\1?…", message)), ()
        return True


def _filter_path_logs(app: Flask) -> None:
    for logger in (app.logger, *map(logging.getLogger, _PATH_LOGGERS)):
        if not any(isinstance(existing, NoPersonalDataInPaths) for existing in logger.filters):
            logger.addFilter(NoPersonalDataInPaths())


def cap_streamed_bodies(app: Flask) -> None:
    """Werkzeug answers 413 to a declared Content-Length over MAX_CONTENT_LENGTH, but cuts a body sent
    without one (chunked) at the limit without a word, and the form parsed from what came is used.
    Such a body is read here, before anything else looks at the form, and refused if there is more.
    Registered first; the JSON API reads and limits its own bodies (webapp/web/api/routes.py)."""

    from webapp.web.api.errors import is_api_path

    @app.before_request
    def _whole_body_within_limit() -> None:
        streamed = request.content_length is None and request.environ.get("wsgi.input_terminated")
        if streamed and not is_api_path(request.path):
            request.get_data(cache=True)  # up to the limit, kept for the form
            request.stream.read(1)  # past it: RequestEntityTooLarge


def init_app(app: Flask) -> None:
    _filter_path_logs(app)
    # Flask ships these keys with weaker values, so they are set, not defaulted.
    # SESSION_COOKIE_SECURE comes from the configuration: on unless plain HTTP is served on purpose.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
