"""The pages (and JSON) a person or a clinic system sees when something is refused or fails."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.registry.errors import NotFound

log = logging.getLogger(__name__)


def _page(status: int) -> tuple[str, str]:
    titles = {
        400: (_("Запрос не принят"), _("Проверьте введённые данные и попробуйте ещё раз.")),
        403: (_("Нет доступа"), _("Эта страница не для вашей роли.")),
        404: (_("Не найдено"), _("Такой страницы нет.")),
        405: (_("Не так"), _("Этот адрес так не вызывают.")),
        413: (_("Слишком большой запрос"), _("Данные не поместились.")),
        429: (_("Слишком много попыток"), _("Подождите минуту и попробуйте снова.")),
        503: (
            _("Сервис временно недоступен"),
            _("База данных не отвечает. Ничего не сохранено наполовину: обновите страницу через минуту и проверьте."),
        ),
    }
    return titles.get(status, (_("Ошибка"), _("Что-то пошло не так. Попробуйте ещё раз.")))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> object:
        if request.headers.get("HX-Request") == "true" and not current_user.is_authenticated:
            # Logged out in another tab: the token went with the session. Say so as for no session at all.
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        title = _("Форма устарела")
        return render_template("error.html", title=title, message=_("Обновите страницу и отправьте снова.")), 400

    from webapp.web.api import error_response, is_api_path

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> object:
        if is_api_path(request.path):
            return error_response(error.code or 500)
        title, message = _page(error.code or 500)
        return render_template("error.html", title=title, message=message), error.code or 500

    @app.errorhandler(NotFound)
    def _not_in_registry(error: NotFound) -> object:
        """A record that does not exist, or that the caller may not see: the same 404 either way."""
        return _http(exceptions.NotFound())

    @app.errorhandler(SQLAlchemyError)
    def _database_unavailable(error: SQLAlchemyError) -> object:
        """The database failed mid-request: the transaction is rolled back, so nothing is half-written.

        Only the error's class is logged: a driver's message can quote the statement's parameters.
        """
        db.session.rollback()
        log.error("database unavailable: %s", type(getattr(error, "orig", None) or error).__name__)
        if is_api_path(request.path):
            return error_response(503)
        if "_login_user" not in g:  # the user could not be loaded: render the page for nobody
            current_app.login_manager._update_request_context_with_user()  # type: ignore[attr-defined]
        title, message = _page(503)
        return render_template("error.html", title=title, message=message), 503
