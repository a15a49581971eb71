"""The API's routes: verify a scanned code, and the published trust and revocation lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, jsonify, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from webapp.registry import accounts, clinic_checks
from webapp.registry.keys import publication
from webapp.registry.verification import VerificationResult, is_number_look_up, message, verify_scan
from webapp.web.api.blueprint import api
from webapp.web.api.errors import error_response, look_up_refused
from webapp.web.api.limits import verify_refusal
from webapp.web.i18n import accepted_language
from webapp.web.json_provider import loads

#: A code is a few hundred characters; anything far bigger is refused unread.
MAX_VERIFY_BODY = 8192
#: Revocation cursors are event ids: 32-bit integers in the database.
MAX_CURSOR = 2**31 - 1
OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


@api.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    return error_response(error.code or 500)


def _bearer_token(headers: Headers) -> str:
    """The token of the Authorization header, as the token check reads it ("" for none), so that
    `bearer  X ` and `Bearer X` are one token for its limit too."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
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
        "shown": str(result.shown),
        "holder": holder,
        "policy": policy,
        "registry_verdict": str(result.registry_verdict) if result.registry_verdict else None,
        "notes": list(result.notes),
        "reason": str(result.cause) if result.cause else None,
        "checked_at": result.checked_at.isoformat(),
    }


@api.post("/verify")
def verify() -> Any:
    """The verdict for a scanned code. A number (typed, a Code128, a paper barcode) answers with the registry's
    name and birth date, so it counts against the clinic's look-up limits, which its desks share."""
    # Flask's proxy is looked through once: each attribute read through `request` costs ~7,000 instructions.
    asked = request._get_current_object()  # type: ignore[attr-defined]
    if (asked.content_length or 0) > MAX_VERIFY_BODY:
        return error_response(413)
    bearer = _bearer_token(asked.headers)
    token = accounts.live_token(bearer) if bearer else None
    if token is None:
        return error_response(401)
    # Counted after the token is known to be live: made-up tokens would each start a count of their own.
    retry_after = verify_refusal(token)
    if retry_after is not None:
        return error_response(429, retry_after)
    body = asked.stream.read(MAX_VERIFY_BODY + 1)
    if len(body) > MAX_VERIFY_BODY:
        return error_response(413)
    try:
        document = loads(body)  # what the app's JSON provider does, without the proxy's look-up
    except ValueError:
        return error_response(400)
    code = document.get("code") if isinstance(document, dict) else None
    if not isinstance(code, str):
        return error_response(400)
    if not is_number_look_up(code):
        return jsonify(result_json(verify_scan(code), accepted_language(asked.headers)))
    refusal = clinic_checks.admit_api_number_look_up(token)
    if refusal is not None:
        return look_up_refused(refusal)
    result = verify_scan(code)
    clinic_checks.record_check(token.clinic_id, result)
    return jsonify(result_json(result, accepted_language(asked.headers)))


def _cached(document: dict[str, Any], etag: str, max_age: int) -> Response:
    response = jsonify(document)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response.make_conditional(request)


@api.get("/trust-list")
def trust_list() -> Response:
    edition, document = publication.trust_list(request.if_none_match.contains)
    return _cached(document or {}, edition.etag, 300)  # {}: the client holds it, and it becomes 304 Not Modified


@api.get("/revocations")
def revocations() -> Any:
    since = request.args.get("since", "0")
    if not (since.isascii() and since.isdigit()) or int(since) > MAX_CURSOR:
        return error_response(400)
    edition, document = publication.revocations(int(since), request.if_none_match.contains)
    return _cached(document or {}, edition.etag, 60)


@api.get("/openapi.yaml")
def openapi() -> Response:
    return Response(OPENAPI.read_bytes(), mimetype="application/yaml")
