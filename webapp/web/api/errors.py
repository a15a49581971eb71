"""The API's errors: JSON, in the client's language, with the words of every other error page."""

from __future__ import annotations

from flask import Response, jsonify

from webapp.registry.clinic_checks import Refusal
from webapp.web.labels import ERRORS, LOOK_UP_REFUSALS, error_words


def error_response(status: int, retry_after: int | None = None) -> tuple[Response, int]:
    """`{"error": status, "message": …}`; a 401 also says how to authenticate, a 429 when to try again."""
    return _error(status, str(error_words(status).api), retry_after)


def look_up_refused(refusal: Refusal) -> tuple[Response, int]:
    """A 429 for a number look-up over one of the clinic's limits: which one, and when to try again."""
    message = str(LOOK_UP_REFUSALS[refusal.limit]) % {"seconds": refusal.retry_after, "ceiling": refusal.allowed}
    return _error(429, message, refusal.retry_after)


def _error(status: int, message: str, retry_after: int | None) -> tuple[Response, int]:
    response = jsonify(error=status, message=message)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oms"'
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response, status if status in ERRORS else 500
