"""Insurer staff: find their own insured, see a person's codes and audit trail, act on them.

Every look-up is scoped to the staff member's insurer: another insurer's person
answers 404, exactly like a number that does not exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from policy_codes import Enp, InvalidValue
from policy_codes.enp import as_typed
from webapp.models import DataChangeRequest, IssuedCode, Job, JobState, Person, RequestStatus, Role
from webapp.registry import (
    accounts,
    activation,
    bulk_import,
    clock,
    data_changes,
    job_queue,
    lifecycle,
    open_requests,
    people,
    reasons,
    registry_file,
    reissue_requests,
    representations,
    transfers,
)
from webapp.registry.errors import N_, NotFound, QueueUnavailable, RegistryError
from webapp.registry.rules import Operation
from webapp.web import data_change_form, shown_once
from webapp.web.auth import forget_code_guesses, role_required
from webapp.web.form_errors import FORM, refused
from webapp.web.i18n import said
from webapp.web.labels import refused_line

insurer = Blueprint("insurer", __name__, url_prefix="/insurer")

SEARCH_LIMIT = 50
#: The newest audit entries a person's page shows.
TRAIL_LIMIT = 100
#: The transfer form's fields.
TRANSFER_FIELDS = ("enp", "birth_date", "applied_on", "exception", "document")

#: The lifecycle actions staff take from a person's page, each on a page of its own with a reason.
ACTIONS = {
    Operation.REISSUE: reissue_requests.reissue_answering_requests,
    Operation.REVOKE: lifecycle.revoke,
    Operation.SUSPEND: lifecycle.suspend,
    Operation.RESUME: lifecycle.resume,
    Operation.TERMINATE: lifecycle.terminate,
}
#: What each says once done.
DONE = {
    Operation.REISSUE: N_("Код перевыпущен"),
    Operation.REVOKE: N_("Код отозван"),
    Operation.SUSPEND: N_("Полис приостановлен"),
    Operation.RESUME: N_("Полис возобновлён, выпущен новый код"),
    Operation.TERMINATE: N_("Полис прекращён"),
}


def scope() -> str:
    return current_user.insurer.code


@insurer.get("/")
@role_required(Role.INSURER)
def search() -> Any:
    """Find own insured. A search that cannot run says why beside the form, and shows no empty result."""
    query = request.args.get("q", "").strip()
    birth_date = request.args.get("birth_date", "").strip()
    page = {"query": query, "birth_date": birth_date, "waiting": open_requests.count(current_user.insurer_id)}
    if not query:
        return render_template("insurer/search.html", people=None, **page)
    try:
        found = people.search(current_user.insurer_id, query, birth_date, SEARCH_LIMIT)
    except RegistryError as error:
        errors = refused(error, ("query", "birth_date"))
        return render_template("insurer/search.html", people=None, errors=errors, **page), 400
    return render_template("insurer/search.html", people=found, **page)


def _own_person(enp: str) -> Person:
    return people.person_by_enp(enp, scope())


@insurer.get("/person/<enp>")
@role_required(Role.INSURER)
def person(enp: str) -> str:
    """The person's record, codes and trail, and the actions the policy's state allows. After a transfer,
    what an earlier insurer did and why is that insurer's: its reasons and audit entries are not shown (the
    codes' numbers and states are). The grounds a link was ended on are shown whoever ended it: a category
    from a closed list (a court, a registry error, the representative's refusal), which the insurer now holding
    the record needs to decide whether to restore the link."""
    someone = _own_person(enp)
    codes = people.codes_of(someone)
    waiting = reissue_requests.open_request_of(someone.id)
    policy = people.open_policy(someone)
    return render_template(
        "insurer/person.html",
        person=someone,
        policy=policy,
        newborn_cover=policy is None and people.newborn_cover(someone, clock.today_in_moscow(datetime.now(UTC))),
        allowed=lifecycle.allowed(someone),
        newborn_policy_due=lifecycle.may_issue_newborn_policy(someone),
        codes=codes,
        trail=people.trail_for_holder(enp, TRAIL_LIMIT),
        waiting=waiting,
        waiting_since=waiting and clock.today_in_moscow(waiting.created_at),
        change_waiting=data_changes.open_change_request_of(someone.id),
        lapsed=open_requests.lapsed_of(someone.id),
        account=accounts.citizen_account(someone),
        terminated=people.policy_terminated(someone),
        representatives=people.representatives_of(someone),
        represented=people.represented_by(someone),
        ended_links=representations.ended_links_of(someone),
    )


def _operation(action: str) -> Operation:
    """The action a person's page links to; any other word is no page at all."""
    if action not in ACTIONS:
        abort(404)
    return Operation(action)


@insurer.get("/person/<enp>/<action>")
@role_required(Role.INSURER)
def confirm(enp: str, action: str) -> Any:
    """The action's own page: the person, what will happen, and the reason, asked before anything changes
    (a plain form: no JavaScript needed); a step with nothing to choose (STEPS) asks only «Да?». An action the
    policy's state refuses has no page: the person's page says why."""
    someone = _own_person(enp)
    try:
        if action in STEPS:
            return _step_page(someone, action)
        operation = _operation(action)
        lifecycle.require_allowed(someone, operation)
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("insurer.person", enp=enp))
    return _action_page(someone, operation, {"reason": "", "details": ""})


def _action_page(someone: Person, operation: Operation, form: dict[str, str], error: str = "", field: str = "") -> str:
    return render_template(
        "insurer/action.html",
        person=someone,
        operation=operation,
        policy=people.open_policy(someone),
        current=people.current_code(someone),
        waiting=reissue_requests.open_request_of(someone.id),
        choices=reasons.STAFF[operation],
        reason_max=reasons.REASON_MAX,
        form=form,
        errors={field: error} if error else {},
    )


@insurer.post("/person/<enp>/<action>")
@role_required(Role.INSURER)
def act(enp: str, action: str) -> Any:
    """Do the action with the reason chosen on its page; a missing reason keeps the page, said beside it."""
    operation = _operation(action)
    someone = _own_person(enp)
    form = {"reason": request.form.get("reason", ""), "details": request.form.get("details", "")}
    choices = reasons.STAFF[operation]
    try:
        reason = reasons.recorded(choices, form["reason"], form["details"])
    except RegistryError as error:
        field = "reason" if form["reason"] not in choices else "details"
        return _action_page(someone, operation, form, said(error), field), 400
    try:
        ACTIONS[operation](enp, _actor(), reason, scope=scope())
        flash(_(DONE[operation]), "ok")
    except RegistryError as error:
        flash(said(error), "error")
    return redirect(url_for("insurer.person", enp=enp))


def _actor() -> str:
    return f"smo:{current_user.username}"


def _link_sides(enp: str, side: str, other: str) -> tuple[str, str]:
    """A link on the person's page as (representative, represented): `other` is their representative or their
    dependant."""
    return (other, enp) if side == "representative" else (enp, other)


_LINK = "/person/<enp>/<any(representative, dependant):side>/<other>/end"


@insurer.get(_LINK)
@role_required(Role.INSURER)
def confirm_end_link(enp: str, side: str, other: str) -> Any:
    """Ending a representation, asked first: whose link ends, from when, on what grounds. One the registry would
    refuse to end (none, ended already, another insurer's insured's) has no page: the person's page says why."""
    _own_person(enp)
    try:
        link = representations.endable(*_link_sides(enp, side, other), scope(), _today())
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("insurer.person", enp=enp))
    return _end_link_page(enp, side, link, "")


def _today() -> date:
    return clock.today_in_moscow(datetime.now(UTC))


def _end_link_page(enp: str, side: str, link: representations.Link, grounds: str, error: str = "") -> str:
    today = _today()
    return render_template(
        "insurer/end_link.html",
        enp=enp,
        side=side,
        link=link,
        today=today,
        last_day=today - timedelta(days=1),
        choices=representations.grounds_for(link, today),
        grounds=grounds,
        errors={"grounds": error} if error else {},
    )


@insurer.post(_LINK)
@role_required(Role.INSURER)
def end_link(enp: str, side: str, other: str) -> Any:
    """End the representation on the grounds chosen: from today the representative no longer sees the person."""
    _own_person(enp)
    grounds = request.form.get("grounds", "")
    ends = _link_sides(enp, side, other)
    try:
        link = representations.endable(*ends, scope(), _today())
        last_day = representations.end(*ends, grounds, _actor(), scope=scope())
    except RegistryError as error:
        if error.field != "reason":
            flash(said(error), "error")
            return redirect(url_for("insurer.person", enp=enp))
        return _end_link_page(enp, side, link, grounds, said(error)), 400
    flash(
        _(
            "Представительство прекращено, его последний день — %(day)s: представитель уже не видит полис, код и "
            "данные представляемого",
            day=last_day.strftime("%d.%m.%Y"),
        ),
        "ok",
    )
    return redirect(url_for("insurer.person", enp=enp))


_RESTORE = "/person/<enp>/<any(representative, dependant):side>/<other>/restore"


def _restore_link_page(
    enp: str, side: str, link: representations.Link, form: dict[str, str], error: str = "", field: str = ""
) -> str:
    today = _today()
    return render_template(
        "insurer/restore_link.html",
        enp=enp,
        side=side,
        link=link,
        today=today,
        valid_to=representations.restored_until(link, today),
        choices=representations.reasons_to_restore(link),
        reason_max=reasons.REASON_MAX,
        form=form,
        errors={field: error} if error else {},
    )


@insurer.get(_RESTORE)
@role_required(Role.INSURER)
def confirm_restore_link(enp: str, side: str, other: str) -> Any:
    """Restoring a representation ended on grounds by mistake, asked first: whose, from when, until when, and why."""
    _own_person(enp)
    try:
        link = representations.restorable(*_link_sides(enp, side, other), scope())
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("insurer.person", enp=enp))
    return _restore_link_page(enp, side, link, {"reason": "", "details": ""})


@insurer.post(_RESTORE)
@role_required(Role.INSURER)
def restore_link(enp: str, side: str, other: str) -> Any:
    """Restore the representation for the reason chosen: from today the representative sees the person again."""
    _own_person(enp)
    form = {"reason": request.form.get("reason", ""), "details": request.form.get("details", "")}
    sides = _link_sides(enp, side, other)
    try:
        link = representations.restorable(*sides, scope())
        last_day = representations.restore(*sides, form["reason"], _actor(), form["details"], scope=scope())
    except RegistryError as error:
        if error.field not in ("reason", "details"):
            flash(said(error), "error")
            return redirect(url_for("insurer.person", enp=enp))
        return _restore_link_page(enp, side, link, form, said(error), error.field), 400
    if last_day is None:
        flash(_("Представительство восстановлено, без срока: представитель снова видит полис, код и данные"), "ok")
    else:
        flash(
            _(
                "Представительство восстановлено, его последний день — %(day)s: представитель снова видит полис, код "
                "и данные",
                day=last_day.strftime("%d.%m.%Y"),
            ),
            "ok",
        )
    return redirect(url_for("insurer.person", enp=enp))


# The person page's steps with nothing to choose: each is asked first on its own page, as the actions are
# (`confirm`, insurer/step.html), and done by the POST to the same address, from that page's form only.


def _certificate_held(someone: Person) -> dict[str, Any]:
    lifecycle.require_allowed(someone, Operation.ISSUE_POLICY)
    return {}


def _newborn_uninsured(someone: Person) -> dict[str, Any]:
    lifecycle.require_newborn_policy_due(someone)
    return {}


def _next_term(someone: Person) -> dict[str, Any]:
    return {"term_end": lifecycle.next_term_end(someone)}


def _account_code(someone: Person) -> dict[str, Any]:
    activation.require_may_issue(someone)
    return {"unused_since": activation.unused_code_issued_at(someone)}


#: step → what its page says besides the person, their policy, code and account; or the `RegistryError` why the
#: step is refused now, which the person's page then shows instead.
STEPS: dict[str, Callable[[Person], dict[str, Any]]] = {
    "issue-policy": _certificate_held,
    "newborn-policy": _newborn_uninsured,
    "renew-policy": _next_term,
    "activation-code": _account_code,
}
#: What the step page's form sends: a POST without it (the person's page as it was before the step asked, a form
#: elsewhere) is shown the question instead, so that no single tap does the step.
CONFIRMED = "confirmed"


def _step_page(someone: Person, step: str) -> str:
    facts = STEPS[step](someone)
    return render_template(
        "insurer/step.html",
        person=someone,
        step=step,
        policy=people.open_policy(someone),
        current=people.current_code(someone),
        account=accounts.citizen_account(someone),
        confirmed=CONFIRMED,
        **facts,
    )


def _asked_first(view: Callable[[str], Response]) -> Callable[[str], Response]:
    """A step's POST, done only when sent from its page (`CONFIRMED`); otherwise that page, to ask."""

    @wraps(view)
    def asked(enp: str) -> Response:
        if request.form.get(CONFIRMED) != "yes":
            return redirect(request.script_root + request.path, 303)  # the same address, asked by GET
        return view(enp)

    return asked


@insurer.post("/person/<enp>/issue-policy")
@role_required(Role.INSURER)
@_asked_first
def issue_policy(enp: str) -> Response:
    """The policy is ready: it replaces the person's temporary certificate."""
    _own_person(enp)
    try:
        lifecycle.replace_certificate_with_policy(enp, _actor(), scope=scope())
        flash(_("Полис выдан, временное свидетельство закрыто"), "ok")
    except RegistryError as error:
        flash(said(error), "error")
    return redirect(url_for("insurer.person", enp=enp))


@insurer.post("/person/<enp>/renew-policy")
@role_required(Role.INSURER)
@_asked_first
def renew_policy(enp: str) -> Response:
    """A time-limited policy's next term (a foreigner's year, an EAEU worker's new contract): a new policy and code."""
    _own_person(enp)
    try:
        code = lifecycle.renew_policy(enp, _actor(), scope=scope())
        day = code.policy.valid_to.strftime("%d.%m.%Y") if code.policy.valid_to else ""
        flash(_("Полис выдан на новый срок, по %(day)s; выпущен новый код", day=day), "ok")
    except RegistryError as error:
        flash(said(error), "error")
    return redirect(url_for("insurer.person", enp=enp))


@insurer.post("/person/<enp>/newborn-policy")
@role_required(Role.INSURER)
@_asked_first
def newborn_policy(enp: str) -> Response:
    """The newborn's own policy, from this insurer, which covers the child until then."""
    _own_person(enp)
    try:
        lifecycle.issue_newborn_policy(enp, _actor(), scope=scope())
        flash(_("Полис выдан, код выпущен"), "ok")
    except RegistryError as error:
        flash(said(error), "error")
    return redirect(url_for("insurer.person", enp=enp))


@insurer.post("/person/<enp>/activation-code")
@role_required(Role.INSURER)
@_asked_first
def activation_code(enp: str) -> Response:
    """A one-time code for the person to open their account, or to set a new password for it: shown once on
    the page this redirects to, never kept (webapp/web/shown_once.py)."""
    someone = _own_person(enp)
    moment = datetime.now(UTC)
    try:
        code = activation.issue_code(enp, _actor(), scope=scope(), now=moment)
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("insurer.person", enp=enp))
    forget_code_guesses(enp)
    account = accounts.citizen_account(someone)
    issued = {
        "enp": enp,
        "code": activation.display(code),
        "login": account.username if account else "",
        "valid_until": (moment + activation.CODE_LIFETIME).isoformat(),
    }
    shown_once.keep("activation_code", issued)
    return redirect(url_for("insurer.show_activation_code", enp=enp))


@insurer.get("/person/<enp>/activation-code/shown")
@role_required(Role.INSURER)
def show_activation_code(enp: str) -> Response:
    """The code just issued, once; a reload finds the person's page, which says how to get another."""
    someone = _own_person(enp)
    issued = shown_once.take("activation_code")
    if issued is None or issued["enp"] != enp:
        flash(_("Код показан один раз. Если его не записали, выдайте новый."), "info")
        return redirect(url_for("insurer.person", enp=enp))
    page = render_template(
        "insurer/activation_code.html",
        person=someone,
        code=issued["code"],
        login=issued["login"],
        # None for a code sealed by the version before this line (a deploy within SHOWN_FOR): the page leaves it out.
        valid_until=datetime.fromisoformat(issued["valid_until"]) if "valid_until" in issued else None,
    )
    return shown_once.not_stored(make_response(page))


# Changing a person's data (issue 20): a form, the confirmation old → new, then the change

DATA_CHANGE_PAGE = "insurer/data_change.html"


@insurer.get("/person/<enp>/data")
@role_required(Role.INSURER)
def edit_data(enp: str) -> str:
    """The form, with the person's data as it is now."""
    someone = _own_person(enp)
    return data_change_form.page(DATA_CHANGE_PAGE, someone, data_change_form.prefilled(someone))


@insurer.post("/person/<enp>/data")
@role_required(Role.INSURER)
def preview_data_change(enp: str) -> Any:
    """The form checked, and old → new shown for confirmation; nothing changes yet. The confirmation's
    «Назад» comes back here (`back`) for the form as it was sent."""
    someone = _own_person(enp)
    form = data_change_form.posted()
    if request.form.get("back"):
        return data_change_form.page(DATA_CHANGE_PAGE, someone, form)
    try:
        change = data_change_form.checked(form)
        changes = data_changes.preview(enp, change.new, scope=scope(), reason=change.reason)
    except (data_change_form.Refused, RegistryError) as error:
        return data_change_form.page(DATA_CHANGE_PAGE, someone, form, data_change_form.refusal(error)), 400
    return render_template(
        "insurer/data_change_confirm.html",
        person=someone,
        changes=changes,
        grounds=change,
        form=form,
        seen=data_changes.data_seen(someone),
        code_follows=lifecycle.code_follows(someone),
        action=url_for("insurer.change_data", enp=enp),
        back=url_for("insurer.preview_data_change", enp=enp),
    )


@insurer.post("/person/<enp>/data/confirm")
@role_required(Role.INSURER)
def change_data(enp: str) -> Any:
    """Make the confirmed change: the data, the codes and the audit in one transaction
    (webapp/registry/data_changes.py). A form changed on its way is checked again and refused as the form; so is
    a change to data a colleague changed since the confirmation was shown (`seen`)."""
    someone = _own_person(enp)
    form = data_change_form.posted()
    try:
        change = data_change_form.checked(form)
        code = data_changes.change_person_data(
            enp, change.new, change.reason, change.reason_text, change.document, _actor(), scope=scope(), seen=_seen()
        )
    except (data_change_form.Refused, RegistryError) as error:
        return data_change_form.page(DATA_CHANGE_PAGE, someone, form, data_change_form.refusal(error)), 400
    flash(_data_changed(code), "ok")
    return redirect(url_for("insurer.person", enp=enp))


def _seen() -> str | None:
    """The digest of the data the confirmation showed (webapp/registry/data_changes.py `data_seen`)."""
    return request.form.get("seen") or None


def _data_changed(code: IssuedCode | None) -> str:
    if code is None:
        return _("Данные изменены. Полис не действует, поэтому новый код не выпущен.")
    return _("Данные изменены, выпущен новый код № %(serial)s. Прежний код больше не принимается.", serial=code.serial)


#: The form's fields: a person's, and who represents them.
_FIELDS = (*people.PERSON_FIELDS, "representative_enp")


@insurer.route("/new", methods=["GET", "POST"])
@role_required(Role.INSURER)
def new_person() -> Any:
    """Register a person who applied to us: a policy, or a temporary certificate until it is ready."""
    form = {name: request.form.get(name, "").strip() for name in _FIELDS}
    form["enp"], form["representative_enp"] = as_typed(form["enp"]), as_typed(form["representative_enp"])
    temporary = request.form.get("kind") == "temporary"
    if request.method == "GET":
        return render_template("insurer/new.html", form=form, temporary=False)
    today = clock.today_in_moscow(datetime.now(UTC))
    try:
        data = people.person_from_fields(form, today)
        lifecycle.register_person(
            data, scope(), _actor(), temporary=temporary, representative_enp=form["representative_enp"] or None
        )
    except NotFound:
        errors = {"representative_enp": _("Представитель с таким ЕНП не найден в реестре")}
    except RegistryError as error:
        errors = refused(error, _FIELDS)
    else:
        flash(_("Застрахованный зарегистрирован, код выпущен"), "ok")
        return redirect(url_for("insurer.person", enp=str(data.enp)))
    return render_template("insurer/new.html", form=form, temporary=temporary, errors=errors), 400


@insurer.route("/transfer", methods=["GET", "POST"])
@role_required(Role.INSURER)
def transfer() -> Any:
    """Accept a person moving to us from another insurer, on their application; the number stays.

    Failed matches of the ЕНП and birth date are limited and audited (webapp/registry/transfers.py).
    """
    form = {name: request.form.get(name, "").strip() for name in TRANSFER_FIELDS}
    form["enp"] = as_typed(form["enp"])
    if request.method == "GET":
        return render_template("insurer/transfer.html", form=form)
    errors: dict[str, str] = {}  # every field's, at once, in the form's order
    try:
        enp = str(Enp(form["enp"]))
    except InvalidValue as error:
        errors["enp"] = said(error)
    dates = {}
    for name in ("birth_date", "applied_on"):
        try:
            dates[name] = date.fromisoformat(form[name])
        except ValueError:
            errors[name] = _("Дата в формате ГГГГ-ММ-ДД")
    if errors:
        return _transfer_refused(form, errors)
    born, applied_on = dates["birth_date"], dates["applied_on"]
    try:
        transfers.accept(enp, born, applied_on, form["exception"], form["document"], current_user)
    except transfers.TooManyFailures as error:
        return _transfer_refused(form, refused(error, form), 429, {"Retry-After": str(error.retry_after)})
    except NotFound:
        return _transfer_refused(form, {FORM: _("В реестре нет застрахованного с таким ЕНП и датой рождения")})
    except RegistryError as error:
        return _transfer_refused(form, refused(error, form))
    flash(_("Застрахованный принят, новый код выпущен"), "ok")
    return redirect(url_for("insurer.person", enp=enp))


def _transfer_refused(
    form: dict[str, str], errors: dict[str, str], status: int = 400, headers: dict[str, str] | None = None
) -> tuple[str, int, dict[str, str]]:
    return render_template("insurer/transfer.html", form=form, errors=errors), status, headers or {}


@insurer.get("/requests")
@role_required(Role.INSURER)
def request_list() -> str:
    """Citizens' open requests, oldest first: for a new code, and to change their data (with old → new)."""
    changes = data_changes.open_change_requests(current_user.insurer_id)
    return render_template(
        "insurer/requests.html",
        requests=reissue_requests.open_requests(current_user.insurer_id),
        change_requests=[(item, data_changes.request_changes(item)) for item in changes],
    )


#: What staff do with a citizen's request for a new code, each asked on a page of its own first.
REQUEST_OUTCOMES = ("reissue", "decline")


@insurer.get("/requests/<int:request_id>/<outcome>")
@role_required(Role.INSURER)
def answer_request_page(request_id: int, outcome: str) -> Any:
    """What answering a request for a new code does, before it is done: neither a new code nor a refusal at one tap."""
    return _request_answer_page(request_id, outcome)


def _request_answer_page(request_id: int, outcome: str, errors: dict[str, str] | None = None) -> Any:
    if outcome not in REQUEST_OUTCOMES:
        abort(404)
    try:
        item = reissue_requests.open_request(request_id, scope())
    except NotFound:
        abort(404)
    except RegistryError as error:  # answered already, or its filer no longer represents the person
        flash(said(error), "error")
        return redirect(url_for("insurer.request_list"))
    current = people.current_code(item.person) if outcome == "reissue" else None  # the code a reissue replaces
    return render_template(
        "insurer/reissue_request_answer.html",
        item=item,
        person=item.person,
        outcome=outcome,
        current=current,
        reason=request.form.get(reasons.DECLINE_REASON, ""),
        reason_max=reasons.REASON_MAX,
        errors=errors or {},
    )


@insurer.post("/requests/<int:request_id>/<outcome>")
@role_required(Role.INSURER)
def answer_request(request_id: int, outcome: str) -> Any:
    """Reissue the code and close the request together, or decline it with a reason the citizen reads."""
    try:
        if outcome == "reissue":
            reissue_requests.fulfil(request_id, _actor(), scope=scope())
            flash(_("Код перевыпущен, заявка выполнена"), "ok")
        elif outcome == "decline":
            because = request.form.get(reasons.DECLINE_REASON, "")
            reissue_requests.close_request(
                request_id, RequestStatus.DECLINED, _actor(), scope=scope(), decline_reason=because
            )
            flash(_("Заявка на новый код отклонена, застрахованный увидит причину"), "ok")
        else:
            abort(404)
    except NotFound:
        abort(404)
    except RegistryError as error:
        if error.field == reasons.DECLINE_REASON:
            return _request_answer_page(request_id, outcome, refused(error, [reasons.DECLINE_REASON])), 400
        flash(said(error), "error")
    return redirect(url_for("insurer.request_list"))


#: What staff do with a citizen's request to change their data, each on a page of its own.
CHANGE_OUTCOMES = ("accept", "decline")


def _open_change_request(change_id: int, outcome: str) -> DataChangeRequest | Response:
    """The open request, if it is of someone this insurer holds; anything else is no page at all. One whose filer no
    longer represents the person sends back to the list, saying why."""
    if outcome not in CHANGE_OUTCOMES:
        abort(404)
    try:
        return data_changes.open_change_request(change_id, scope())
    except NotFound:
        abort(404)
    except RegistryError as error:
        flash(said(error), "error")
        return redirect(url_for("insurer.request_list"))


@insurer.get("/data-requests/<int:change_id>/<outcome>")
@role_required(Role.INSURER)
def change_request_page(change_id: int, outcome: str) -> Any:
    """Accepting: the same confirmation old → new as staff's own change. Declining: the reason, required."""
    item = _open_change_request(change_id, outcome)
    if isinstance(item, Response):
        return item
    return _change_request_page(item, outcome)


def _change_request_page(item: DataChangeRequest, outcome: str, errors: dict[str, str] | None = None) -> str:
    if outcome == "decline":
        return render_template(
            "insurer/data_change_decline.html",
            item=item,
            person=item.person,
            reason=request.form.get(reasons.DECLINE_REASON, ""),
            reason_max=reasons.REASON_MAX,
            errors=errors or {},
        )
    return render_template(
        "insurer/data_change_confirm.html",
        person=item.person,
        item=item,
        changes=data_changes.request_changes(item),
        grounds=data_change_form.grounds_of(item),
        seen=data_changes.data_seen(item.person),
        code_follows=lifecycle.code_follows(item.person),
        errors=errors or {},
        action=url_for("insurer.answer_change_request", change_id=item.id, outcome="accept"),
        back=url_for("insurer.request_list"),
    )


@insurer.post("/data-requests/<int:change_id>/<outcome>")
@role_required(Role.INSURER)
def answer_change_request(change_id: int, outcome: str) -> Any:
    """Accept (the change runs as staff's own, and closes the request) or decline with the reason the citizen
    will read; a refusal keeps the page, said on it."""
    item = _open_change_request(change_id, outcome)
    if isinstance(item, Response):
        return item
    try:
        if outcome == "accept":
            code = data_changes.accept_change_request(change_id, _actor(), scope=scope(), seen=_seen())
            flash(_data_changed(code), "ok")
        else:
            reason = request.form.get(reasons.DECLINE_REASON, "")
            data_changes.decline_change_request(change_id, reason, _actor(), scope=scope())
            flash(_("Заявка на изменение данных отклонена, застрахованный увидит причину"), "ok")
    except RegistryError as error:
        return _change_request_page(item, outcome, refused(error, (reasons.DECLINE_REASON,))), 400
    return redirect(url_for("insurer.request_list"))


# Importing the insurer's own registry file


@insurer.get("/import")
@role_required(Role.INSURER)
def import_form() -> str:
    return render_template("insurer/import.html", report=None)


@insurer.get("/import/template.csv")
@role_required(Role.INSURER)
def import_template() -> Response:
    """The registry CSV's header, to fill in."""
    return _csv_download(registry_file.template(), "registry-template.csv")


def _csv_download(body: str | bytes | Iterator[bytes], file_name: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.headers["Cache-Control"] = "no-store"  # as everything behind a login (tests/security/test_headers.py)
    return response


@insurer.post("/import")
@role_required(Role.INSURER)
def import_upload() -> Any:
    """Load a registry CSV of the insurer's own insured. A small file loads now; a larger one is a job
    (webapp/registry/bulk_import.py), whose page shows its progress. Lines of other insurers are refused."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:  # a browser sends a nameless empty part when no file was chosen
        flash(_("Выберите файл CSV реестра"), "error")
        return render_template("insurer/import.html", report=None), 400
    data, file_name = upload.read(), upload.filename
    try:  # an empty file is the file's own refusal (registry_file.checked_delimiter), not a missing choice
        if bulk_import.needs_job(data):
            job = bulk_import.start_job(data, _actor(), scope=scope(), file_name=file_name)
            return redirect(url_for("insurer.import_job", job_id=job.id))
        report = bulk_import.import_csv(data, _actor(), scope=scope(), processes=1, file_name=file_name)
    except RegistryError as error:
        flash(said(error), "error")
        return render_template("insurer/import.html", report=None), 503 if isinstance(error, QueueUnavailable) else 400
    return render_template("insurer/import.html", report=report)


def _own_job(job_id: int) -> Job:
    try:
        return job_queue.get(job_id, scope())
    except NotFound:
        abort(404)


@insurer.get("/import/<int:job_id>")
@role_required(Role.INSURER)
def import_job(job_id: int) -> str:
    job = _own_job(job_id)
    return render_template("insurer/import_job.html", job=job, **_job_view(job))


@insurer.get("/import/<int:job_id>/progress")
@role_required(Role.INSURER)
def import_progress(job_id: int) -> str:
    """The progress block alone, polled by htmx while the job waits or runs."""
    job = _own_job(job_id)
    return render_template("insurer/_import_progress.html", job=job, **_job_view(job))


@insurer.get("/import/<int:job_id>/refused.csv")
@role_required(Role.INSURER)
def import_refused(job_id: int) -> Response:
    """Every line the import refused, and why, in the reader's language: its page lists the first ERRORS_KEPT of
    them."""
    refused = bulk_import.refused_lines(_own_job(job_id))
    if refused is None:
        abort(404)
    return _csv_download(stream_with_context(_refused_csv(refused)), f"import-{job_id}-refused.csv")


def _refused_csv(refused: Iterator[bulk_import.RowError], piece: int = 10_000) -> Iterator[bytes]:
    """The CSV of refused lines, `line,reason`, with Excel's byte order mark (as the import's template), written a
    piece at a time: a million lines are never held whole."""
    out = io.StringIO(registry_file.BYTE_ORDER_MARK)
    out.seek(0, io.SEEK_END)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(bulk_import.REFUSED_COLUMNS)
    for count, error in enumerate(refused, start=1):
        writer.writerow((error.line, refused_line(error)))
        if count % piece == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def _job_view(job: Job) -> dict[str, Any]:
    finished = job.state == JobState.FINISHED and job.result is not None
    report = bulk_import.ImportReport.of_result(job.result) if finished else None
    return {
        "alive": job_queue.alive(job),
        "unattended": job_queue.unattended(job),
        "report": report,
        "refused_url": (
            url_for("insurer.import_refused", job_id=job.id)
            if report and report.refused and bulk_import.keeps_refused_csv(job.id)
            else None
        ),
        "percent": 100 if not job.total else min(job.done * 100 // job.total, 100),
    }
