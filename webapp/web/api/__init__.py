"""The JSON API for clinic systems (docs/openapi.yaml).

`POST /api/v1/verify` needs a clinic's bearer token and is rate-limited per
token. The trust list and the revocation list are public, signed and cacheable.
Errors are JSON too, and no request body or personal data is ever logged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Request, Response, current_app, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from webapp.db.shared_counts import counts_in, parsed
from webapp.extensions import csrf, limiter
from webapp.registry import accounts
from webapp.registry.keys import publication
from webapp.registry.verification import VerificationResult, message, verify_scan

api = Blueprint("api", __name__, url_prefix="/api/v1")

#: A code is a few hundred characters; anything far bigger is refused unread.
MAX_VERIFY_BODY = 8192
#: Revocation cursors are event ids: 32-bit integers in the database.
MAX_CURSOR = 2**31 - 1
OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


def is_api_path(path: str) -> bool:
    """Whether a request is the API's, by its path alone: answered in JSON, even for paths no route matches."""
    return path.startswith("/api/")


class NoSessionForApi(SecureCookieSessionInterface):
    """Clinic systems authenticate with bearer tokens, so API requests neither read nor set a session cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api_path(request.path):  # the session opens before the URL is matched to a blueprint
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.register_blueprint(api)
    csrf.exempt(api)  # bearer tokens, no cookies: nothing for a forged form to ride on
    app.session_interface = NoSessionForApi()


@limiter.request_filter
def _limited_here() -> bool:
    """The API's limit is counted per token here (`_within_verify_limit`), so Flask-Limiter skips its routes,
    where its check found nothing to limit and still cost time (docs/benchmarks.md)."""
    return request.blueprint == api.name


def _within_verify_limit(token: str) -> bool:
    """Count this request against its token's limit, in this worker's batch (webapp/db/shared_counts.py).

    Flask-Limiter's decorator would send every request's count to the shared storage; the batches go
    to the same storage.
    """
    limit = parsed(current_app.config.get("API_VERIFY_RATE_LIMIT", "600 per minute"))
    kept = current_app.extensions.setdefault("batched_limits", {})
    return counts_in(kept, limiter.storage, limit, "api.verify").hit("token:" + accounts.hash_token(token))


ERROR_MESSAGES = {
    400: ('Некорректный запрос: ожидается JSON вида {"code": "..."}', 'Bad request: expected JSON {"code": "..."}'),
    401: ("Нужен действующий токен клиники (Authorization: Bearer ...)", "A valid clinic token is required"),
    404: ("Нет такого адреса", "Not found"),
    405: ("Метод не поддерживается", "Method not allowed"),
    413: ("Слишком большой запрос", "Request too large"),
    429: ("Слишком много запросов: повторите позже", "Too many requests: try again later"),
    500: ("Внутренняя ошибка", "Internal error"),
    503: ("Сервис временно недоступен", "Service temporarily unavailable"),
}


def language() -> str:
    """Russian unless the client asks for English. Clinic systems seldom send Accept-Language, and
    parsing an absent header still cost a few µs of every verification."""
    if "Accept-Language" not in request.headers:
        return "ru"
    return request.accept_languages.best_match(["ru", "en"], default="ru") or "ru"


def error_response(status: int) -> tuple[Response, int]:
    russian, english = ERROR_MESSAGES.get(status, ERROR_MESSAGES[500])
    headers = {"WWW-Authenticate": 'Bearer realm="oms"'} if status == 401 else {}
    response = jsonify(error=status, message=english if language() == "en" else russian)
    response.headers.update(headers)
    return response, status


@api.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    return error_response(error.code or 500)


def _bearer_token() -> str:
    """The token of the Authorization header, as the token check reads it ("" for none), so that
    `bearer  X ` and `Bearer X` are one token for its limit too."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def result_json(result: VerificationResult, lang: str) -> dict[str, Any]:
    holder = result.holder and {"name": result.holder.name, "birth_date": result.holder.birth_date.isoformat()}
    policy = result.policy and {
        "kind": result.policy.kind,
        "insurer_code": result.policy.insurer_code,
        "insurer_name": result.policy.insurer_name,
        "valid_from": result.policy.valid_from.isoformat(),
        "valid_to": result.policy.valid_to.isoformat() if result.policy.valid_to else None,
        "status": result.policy.status,
    }
    return {
        "verdict": str(result.verdict),
        "message": message(result, lang),
        "shown": result.shown,
        "holder": holder,
        "policy": policy,
        "registry_verdict": str(result.registry_verdict) if result.registry_verdict else None,
        "notes": list(result.notes),
        "checked_at": result.checked_at.isoformat(),
    }


@api.post("/verify")
def verify() -> Any:
    if (request.content_length or 0) > MAX_VERIFY_BODY:
        return error_response(413)
    token = _bearer_token()
    if not token or not accounts.token_is_live(token):
        return error_response(401)
    # Counted after the token is known to be live: made-up tokens would each start a count of their own.
    if not _within_verify_limit(token):
        return error_response(429)
    body = request.stream.read(MAX_VERIFY_BODY + 1)
    if len(body) > MAX_VERIFY_BODY:
        return error_response(413)
    try:
        document = current_app.json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        return error_response(400)
    code = document.get("code") if isinstance(document, dict) else None
    if not isinstance(code, str):
        return error_response(400)
    return jsonify(result_json(verify_scan(code), language()))


def _cached(document: dict[str, Any], etag: str, max_age: int) -> Response:
    response = jsonify(document)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response.make_conditional(request)


@api.get("/trust-list")
def trust_list() -> Response:
    publication.registry_key()  # before the version: making it changes the list
    version = publication.trust_list_version()
    if request.if_none_match.contains(version):
        return _cached({}, version, 300)  # becomes 304 Not Modified
    return _cached(publication.trust_list_document(), version, 300)


@api.get("/revocations")
def revocations() -> Any:
    since = request.args.get("since", "0")
    if not (since.isascii() and since.isdigit()) or int(since) > MAX_CURSOR:
        return error_response(400)
    cursor = publication.revocations_cursor()
    etag = f"{since}-{cursor}"
    if request.if_none_match.contains(etag):
        return _cached({}, etag, 60)
    return _cached(publication.revocations_document(int(since)), etag, 60)


@api.get("/openapi.yaml")
def openapi() -> Response:
    return Response(OPENAPI.read_bytes(), mimetype="application/yaml")
