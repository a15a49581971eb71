"""The registry operator: insurers, clinics, users, clinic API tokens and signing keys.

Every change goes through a service that checks it and writes the audit log;
a refused change re-renders its form, kept, with the reason and a 400, and a
done one redirects (post/redirect/get). Secrets (a new token, a generated
password) are shown once on the page the POST redirects to, carried there
sealed (webapp/web/shown_once.py), never flashed: the session cookie is not secret.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from signing import KeyStatus
from webapp.models import Role
from webapp.registry import accounts, clinic_checks, mass_reissue, organisations, people
from webapp.registry.errors import NotFound, QueueUnavailable, RegistryError
from webapp.registry.keys import keystore, rotation
from webapp.web import shown_once
from webapp.web.auth import role_required
from webapp.web.form_errors import in_form_order, refused
from webapp.web.i18n import said

admin = Blueprint("admin", __name__, url_prefix="/admin")

USERS_SHOWN = 100
STAFF_ROLES = (Role.INSURER, Role.CLINIC, Role.ADMIN)
#: The longest user search kept: a login's column width.
USERNAME_LENGTH = 80


def _actor() -> str:
    return f"admin:{current_user.username}"


def _form(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


@admin.context_processor
def _helpers() -> dict[str, Any]:
    return {"Role": Role}


@admin.get("/")
@role_required(Role.ADMIN)
def index() -> str:
    return render_template("admin/index.html", counts=organisations.counts(), unfinished=mass_reissue.unfinished())


# Insurers and clinics


@admin.get("/insurers")
@role_required(Role.ADMIN)
def insurers() -> str:
    return _insurers_page({})


def _insurers_page(form: dict[str, str], errors: dict[str, str] | None = None) -> str:
    insured = organisations.insured_by_insurer()
    active_keys = keystore.active_keys_by_insurer()
    rows = organisations.insurers()
    return render_template(
        "admin/insurers.html",
        insurers=rows,
        insured=insured,
        active_keys=active_keys,
        regions=organisations.regions(),
        form=form,
        errors=errors or {},
    )


@admin.post("/insurers")
@role_required(Role.ADMIN)
def create_insurer() -> Any:
    form = _form("code", "name", "region")
    try:
        organisations.create_insurer(form["code"], form["name"], _actor(), form["region"] or None)
    except RegistryError as error:
        return _insurers_page(form, refused(error, form)), 400
    flash(_("СМО %(code)s создана, с первым ключом подписи", code=form["code"]), "ok")
    return redirect(url_for("admin.insurers"))


@admin.get("/clinics")
@role_required(Role.ADMIN)
def clinics() -> str:
    return _clinics_page({})


def _clinics_page(
    form: dict[str, str], errors: dict[str, str] | None = None, typed_ceiling: dict[str, str] | None = None
) -> str:
    """The clinics, and the new clinic's form; `typed_ceiling` is a refused ceiling by its clinic's code, shown
    as typed beside its reason (the ceiling's own error is `errors["ceiling"]`)."""
    live_tokens = accounts.live_tokens_by_clinic()
    return render_template(
        "admin/clinics.html",
        clinics=clinic_checks.clinics_with_todays_look_ups(),
        live_tokens=live_tokens,
        regions=organisations.regions(),
        form=form,
        errors=errors or {},
        typed_ceiling=typed_ceiling or {},
    )


@admin.post("/clinics")
@role_required(Role.ADMIN)
def create_clinic() -> Any:
    form = _form("code", "name", "region")
    try:
        organisations.create_clinic(form["code"], form["name"], _actor(), form["region"] or None)
    except RegistryError as error:
        return _clinics_page(form, refused(error, form)), 400
    flash(_("Клиника %(code)s создана", code=form["code"]), "ok")
    return redirect(url_for("admin.clinics"))


@admin.post("/clinics/<code>/ceiling")
@role_required(Role.ADMIN)
def set_ceiling(code: str) -> Any:
    """The clinic's daily ceiling on number look-ups; the change is audited."""
    ceiling = request.form.get("ceiling", "").strip()
    try:
        clinic = clinic_checks.set_daily_ceiling(code, ceiling, _actor())
    except NotFound:
        abort(404)
    except RegistryError as error:
        return _clinics_page({}, {"ceiling": said(error)}, {code: ceiling}), 400
    if clinic.daily_look_up_ceiling == 0:
        flash(_("Поиск по номеру для %(code)s выключен; QR-коды клиника проверяет как прежде", code=clinic.code), "ok")
    else:
        flash(
            ngettext(
                "Дневной лимит для %(code)s: %(num)s проверка по номеру",
                "Дневной лимит для %(code)s: %(num)s проверок по номеру",
                clinic.daily_look_up_ceiling,
                code=clinic.code,
            ),
            "ok",
        )
    return redirect(url_for("admin.clinics"))


# Users


@admin.get("/users")
@role_required(Role.ADMIN)
def users() -> str:
    query = request.args.get("q", "").strip()[:USERNAME_LENGTH]
    role = request.args.get("role", "")
    found = accounts.find_users(query, role, USERS_SHOWN)
    return render_template("admin/users.html", users=found, query=query, role=role, shown=USERS_SHOWN)


def _new_user_page(form: dict[str, str], errors: dict[str, str] | None = None) -> str:
    return render_template(
        "admin/user_new.html",
        form=form,
        errors=errors or {},
        roles=STAFF_ROLES,
        insurers=organisations.insurers(),
        clinics=organisations.clinics(),
    )


#: The new-user form's fields, in its order.
_NEW_USER_FIELDS = ("username", "role", "insurer", "clinic", "password", "password_again")


@admin.get("/users/new")
@role_required(Role.ADMIN)
def new_user() -> str:
    return _new_user_page({})


@admin.post("/users/new")
@role_required(Role.ADMIN)
def create_user() -> Any:
    """Staff only: citizens open their own accounts with the insurer's activation code."""
    form = _form("username", "role", "insurer", "clinic", "generate")
    password = request.form.get("password", "")
    generated = not password and form["generate"] == "1"
    if generated:
        password = accounts.generated_password()
    errors: dict[str, str] = {}
    if not generated and password != request.form.get("password_again", ""):
        errors["password_again"] = _("Пароли не совпадают")
    role = Role(form["role"]) if form["role"] in {str(role) for role in STAFF_ROLES} else None
    if role is None:
        errors["role"] = _("Выберите роль сотрудника")
    login = (form["username"], password)
    organisation = {"insurer_code": form["insurer"] or None, "clinic_code": form["clinic"] or None}
    try:
        if errors or role is None:  # the registry's reasons too, so that the form shows every one at once
            accounts.check_new_login(*login, role, **organisation)
        else:
            user = accounts.create_user(*login, role, _actor(), **organisation)
    except RegistryError as error:
        errors.update(refused(error, _NEW_USER_FIELDS))
    if errors:
        return _new_user_page(form, in_form_order(errors, _NEW_USER_FIELDS)), 400
    if generated:
        return _show_password(user.username, password, made="created")
    flash(_("Пользователь %(username)s создан", username=user.username), "ok")
    return redirect(url_for("admin.users", q=user.username))


def _show_password(username: str, password: str, made: str) -> Response:
    """To the page that shows a password the registry made (`made`: "created" or "reset"), once."""
    shown_once.keep("password", {"username": username, "password": password, "made": made})
    return redirect(url_for("admin.password_shown"))


@admin.get("/users/password")
@role_required(Role.ADMIN)
def password_shown() -> Response:
    """The generated password, once: a reload finds the users list."""
    shown = shown_once.take("password")
    if shown is None:
        return redirect(url_for("admin.users"))
    page = render_template("admin/user_password.html", **shown)
    return shown_once.not_stored(make_response(page))


def _users_list_filter() -> dict[str, str]:
    """The users list's search, carried through a confirmation page and back."""
    values = request.args if request.method == "GET" else request.form
    return {"q": values.get("q", ""), "role": values.get("role", "")}


@admin.get("/users/<int:user_id>/disable")
@role_required(Role.ADMIN)
def confirm_disable_user(user_id: int) -> Any:
    """Asked before it is done: every session of the login ends at once, wherever someone works with it."""
    user = accounts.user_by_id(user_id)
    if not user.active or user.id == current_user.id:
        return redirect(url_for("admin.users", **_users_list_filter()))
    return render_template("admin/user_disable.html", user=user, **_users_list_filter())


@admin.get("/users/<int:user_id>/password")
@role_required(Role.ADMIN)
def confirm_password_reset(user_id: int) -> Any:
    """Asked before it is done: the old password stops working and every session of the login ends."""
    user = accounts.user_by_id(user_id)
    try:
        accounts.require_staff(user)
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("admin.users", **_users_list_filter()))
    if user.id == current_user.id:
        return redirect(url_for("auth.change_password"))
    return render_template("admin/user_password_reset.html", user=user, **_users_list_filter())


@admin.post("/users/<int:user_id>/password")
@role_required(Role.ADMIN)
def reset_password(user_id: int) -> Response:
    """A member of staff forgot their password: a new one, made here and shown once. One's own is changed on
    the password page, with the current one."""
    if user_id == current_user.id:
        flash(_("Свой пароль меняют на странице «Сменить пароль»"), "error")
        return redirect(url_for("admin.users", **_users_list_filter()))
    try:
        user, password = accounts.reset_password(user_id, _actor())
    except NotFound:
        abort(404)
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("admin.users", **_users_list_filter()))
    return _show_password(user.username, password, made="reset")


@admin.post("/users/<int:user_id>/active")
@role_required(Role.ADMIN)
def set_user_active(user_id: int) -> Response:
    active = request.form.get("active") == "1"
    if user_id == current_user.id and not active:
        flash(_("Свою учётную запись отключить нельзя"), "error")
        return redirect(url_for("admin.users"))
    user = accounts.set_active(user_id, active, _actor())
    if active:
        flash(_("%(username)s может входить", username=user.username), "ok")
    else:
        flash(_("%(username)s отключён и больше не может войти", username=user.username), "ok")
    return redirect(url_for("admin.users", **_users_list_filter()))


# Clinic API tokens


#: The new-token form's fields, in its order.
_TOKEN_FIELDS = ("clinic", "name")


def _tokens_page(form: dict[str, str], errors: dict[str, str] | None = None, secret: str | None = None) -> str:
    """The form, and the tokens: only the chosen clinic's when one is chosen (its «действующих: N» on the
    clinics' page, the clinic a token was just issued to), every clinic's otherwise."""
    clinics = organisations.clinics()
    chosen = next((clinic for clinic in clinics if clinic.code == form["clinic"]), None)
    tokens = accounts.tokens()
    return render_template(
        "admin/tokens.html",
        tokens=[token for token in tokens if token.clinic_id == chosen.id] if chosen else tokens,
        chosen=chosen,
        clinics=clinics,
        form=form,
        errors=errors or {},
        new_token=secret,
    )


@admin.get("/tokens")
@role_required(Role.ADMIN)
def tokens() -> Response:
    """The clinics' tokens; right after one is made, its secret, once."""
    made = shown_once.take("api_token")
    form = {"clinic": request.args.get("clinic", "").strip(), "name": ""}
    response = make_response(_tokens_page(form, secret=made and made["token"]))
    return shown_once.not_stored(response) if made else response


@admin.post("/tokens")
@role_required(Role.ADMIN)
def create_token() -> Any:
    form = _form(*_TOKEN_FIELDS)
    if not form["clinic"]:
        return _tokens_page(form, {"clinic": _("Выберите клинику")}), 400
    try:
        token = accounts.create_token(form["clinic"], form["name"], _actor())[1]
    except RegistryError as error:
        return _tokens_page(form, refused(error, _TOKEN_FIELDS)), 400
    shown_once.keep("api_token", {"token": token})
    return redirect(url_for("admin.tokens", clinic=form["clinic"]))


@admin.get("/tokens/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def confirm_token_revocation(token_id: int) -> Any:
    """Asked before it is done: a revoked token cannot be brought back, and the clinic's system stops with it."""
    record = accounts.token(token_id)
    if record.revoked_at is not None:
        return redirect(url_for("admin.tokens"))
    return render_template("admin/token_revoke.html", token=record)


@admin.post("/tokens/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    record = accounts.revoke_token(token_id, _actor())
    flash(_("Токен отозван: не позже чем через 10 секунд запросы с ним не принимает ни один сервер"), "ok")
    return redirect(url_for("admin.tokens", clinic=record.clinic.code))


# Signing keys


@admin.get("/keys")
@role_required(Role.ADMIN)
def keys() -> str:
    return render_template(
        "admin/keys.html",
        keys=keystore.all_keys(),
        codes=keystore.current_codes_by_kid(),
        unfinished={state.kid: state for state in mass_reissue.unfinished()},
        insurers=organisations.insurers(),
    )


@admin.get("/keys/rotate")
@role_required(Role.ADMIN)
def confirm_rotation() -> Any:
    """Asked before it is done: from this minute the insurer's codes are signed by a new key, and a reissue of its
    codes after a compromise, still running, stops (it is resumed on the key's page)."""
    code = request.args.get("insurer", "").strip()
    try:
        insurer = people.insurer_by_code(code)
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("admin.keys"))
    theirs = [key for key in keystore.all_keys() if key.insurer is not None and key.insurer.code == insurer.code]
    unfinished = [mass_reissue.progress(key) for key in theirs if key.status == KeyStatus.COMPROMISED]
    stopped = sorted(state.kid for state in unfinished if not state.finished)
    retiring = [key for key in theirs if key.status == KeyStatus.ACTIVE]
    return render_template("admin/rotate.html", insurer=insurer, retiring=retiring, stopped=stopped)


@admin.post("/keys/rotate")
@role_required(Role.ADMIN)
def rotate_key() -> Response:
    code = request.form.get("insurer", "").strip()
    if request.form.get("confirmed") != "yes":  # the keys page's form from an old tab: the question first
        return redirect(url_for("admin.confirm_rotation", insurer=code))
    try:  # the keys the question named: a form sent twice, or from an old tab, rotates no more
        record = rotation.rotate(code, _actor(), retiring=request.form.getlist("retiring"))
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("admin.keys"))
    flash(_("Новый ключ %(kid)s для СМО %(code)s; прежний больше не подписывает", kid=record.kid, code=code), "ok")
    return redirect(url_for("admin.keys"))


@admin.get("/keys/<kid>")
@role_required(Role.ADMIN)
def key(kid: str) -> str:
    record = keystore.record_for(kid)
    reissued = record.status == KeyStatus.COMPROMISED and not keystore.signs_lists(record)
    return render_template(
        "admin/key.html",
        key=record,
        current=keystore.current_codes_by_kid().get(record.kid, 0),
        progress=mass_reissue.progress(record) if reissued else None,
    )


@admin.get("/keys/<kid>/progress")
@role_required(Role.ADMIN)
def reissue_progress(kid: str) -> str:
    """The progress block alone, polled by htmx while the reissue runs."""
    record = keystore.record_for(kid)
    if record.status != KeyStatus.COMPROMISED:
        abort(404)
    return render_template("admin/_progress.html", key=record, progress=mass_reissue.progress(record))


@admin.get("/keys/<kid>/compromise")
@role_required(Role.ADMIN)
def confirm_compromise(kid: str) -> Any:
    record = keystore.record_for(kid)
    if record.status == KeyStatus.COMPROMISED:
        return redirect(url_for("admin.key", kid=record.kid))
    return render_template(
        "admin/compromise.html", key=record, current=keystore.current_codes_by_kid().get(record.kid, 0)
    )


@admin.post("/keys/<kid>/compromise")
@role_required(Role.ADMIN)
def compromise(kid: str) -> Response:
    record = keystore.record_for(kid)
    if keystore.signs_lists(record):
        try:
            _record, successor = rotation.distrust(record.kid, _actor())
        except RegistryError as error:
            flash(said(error), "error")
        else:
            signing = _("; списки подписывает новый ключ %(kid)s", kid=successor.kid) if successor else ""
            flash(_("Ключ больше не принимается") + signing, "ok")
        return redirect(url_for("admin.key", kid=record.kid))
    try:
        mass_reissue.compromise(record.kid, _actor())
    except QueueUnavailable as error:  # the key was distrusted all the same: only its codes' reissue waits
        reason = said(error)
        flash(_("Ключ больше не принимается, но перевыпуск его кодов не начат. %(reason)s", reason=reason), "error")
    except RegistryError as error:
        flash(said(error), "error")
    else:
        flash(_("Ключ больше не принимается; перевыпуск подписанных им кодов начат"), "ok")
    return redirect(url_for("admin.key", kid=record.kid))


@admin.post("/keys/<kid>/resume")
@role_required(Role.ADMIN)
def resume(kid: str) -> Response:
    record = keystore.record_for(kid)
    try:
        started = mass_reissue.resume(record.kid, _actor())
    except RegistryError as error:
        flash(said(error), "error")
    else:
        flash(_("Перевыпуск продолжен") if started is not None else _("Перевыпуск уже идёт"), "ok")
    return redirect(url_for("admin.key", kid=record.kid))
