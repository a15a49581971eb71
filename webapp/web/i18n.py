"""Russian by default, English on request (Flask-Babel). Message ids are the Russian text."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Flask, has_request_context, redirect, request, session, url_for
from flask_babel import Babel, get_translations
from werkzeug.datastructures import Headers, LanguageAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

from policy_codes import InvalidValue, words
from webapp.registry.errors import RegistryError
from webapp.web import shown_once
from webapp.web.routing import is_api_path, page_at
from webapp.web.session_keys import LANGUAGE

LANGUAGES = ("ru", "en")
language = Blueprint("language", __name__)


def current_language() -> str:
    """The session's choice, or for the API (no session) the client's Accept-Language; Russian outside a
    request (CLI, jobs), where lazy strings are read too."""
    if not has_request_context():
        return "ru"
    if is_api_path(request.path):
        return accepted_language(request.headers)
    chosen = session.get(LANGUAGE)
    return chosen if chosen in LANGUAGES else "ru"


def accepted_language(headers: Headers) -> str:
    """Russian unless the request's headers ask for English: the API's language (it keeps no session). Clinic
    systems seldom send Accept-Language, and parsing an absent header still cost a few µs of every verification;
    the API's routes ask here directly, not through `current_language`, for the same reason."""
    accepted = headers.get("Accept-Language")
    if accepted is None:
        return "ru"
    return parse_accept_header(accepted, LanguageAccept).best_match(LANGUAGES, default="ru") or "ru"


def translated(message: str, params: Mapping[str, object] | None = None) -> str:
    """A Russian catalog message in the page's language, filled from `params`: the pages' catalog, else the
    verifiers' (the code format's word on a value: an ЕНП's check digit, a name's letters), else as it is."""
    text = get_translations().gettext(message)
    if text == message and (language := current_language()) != "ru":
        text = words.translate(message, language)
    return text % params if params else text


def said(error: RegistryError | InvalidValue) -> str:
    """What a refused change says, in the page's language: its Russian message looked up in the catalogs."""
    return translated(error.message, error.params) if error.message else str(error)


def stored_said(message: str) -> str:
    """A refusal the registry stored in Russian (why a job stopped), in the page's language where the catalog
    knows it; as stored otherwise (an exception's class name, a message with its values filled in)."""
    return translated(message) if message else ""


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=current_language, default_locale="ru")
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["said"] = said
    app.jinja_env.filters["stored_said"] = stored_said
    app.register_blueprint(language)


@language.post("/language")
def choose() -> Response:
    chosen = request.form.get("language", "ru")
    session[LANGUAGE] = chosen if chosen in LANGUAGES else "ru"
    shown_once.carry_over(request.form.get(shown_once.CARRIED, ""))
    return redirect(page_at(request.form.get("next", "")) or url_for("index"))
