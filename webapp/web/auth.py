"""Logging in and out, changing one's password, and the role check every page goes through.

The session cookie names a session the registry keeps (webapp/registry/login_sessions.py): each request's
user is loaded through it, so logging out, a password change or a disabled login ends a session
for every copy of its cookie.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    after_this_request,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask import Response as FlaskResponse
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import LoginManager, current_user, login_required, login_url, login_user, logout_user
from limits import parse
from werkzeug.wrappers import Response

from policy_codes.enp import as_typed
from webapp.extensions import client_address, limiter
from webapp.models import Role, User
from webapp.registry import accounts, activation, login_sessions, password_guesses
from webapp.registry.errors import RegistryError
from webapp.web.form_errors import FORM, refused
from webapp.web.i18n import said
from webapp.web.labels import error_words
from webapp.web.routing import page_at
from webapp.web.session_keys import CSRF_TOKEN, LANGUAGE, SESSION_ID

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
# Not bound to the address or the browser: a phone changes networks all day, and a desk's outgoing address may
# change behind its proxy. ("strong" did nothing here anyway: every session is permanent, and for those Flask-Login
# only marks a changed one not fresh.) A copied cookie ends with its session row (docs/threat-model.md).
login_manager.session_protection = "basic"
auth = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    Role.CITIZEN: "citizen.policy",
    Role.CLINIC: "clinic.scan",
    Role.INSURER: "insurer.search",
    Role.ADMIN: "admin.index",
}
#: How each role signs the audit log.
ACTOR_BY_ROLE = {Role.CITIZEN: "citizen", Role.CLINIC: "clinic", Role.INSURER: "smo", Role.ADMIN: "admin"}
#: The cookie of a browser a login was used in (webapp/registry/password_guesses.py), kept half a year.
KNOWN_BROWSER = "known_browser"
KNOWN_BROWSER_DAYS = 183


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_message = None
    app.register_blueprint(auth)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """Flask-Login's only way to a user, from the session or from a remember-me cookie (which the app
    never sets): without a live session record, nobody is logged in."""
    token = session.get(SESSION_ID)
    if not isinstance(token, str) or not (user_id.isascii() and user_id.isdigit()):
        return None
    return login_sessions.resume(token, int(user_id))


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    """No live session: the login page. An htmx request gets a 401, which swaps nothing in: the clinic
    page is sent to the login page whole (HX-Redirect) rather than shown it inside the verdict, and
    a citizen's card falls back to its static code and stays on screen (static/js/live-code.js)."""
    if request.headers.get("HX-Request") != "true":
        if session.pop(SESSION_ID, None):  # logged in here, and the session ended (idle, 8 hours, ended elsewhere)
            flash(_("Сеанс завершён. Войдите снова, чтобы продолжить."), "info")
        return redirect(login_url(login_manager.login_view, next_url=request.url))
    response = Response(status=401)
    if request.blueprint != "citizen":
        response.headers["HX-Redirect"] = url_for("auth.login")
    return response


def _log_in(vouched: accounts.Vouched, keep_csrf_token: bool = False) -> bool:
    """A new session, with a new id, for this browser: nothing of an earlier cookie is carried over
    (session fixation), but the CSRF token of the pages already open when a password is changed. False, and
    nobody logged in, if the login's password or state changed since this request checked or set it."""
    user = vouched.user
    earlier = session.get(SESSION_ID)
    if isinstance(earlier, str):  # logged in again over a live session: the earlier one ends
        login_sessions.end(earlier)
    csrf_token = session.get(CSRF_TOKEN) if keep_csrf_token else None
    _clear_session()
    if csrf_token:
        session[CSRF_TOKEN] = csrf_token
    token = login_sessions.start(user, vouched.password_hash)
    if token is None:
        return False
    session.permanent = True
    session[SESSION_ID] = token
    login_user(user)
    known_browser = password_guesses.browser_cookie(user.username)

    @after_this_request
    def _remember_browser(response: Response) -> Response:
        response.set_cookie(
            KNOWN_BROWSER,
            known_browser,
            max_age=KNOWN_BROWSER_DAYS * 24 * 3600,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Strict",
        )
        return response

    return True


def _log_in_again() -> Response:
    """To the login page, when the session a request would have started was refused (`_log_in`): what it did is
    done, but the login changed meanwhile (its password, by someone else too, or its state)."""
    flash(_("Учётная запись только что изменена. Войдите снова."), "error")
    return redirect(url_for("auth.login"))


def _clear_session() -> None:
    """Everything of the session gone, but the language chosen."""
    language = session.get(LANGUAGE)
    session.clear()
    if language:
        session[LANGUAGE] = language


def _browser() -> str:
    """This browser's known-browser cookie, or ""."""
    return request.cookies.get(KNOWN_BROWSER, "")


def _minutes(refusal: password_guesses.Refusal) -> int:
    return math.ceil(refusal.retry_after / 60)


def _wait(refusal: password_guesses.Refusal, template: str, message: str, **context: Any) -> Any:
    """A refused password: the page again, saying how long to wait (429 and Retry-After)."""
    return render_template(template, errors={FORM: message}, **context), 429, {"Retry-After": str(refusal.retry_after)}


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
    # The login as it is looked up: " Ivanova" counts against "ivanova", and no spelling outside the
    # login rule counts apart from another (none of them is a login).
    return f"login:{client_address()}:{accounts.login_name(request.form.get('username', '')) or ''}"


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_login_key, methods=["POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login() -> Any:
    """Limited per address, per address and login (above), and per login from every address together."""
    if request.method == "GET":
        return render_template("login.html", username="")
    username = request.form.get("username", "").strip()
    login = accounts.login_name(username)
    refusal = password_guesses.admit(login, _browser()) if login else None
    if refusal is not None:
        message = _(
            "Вход под этим логином временно закрыт: слишком много неверных паролей. Повторите через "
            "%(minutes)s мин. или войдите с устройства, где уже входили под этим логином.",
            minutes=_minutes(refusal),
        )
        return _wait(refusal, "login.html", message, username=username)
    try:
        user = accounts.authenticate(username, request.form.get("password", ""))
    except accounts.LoginDisabled as error:
        return render_template("login.html", username=username, errors={FORM: said(error)}), 403
    if user is None:
        if login:
            password_guesses.failed(login, _browser(), "anonymous")
        return _wrong_password(username)
    # The hash the password was just checked against, read before anything commits (and expires it).
    if not _log_in(accounts.Vouched(user, user.password_hash)):  # changed, or disabled, while it was checked
        return _wrong_password(username)
    return redirect(_after_login(Role(user.role)))


def _after_login(role: Role) -> str:
    """The page the browser asked for before it was sent to log in (Flask-Login's `next`: a staff session that
    ended while idle, on the page being worked on), if it is one of this role's pages; the role's home otherwise."""
    home = url_for(HOME_BY_ROLE[role])
    try:
        wanted = urlsplit(request.args.get("next", ""))
    except ValueError:  # not a URL at all ("http://[/admin/"): nowhere to go back to
        return home
    page = page_at(wanted.path + (f"?{wanted.query}" if wanted.query else ""))
    area = "/" + home.strip("/").split("/")[0] + "/"
    return page if page and page.startswith(area) else home


def _wrong_password(username: str) -> tuple[str, int]:
    return render_template("login.html", username=username, errors={"password": _("Неверный логин или пароль")}), 401


#: The ЕНП fields' maxlength on the code pages: 16 digits, and the spaces the card groups them with.
ENP_FIELD_LENGTH = 24
auth.add_app_template_global(ENP_FIELD_LENGTH, "enp_field_length")


def _typed_enp() -> str:
    """The ЕНП as typed, without the spaces it is printed with on the card (7700 0000 0000 0016); cut short past
    what the field takes, so that a limit's key stays small (too long, it is no one's ЕНП anyway)."""
    return as_typed(request.form.get("enp", ""))[:ENP_FIELD_LENGTH]


def _code_key() -> str:
    """Guesses at one person's code from one address count together, whatever login the guesser makes up."""
    return f"one-time-code:{client_address()}:{_typed_enp()}"


def _code_key_from_anywhere() -> str:
    """Guesses at one person's code from every address together: a code can set a live account's password."""
    return _number_key(_typed_enp())


def _number_key(enp: str) -> str:
    """The key an ЕНП's guesses from every address are counted under (and cleared by `forget_code_guesses`)."""
    return f"one-time-code:{enp}"


#: The window of the code pages' daily limits, in seconds.
CODE_GUESSES_DAY = 24 * 3600


def _too_many_today(limit: RequestLimit) -> FlaskResponse | None:
    """A day's limit reached: the page says so, and when to try again; a minute's is the usual 429 page ("wait a
    minute"). The same words whether anyone holds the ЕНП or not: the limits count any number typed."""
    if limit.limit.get_expiry() < CODE_GUESSES_DAY:
        return None
    wait = max(1, math.ceil(limit.window.reset_time - time.time()))
    message = _(
        "За сутки код для этого ЕНП вводили слишком много раз. Повторите через %(hours)s ч. Если код не подходит, "
        "обратитесь в свою страховую компанию: там сверят ЕНП и выдадут новый код.",
        hours=math.ceil(wait / 3600),
    )
    page = render_template("error.html", title=error_words(429).title, message=message)
    return make_response(page, 429, {"Retry-After": str(wait)})


def _too_many_for_the_number(limit: RequestLimit) -> FlaskResponse | None:
    """The first guess past the number's day from every address is noted on the person's trail (once a window:
    the count is past the limit by one only then, whichever worker counted it)."""
    if limit.limiter.storage.get(limit.key) == limit.limit.amount + 1:
        until = datetime.fromtimestamp(math.ceil(limit.window.reset_time), UTC)
        activation.note_guess_limit(_typed_enp(), limit.limit.amount, until)
    return _too_many_today(limit)


#: Both pages that take an insurer's one-time code (a week's code, 40 bits: 10^12 codes) count guesses together: a
#: guesser gains nothing by spreading them over the two. Per address and ЕНП 5 a minute and 10 a day: a person who
#: mistypes has plenty. Per ЕНП from every address together 200 a day: 1,400 guesses at a week's code. That limit
#: is also a way to keep the holder out, 24 hours at a time, and it takes 20 addresses (20 /64 networks in
#: IPv6) to spend it; the holder's insurer hands out the code, and is who to ask. Per address 30 a minute, whatever
#: the ЕНП.
_code_guesses_per_person = limiter.shared_limit(
    "5 per minute;10 per day", "one-time-code", key_func=_code_key, methods=["POST"], on_breach=_too_many_today
)
#: The ЕНП's day from every address, and its scope.
CODE_GUESSES_PER_NUMBER, _PER_NUMBER_SCOPE = "200 per day", "one-time-code-number"
_code_guesses_per_number = limiter.shared_limit(
    CODE_GUESSES_PER_NUMBER,
    _PER_NUMBER_SCOPE,
    key_func=_code_key_from_anywhere,
    methods=["POST"],
    on_breach=_too_many_for_the_number,
)
_code_guesses_per_address = limiter.shared_limit("30 per minute", "one-time-code-address", methods=["POST"])


def forget_code_guesses(enp: str) -> None:
    """The ЕНП's day from every address starts afresh: its insurer has just issued a code nobody has guessed at yet,
    so a holder kept out by others' guesses gets in with it at once, not up to a day later. Guessers get the same
    200 a day at the new code. If the limiter's storage fails, the count stays (the holder waits out the day)."""
    try:
        limiter.limiter.clear(parse(CODE_GUESSES_PER_NUMBER), _number_key(enp), _PER_NUMBER_SCOPE)
    except limiter.storage.base_exceptions as error:
        log.warning("rate-limit storage unavailable, a one-time code's guesses not cleared: %s", type(error).__name__)


def _code_guesses_limited(view: Callable[P, T]) -> Callable[P, T]:
    """The three limits on a page that takes a code. The order matters: Flask-Limiter counts the limits with
    shorter windows first, those of one length in the order they were put on the view, and stops at the first one
    reached. So the ЕНП's day is counted after the address's day with that ЕНП: a guess one address was refused
    spends nothing of the ЕНП's, and one address cannot keep its holder out."""
    return _code_guesses_per_number(_code_guesses_per_address(_code_guesses_per_person(view)))


def _with_a_code(
    template: str, fields: tuple[str, ...], use: Callable[..., accounts.Vouched], done: Callable[[User], str]
) -> Any:
    """A page that takes an insurer's one-time code and a new password twice: `use(**fields, password=…)` is the
    registry's step; done, the person is logged in, and told `done(user)` on their card."""
    form = {name: request.form.get(name, "").strip() for name in fields} | {"enp": _typed_enp()}
    if request.method == "GET":
        return render_template(template, form=form)
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return render_template(template, form=form, errors=_passwords_differ()), 400
    try:
        vouched = use(**form, password=password)
    except RegistryError as error:
        return render_template(template, form=form, errors=refused(error, [*form, "password"])), 400
    if not _log_in(vouched):
        return _log_in_again()
    flash(done(vouched.user), "ok")
    return redirect(url_for(HOME_BY_ROLE[Role.CITIZEN]))


@auth.route("/activate", methods=["GET", "POST"])
@_code_guesses_limited
def activate() -> Any:
    """First visit: the ЕНП, the one-time code from the insurer, then a login and password of one's own."""
    return _with_a_code(
        "activate.html", ("enp", "code", "username"), activation.activate, lambda _user: _("Учётная запись создана")
    )


@auth.route("/recover", methods=["GET", "POST"])
@_code_guesses_limited
def recover() -> Any:
    """A forgotten password: the page says who can help each role; a citizen with a code from their insurer
    sets a new password here, and is logged in with it."""
    return _with_a_code(
        "recover.html",
        ("enp", "code"),
        activation.recover,
        lambda user: _("Пароль изменён. Ваш логин: %(login)s", login=user.username),
    )


def _passwords_differ() -> dict[str, str]:
    return {"password_again": _("Пароли не совпадают")}


def _password_key() -> str:
    """Guesses at the current password count per login (per address before one is known)."""
    return f"password:{current_user.get_id() or client_address()}"


@auth.route("/account/password", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_password_key, methods=["POST"])
@login_required
def change_password() -> Any:
    """Every role's own password: the current one, then the new one twice. The login's other sessions end."""
    if request.method == "GET":
        return render_template("password.html")
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return render_template("password.html", errors=_passwords_differ()), 400
    actor = f"{ACTOR_BY_ROLE[Role(current_user.role)]}:{current_user.username}"
    refusal = password_guesses.admit(current_user.username, _browser())
    if refusal is not None:
        message = _(
            "Слишком много неверных паролей для этого логина. Повторите через %(minutes)s мин.",
            minutes=_minutes(refusal),
        )
        return _wait(refusal, "password.html", message)
    try:
        vouched = accounts.change_password(current_user.id, request.form.get("current_password", ""), password, actor)
    except RegistryError as error:
        if isinstance(error, accounts.WrongPassword):
            password_guesses.failed(current_user.username, _browser(), actor)
        return render_template("password.html", errors=refused(error, ("current_password", "password"))), 400
    if not _log_in(vouched, keep_csrf_token=True):
        return _log_in_again()
    flash(_("Пароль изменён. На других устройствах нужно войти заново."), "ok")
    return redirect(url_for(HOME_BY_ROLE[Role(vouched.user.role)]))


@auth.post("/logout")
def logout() -> Response:
    token = session.get(SESSION_ID)
    if isinstance(token, str):
        login_sessions.end(token)
    logout_user()
    _clear_session()
    response = redirect(url_for("auth.login"))
    # The phone keeps the citizen's card for offline use; a shared phone must not keep it after logout.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
