"""Security headers, a strict CSP and cookie settings, for every response; no personal data in request logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, jsonify, render_template, request

from webapp.web.labels import NUL_REFUSED
from webapp.web.routing import is_api_path

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
#: Answers no cache keeps unless their view says otherwise: pages behind a login, and JSON (the API's verdict names
#: the holder and their birth date; the published lists set their own Cache-Control).
_NOT_KEPT_BY_DEFAULT = frozenset({"text/html", "application/json"})


#: A request line's method, then the part of its target a URL-encoded path may hold (no `?`, no white space,
#: nothing outside ASCII nor its %-encoding): from the first character past it, the rest of the target is
#: the client's raw input, to the protocol, the closing quote of the logged line, or the end.
_METHOD = r"(?<![A-Z])(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|TRACE|CONNECT) "
_PLAIN_PATH = r"(?:[A-Za-z0-9/._~:@!$&+,;=-]|%[0-7][0-9A-Fa-f])*+"
_REQUEST_TAIL = re.compile(
    rf"({_METHOD}{_PLAIN_PATH})(?! HTTP/\d|[\"'])[^\n]+?(?= HTTP/\d|[\"'](?: \d{{3}}\b|\)|$)|$)", re.MULTILINE
)
#: A server's refusal of a request it could not parse quotes the raw bytes (gunicorn: "Invalid request from
#: ip=…: Invalid HTTP Version: '…'"; http.server: "code 400, message Bad request syntax ('…')").
_REFUSED_REQUEST = re.compile(r"Invalid request from ip=|code 4\d\d, message ")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
#: What else may be personal anywhere in a logged line: a URL's query (a Referer), text outside ASCII, raw,
#: escaped by repr() or %-encoded (a name in any script, or its bytes misread as Latin-1), a number as long
#: as a СНИЛС (11 digits) or an ЕНП (16), written in groups or not, and a date.
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
_PERSONAL = re.compile(
    r"(?:[^\x00-\x7f]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|%[89a-fA-F][0-9a-fA-F])+"
    r"|\d(?:(?:[ +-]|%20)?\d){10,}"
    r"|\b\d{4}-\d\d-\d\d\b|\b\d\d[./]\d\d[./]\d{4}\b|\b(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b"
)
#: Loggers that write request lines or paths: werkzeug's, Flask's "Exception on <path>", gunicorn's; and
#: Flask-Limiter's, whose "ratelimit … exceeded" quotes the limit's key, an ЕНП for the one-time code pages'.
_REDACTED_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask-limiter")


def redacted(message: str) -> str:
    """A log line without what a request may carry of a person: its query, and whatever a raw request line
    holds past its plain path, in any script, however the server quoted it."""
    if _REFUSED_REQUEST.search(message):
        message = _QUOTED.sub("'…'", message)
    message = _QUERY.sub(r"\1?…", _REQUEST_TAIL.sub(r"\1…", message))
    return _PERSONAL.sub("…", message)


class NoPersonalDataInPaths(logging.Filter):
    """Paths and queries carry ЕНП, СНИЛС, names and birth dates (/insurer/?q=…, /insurer/person/<ЕНП>), and
    a client may send them unencoded, in any script: logged, they become `…` (`redacted`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report, not ours to break
            return True
        record.msg, record.args = redacted(message), ()
        return True


def _filter_path_logs(app: Flask) -> None:
    for logger in (app.logger, *map(logging.getLogger, _REDACTED_LOGGERS)):
        if not any(isinstance(existing, NoPersonalDataInPaths) for existing in logger.filters):
            logger.addFilter(NoPersonalDataInPaths())


#: The pages that take a file, and the setting that limits its size instead of MAX_CONTENT_LENGTH.
LARGER_BODIES = {"insurer.import_upload": "IMPORT_MAX_BYTES"}
#: Werkzeug reads a multipart body in chunks of 64 KiB and refuses any chunk over MAX_FORM_MEMORY_SIZE
#: (16 KiB, for fields): a page that takes a file takes fields up to this instead.
FILE_FORM_MEMORY = 1024 * 1024


def cap_streamed_bodies(app: Flask) -> None:
    """Werkzeug answers 413 to a declared Content-Length over MAX_CONTENT_LENGTH, but cuts a body sent
    without one (chunked) at the limit without a word, and the form parsed from what came is used.
    Such a body is read here, before anything else looks at the form, and refused if there is more.
    Registered first; the JSON API reads and limits its own bodies (webapp/web/api/routes.py)."""

    @app.before_request
    def _whole_body_within_limit() -> None:
        if request.endpoint in LARGER_BODIES:
            request.max_content_length = app.config[LARGER_BODIES[request.endpoint]]
            request.max_form_memory_size = FILE_FORM_MEMORY
        streamed = request.content_length is None and request.environ.get("wsgi.input_terminated")
        if streamed and not is_api_path(request.path):
            request.get_data(cache=True)  # up to the limit, kept for the form
            request.stream.read(1)  # past it: RequestEntityTooLarge


#: A NUL byte ends a C string: PostgreSQL refuses it in text (psycopg's DataError, which the app took for an
#: outage), SQLite keeps it, and nobody types one. No path, query argument or form field may hold it.
NUL = "\x00"
#: A view's attribute naming the form fields that hold a scanner's raw bytes (`carries_scanned_bytes`).
_SCANNED_FIELDS = "scanned_fields"
V = TypeVar("V", bound=Callable[..., object])


def carries_scanned_bytes(*fields: str) -> Callable[[V], V]:
    """Let these form fields of a view hold NUL bytes: a 2011 paper policy's barcode is 130 bytes, and the
    number in it starts with NULs. The view parses such a field; it never stores it as text."""

    def mark(view: V) -> V:
        setattr(view, _SCANNED_FIELDS, frozenset(fields))
        return view

    return mark


def _holds_nul(app: Flask) -> bool:
    """Whether the path, a query argument, a form field (its name too) or an uploaded file's name holds a NUL,
    but for the fields the view says carry scanned bytes. (The registry import records its file's name.)

    The JSON API reads its own body, one scanned code that may be a paper barcode (webapp/web/api/routes.py),
    and no form: its path and query arguments are checked here.
    """
    scanned = getattr(app.view_functions.get(request.endpoint or ""), _SCANNED_FIELDS, frozenset())
    form = [] if is_api_path(request.path) else [*request.form.items(multi=True), *_file_names()]
    fields = [*request.args.items(multi=True), *form]
    return NUL in request.path or any(NUL in name or (NUL in value and name not in scanned) for name, value in fields)


def _file_names() -> list[tuple[str, str]]:
    return [(name, upload.filename or "") for name, upload in request.files.items(multi=True)]


def refuse_nul_bytes(app: Flask) -> None:
    """A request with a NUL anywhere it is read is refused (400) before anything reads it: it never reaches
    the database, and is never logged as its failure. Registered right after `cap_streamed_bodies`."""

    @app.before_request
    def _no_nul() -> tuple[Response | str, int] | None:
        if not _holds_nul(app):
            return None
        if is_api_path(request.path):
            return jsonify(error=400, message=str(NUL_REFUSED.api)), 400
        return render_template("error.html", title=NUL_REFUSED.title, message=NUL_REFUSED.page), 400


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
        if response.mimetype in _NOT_KEPT_BY_DEFAULT:  # the lists' views say how long they may be kept
            response.headers.setdefault("Cache-Control", "no-store")
        return response
