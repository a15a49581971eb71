"""Errors: the registry's own exceptions, and the pages a person sees when something is refused."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class RegistryError(Exception):
    """A request the rules refuse, or input that cannot be used. The message is Russian, for users."""


class NotFound(RegistryError):
    """No such person, insurer, clinic, key or user (or not one the caller may see)."""


def _page(status: int) -> tuple[str, str]:
    titles = {
        400: (_("Запрос не принят"), _("Проверьте введённые данные и попробуйте ещё раз.")),
        403: (_("Нет доступа"), _("Эта страница не для вашей роли.")),
        404: (_("Не найдено"), _("Такой страницы нет.")),
        405: (_("Не так"), _("Этот адрес так не вызывают.")),
        413: (_("Слишком большой запрос"), _("Данные не поместились.")),
        429: (_("Слишком много попыток"), _("Подождите минуту и попробуйте снова.")),
    }
    return titles.get(status, (_("Ошибка"), _("Что-то пошло не так. Попробуйте ещё раз.")))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        title = _("Форма устарела")
        return render_template("error.html", title=title, message=_("Обновите страницу и отправьте снова.")), 400

    from webapp.api import error_response

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> object:
        if request.path.startswith("/api/"):
            return error_response(error.code or 500)  # JSON, even for paths that match no route
        title, message = _page(error.code or 500)
        return render_template("error.html", title=title, message=message), error.code or 500
