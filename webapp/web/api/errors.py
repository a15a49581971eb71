"""The API's errors: JSON, in the client's language, with the words of every other error page."""

from __future__ import annotations

from flask import Response, jsonify

from webapp.web.labels import ERRORS, error_words


def error_response(status: int, retry_after: int | None = None) -> tuple[Response, int]:
    """`{"error": status, "message": …}`; a 401 also says how to authenticate, a 429 when to try again."""
    response = jsonify(error=status, message=str(error_words(status).api))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oms"'
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response, status if status in ERRORS else 500
