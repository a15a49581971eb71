"""The pages (and JSON) a person or a clinic system sees when something is refused or fails."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.models import Role
from webapp.registry import audit
from webapp.registry.errors import NotFound
from webapp.web.api.errors import error_response
from webapp.web.i18n import translated
from webapp.web.labels import error_words
from webapp.web.routing import is_api_path

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> object:
        signed_in = _signed_in()  # first: the page below is drawn for the user, and loading them may fail
        if request.headers.get("HX-Request") == "true" and not signed_in:
            # Logged out in another tab: the token went with the session. Say so as for no session at all.
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        title = _("Форма устарела")
        return render_template("error.html", title=title, message=_("Обновите страницу и отправьте снова.")), 400

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> object:
        if error.response is not None:  # its own page, as a limit's on_breach draws it (webapp/web/auth.py)
            return error.response
        if is_api_path(request.path):
            return error_response(error.code or 500)
        code = error.code or 500
        words = error_words(code)
        if code >= 500:  # what failed may be loading the user: drawn for nobody then
            _signed_in()
        return render_template("error.html", title=words.title, message=words.page), code

    @app.errorhandler(NotFound)
    def _not_in_registry(error: NotFound) -> object:
        """A record that does not exist, or that the caller may not see: the same 404 either way."""
        return _http(exceptions.NotFound())

    @app.errorhandler(audit.OtherAuditKey)
    def _other_audit_key(error: audit.OtherAuditKey) -> object:
        """A server started while its database did not answer, under another AUDIT_KEY, refuses every change at its
        first audit entry (webapp/startup.py): the service is unavailable, nothing was written. The key is the
        operator's to mend: the log and the admin read why, a citizen, a clinic or an insurer plain words."""
        db.session.rollback()
        log.error("a change refused: AUDIT_KEY is not the audit log's (check: flask --app webapp audit verify)")
        if is_api_path(request.path):
            return error_response(503)
        operator = _signed_in() and current_user.role == Role.ADMIN
        message = translated(audit.OTHER_KEY if operator else audit.NOT_SAVED)
        return render_template("error.html", title=error_words(503).title, message=message), 503

    @app.errorhandler(SQLAlchemyError)
    def _database_unavailable(error: SQLAlchemyError) -> object:
        """The database failed mid-request: the transaction is rolled back, so nothing is half-written.

        Only the error's class is logged: a driver's message can quote the statement's parameters.
        """
        db.session.rollback()
        log.error("database unavailable: %s", type(getattr(error, "orig", None) or error).__name__)
        if is_api_path(request.path):
            return error_response(503)
        words = error_words(503)
        _for_nobody()
        return render_template("error.html", title=words.title, message=words.page), 503


def _for_nobody() -> None:
    """Draw the page for the anonymous user. Flask-Login's template context loads the request's user, and loading
    the user may be what failed (the database down): a second failure in the handler was a bare 500, logged whole
    with the statement's values."""
    current_app.login_manager._update_request_context_with_user()  # type: ignore[attr-defined]


def _signed_in() -> bool:
    """Whether the request's user is logged in; not when they cannot be loaded, whatever the failure: an error's
    page must be drawn."""
    try:
        return bool(current_user.is_authenticated)
    except Exception as error:  # named in the log, and the page drawn for nobody
        db.session.rollback()
        log.error("the user could not be loaded: %s", type(error).__name__)
        _for_nobody()
        return False
