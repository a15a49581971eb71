"""Logging in and out, and the role check every page goes through."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from webapp import accounts, activation
from webapp.errors import RegistryError
from webapp.extensions import db, limiter
from webapp.models import Role, User

P = ParamSpec("P")
T = TypeVar("T")

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
auth = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    Role.CITIZEN: "citizen.policy",
    Role.CLINIC: "clinic.scan",
    Role.INSURER: "insurer.search",
    Role.ADMIN: "admin.index",
}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_message = None
    app.register_blueprint(auth)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def role_required(*roles: Role) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Only these roles reach the view: others get 403, anonymous users the login page."""

    def decorate(view: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(view)
        @login_required
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            if Role(current_user.role) not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def _login_key() -> str:
    # Trimmed as the login is looked up: " ivanova" must count against "ivanova", not start afresh.
    return f"login:{request.remote_addr}:{request.form.get('username', '').strip()[:80].lower()}"


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_login_key, methods=["POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login() -> Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = accounts.authenticate(username, password)
        if user is not None:
            session.clear()
            session.permanent = True
            login_user(user)
            return redirect(url_for(HOME_BY_ROLE[Role(user.role)]))
        flash(_("Неверный логин или пароль"), "error")
        return render_template("login.html", username=username), 401
    return render_template("login.html", username="")


def _activation_key() -> str:
    """Guesses at one person's code count together, whatever login the guesser makes up."""
    return f"activate:{request.remote_addr}:{request.form.get('enp', '').strip()[:16]}"


@auth.route("/activate", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_activation_key, methods=["POST"])
@limiter.limit("30 per minute", methods=["POST"])
def activate() -> Any:
    """First visit: the ЕНП, the one-time code from the insurer, then a login and password of one's own."""
    form = {name: request.form.get(name, "").strip() for name in ("enp", "code", "username")}
    if request.method == "GET":
        return render_template("activate.html", form=form)
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        flash(_("Пароли не совпадают"), "error")
        return render_template("activate.html", form=form), 400
    try:
        user = activation.activate(form["enp"], form["code"], form["username"], password)
    except RegistryError as error:
        flash(str(error), "error")
        return render_template("activate.html", form=form), 400
    session.clear()
    session.permanent = True
    login_user(user)
    flash(_("Учётная запись создана"), "ok")
    return redirect(url_for(HOME_BY_ROLE[Role.CITIZEN]))


@auth.post("/logout")
def logout() -> Response:
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    # The phone keeps the citizen's card for offline use; a shared phone must not keep it after logout.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
