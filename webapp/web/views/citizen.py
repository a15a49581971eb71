"""The insured person's pages: their policy and those of the people they represent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from policy_codes import Enp
from policy_codes.render import code128_svg, qr_svg
from webapp.models import IssuedCode, Person, Role
from webapp.registry import clock, data_changes, people, reissue_requests, representations
from webapp.registry.codes import live_code, static_qr_png, static_qr_svg
from webapp.registry.errors import RegistryError
from webapp.web import data_change_form, pdf
from webapp.web.auth import role_required
from webapp.web.file_names import download_name
from webapp.web.form_errors import refused

citizen = Blueprint("citizen", __name__, url_prefix="/me")


def _actor() -> str:
    """The citizen as the audit trail names them: by their login."""
    return f"citizen:{current_user.username}"


def people_in_reach() -> list[Person]:
    """The citizen themself first, then the people they represent."""
    me = current_user.person
    return [me, *people.represented_by(me)]


def chosen_person(household: list[Person] | None = None) -> Person:
    """`?person=ENP` picks a dependant; anyone else's number answers 404, not a hint."""
    wanted = request.args.get("person", "")
    household = household or people_in_reach()
    if not wanted:
        return household[0]
    for person in household:
        if person.enp == wanted:
            return person
    abort(404)


def _card(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    """The policy card; `errors` are a refused reissue request's, shown by its fields."""
    household = people_in_reach()
    person = chosen_person(household)
    latest = reissue_requests.latest_request(person)
    change_request = data_changes.latest_change_request(person)
    cover = people.newborn_cover(person, clock.today_in_moscow(datetime.now(UTC)))
    # A newborn's card shows the code to take to reception instead: the citizen's own, when theirs covers the child.
    covering_me = cover is not None and cover.representative.id == household[0].id
    return render_template(
        "citizen/policy.html",
        person=person,
        people=household,
        policy=people.open_policy(person),
        code=people.current_code(person),
        cover=cover,
        cover_code=people.current_code(household[0]) if covering_me else None,
        reissue_request=latest,
        requested_on=clock.today_in_moscow(latest.created_at) if latest else None,
        reasons=reissue_requests.REASONS,
        reason_max=reissue_requests.REASON_MAX,
        change_request=change_request,
        errors=errors or {},
    ), status


@citizen.get("/")
@role_required(Role.CITIZEN)
def policy() -> tuple[str, int]:
    return _card()


@citizen.get("/show")
@role_required(Role.CITIZEN)
def show() -> str:
    """ "Show at reception": the code alone, as large as the screen allows, with the number, the status and the
    dates under it."""
    person = chosen_person()
    if people.current_code(person) is None:
        abort(404)
    return render_template("citizen/show.html", person=person, policy=people.open_policy(person))


def _current_code(person: Person | None = None) -> IssuedCode:
    code = people.current_code(person or chosen_person())
    if code is None:
        abort(404)
    return code


def _current_code_text() -> str:
    return _current_code().text


def _download(body: bytes, mimetype: str, name: str, person: Person | None = None) -> Response:
    """A picture or the extract; saved (`?download=1`) under `name` and the person's own, so a parent who saves
    each child's code keeps every file (webapp/web/file_names.py)."""
    response = Response(body, mimetype=mimetype)
    if request.args.get("download"):
        saved = download_name(name, person or chosen_person())
        response.headers["Content-Disposition"] = f'attachment; filename="{saved}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@citizen.get("/code.svg")
@role_required(Role.CITIZEN)
def code_svg() -> Response:
    fluid = not request.args.get("download")  # on the page it scales to the screen; a download keeps its size
    return _download(static_qr_svg(_current_code_text(), fluid=fluid), "image/svg+xml", "polis-oms.svg")


@citizen.get("/code.png")
@role_required(Role.CITIZEN)
def code_png() -> Response:
    return _download(static_qr_png(_current_code_text(), scale=10), "image/png", "polis-oms.png")


@citizen.get("/barcode.svg")
@role_required(Role.CITIZEN)
def barcode_svg() -> Response:
    return _download(code128_svg(Enp(chosen_person().enp)), "image/svg+xml", "enp.svg")


@citizen.get("/extract.pdf")
@role_required(Role.CITIZEN)
def extract_pdf() -> Response:
    """One A4 page to print: the details, the signed QR and the barcode of the number."""
    person = chosen_person()
    body = pdf.render(person, _current_code(person), datetime.now(UTC))
    return _download(body, "application/pdf", "vypiska-polis-oms.pdf", person)


@citizen.post("/reissue-request")
@role_required(Role.CITIZEN)
def request_reissue() -> Any:
    """Ask the insurer for a new code; a second request while one is open is answered kindly, not added."""
    person = chosen_person()
    try:
        reason = reissue_requests.reason_text(request.form.get("reason", ""), request.form.get("details", ""))
        reissue_requests.request_reissue(person, reason, _actor(), filed_by=current_user.person)
    except reissue_requests.RequestAlreadyOpen:
        flash(_("Заявка уже подана, новая не нужна: страховая компания рассмотрит ту, что есть."), "ok")
    except RegistryError as error:
        return _card(refused(error, ("reason", "details")), 400)
    else:
        flash(_("Заявка на новый код отправлена в страховую компанию."), "ok")
    return redirect(url_for("citizen.policy", person=request.args.get("person")))


DATA_CHANGE_PAGE = "citizen/data_change.html"


@citizen.get("/data-change")
@role_required(Role.CITIZEN)
def data_change() -> Any:
    """«Сообщить об изменении данных»: the form, with the data as the registry has it. While a request is open,
    the card says so instead (one at a time)."""
    person = chosen_person()
    if data_changes.open_change_request_of(person.id) is not None:
        return redirect(url_for("citizen.policy", person=request.args.get("person")))
    return data_change_form.page(DATA_CHANGE_PAGE, person, data_change_form.prefilled(person))


@citizen.post("/data-change")
@role_required(Role.CITIZEN)
def request_data_change() -> Any:
    """Send the new data and the document to the insurer, who accepts the request (a new code follows) or
    declines it with a reason the card then shows."""
    person = chosen_person()
    form = data_change_form.posted()
    try:
        change = data_change_form.checked(form)
        data_changes.request_change(
            person,
            change.new,
            change.reason,
            change.reason_text,
            change.document,
            _actor(),
            filed_by=current_user.person,
        )
    except data_changes.ChangeRequestAlreadyOpen:
        flash(_("Заявка на изменение данных уже подана: страховая компания рассмотрит ту, что есть."), "ok")
    except (data_change_form.Refused, RegistryError) as error:
        return data_change_form.page(DATA_CHANGE_PAGE, person, form, data_change_form.refusal(error)), 400
    else:
        flash(_("Заявка на изменение данных отправлена в страховую компанию."), "ok")
    return redirect(url_for("citizen.policy", person=request.args.get("person")))


def _dependant() -> Person:
    """The person `?person=` picks whom the citizen represents (people_in_reach: directly, today); their own card, or
    anyone else's number, answers 404."""
    household = people_in_reach()
    person = chosen_person(household)
    if person.id == household[0].id:
        abort(404)
    return person


_NOT_REPRESENTATIVE = "/not-representative"


@citizen.get(_NOT_REPRESENTATIVE)
@role_required(Role.CITIZEN)
def confirm_decline() -> str:
    """«Я не представляю этого человека», asked first: someone the insurer named as this person's parent or guardian
    by mistake (or by malice) removes the card from their account, knowing only the insurer can link it again."""
    person = _dependant()
    cover = people.newborn_cover(person, clock.today_in_moscow(datetime.now(UTC)))
    covered_by_me = cover is not None and cover.representative.id == current_user.person.id
    return render_template("citizen/decline.html", person=person, covered_by_me=covered_by_me)


@citizen.post(_NOT_REPRESENTATIVE)
@role_required(Role.CITIZEN)
def decline() -> Any:
    """End the citizen's own link to the person, in their word: the card leaves their account at once."""
    me, person = current_user.person, _dependant()
    try:
        representations.decline(me.enp, person.enp, _actor())
    except RegistryError:  # ended meanwhile: as for any person not theirs, no hint
        abort(404)
    flash(_("Карточка убрана из вашего личного кабинета: вы больше не представитель этого человека."), "ok")
    return redirect(url_for("citizen.policy"))


@citizen.get("/live")
@role_required(Role.CITIZEN)
def live() -> Any:
    """A fresh 90-second code, swapped in every 30 s by htmx while the phone is online."""
    code = people.current_code(chosen_person())
    if code is None:
        abort(404)
    try:
        text = live_code(code, datetime.now(UTC))
    except RegistryError:  # the policy is suspended, terminated or past its last day: no live code to show
        abort(404)
    return render_template("citizen/_live.html", svg=qr_svg(text, fluid=True).decode("utf-8"))
