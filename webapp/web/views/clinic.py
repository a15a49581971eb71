"""Reception: scan or type, and get a verdict in about a second."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_htmx import HTMX
from flask_login import current_user

from policy_codes.enp import ENP_LENGTH, as_typed
from policy_codes.verdicts import Verdict, offline_words
from webapp.models import Role
from webapp.registry import clinic_checks
from webapp.registry.clinic_checks import Refusal
from webapp.registry.keys import publication
from webapp.registry.verification import (
    VerificationResult,
    headline,
    is_number_look_up,
    message,
    registry_message,
    verify_scan,
)
from webapp.web.auth import role_required
from webapp.web.i18n import current_language
from webapp.web.security import carries_scanned_bytes

clinic = Blueprint("clinic", __name__, url_prefix="/clinic")
clinic.add_app_template_global(message, "verdict_message")
clinic.add_app_template_global(headline, "verdict_headline")
clinic.add_app_template_global(registry_message)
htmx = HTMX()

#: Verdicts about what was scanned, not about the patient's cover (an old code, a misread one, not a policy's):
#: the desk scans again or asks for the current code, so "emergency care needs no policy" is only noise there.
ABOUT_THE_SCAN = frozenset({Verdict.SUPERSEDED, Verdict.MALFORMED, Verdict.NOT_A_POLICY_CODE})
clinic.add_app_template_global(sorted(map(str, ABOUT_THE_SCAN)), "verdicts_about_the_scan")

#: What a scanner or a person can reasonably send; longer input is refused unread.
MAX_INPUT = 4000
HISTORY_LENGTH = 100


#: How many digits a typed number with a digit dropped or doubled may have: spaces and dashes aside, about an ЕНП's.
MISCOUNTED_DIGITS = range(11, 22)


def miscounted_words(count: int) -> dict[str, str]:
    """The desk's headline and message for a number of `count` digits, where an ЕНП has 16: the server's verdict
    and the browser's offline one (`_scan_page`) say the same."""
    message = ngettext(
        "Введена %(num)s цифра, а в номере полиса (ЕНП) их 16: проверьте номер и введите его снова.",
        "Введено %(num)s цифр, а в номере полиса (ЕНП) их 16: проверьте номер и введите его снова.",
        count,
    )
    return {"headline": _("Не 16 цифр"), "message": message}


clinic.add_app_template_global(miscounted_words)


def digits_miscounted(scanned: str, result: VerificationResult) -> int | None:
    """How many digits were typed, when the verdict is «not a policy's code» for what is a number with too few or
    too many (15 or 17): the desk says so and asks for the number again. The verdict itself stays."""
    if result.verdict is not Verdict.NOT_A_POLICY_CODE:
        return None
    digits = as_typed(scanned)
    miscounted = digits.isascii() and digits.isdigit() and len(digits) in MISCOUNTED_DIGITS
    return len(digits) if miscounted and len(digits) != ENP_LENGTH else None  # 16 in odd white space: not said so


def _scan_page(result: VerificationResult | None, refusal: Refusal | None = None, miscounted: int | None = None) -> str:
    """The page, with what its offline check needs: the pinned registry key and the verdicts' headlines and
    messages as an offline verifier may say them (the page puts its lists' date in place of `{date}`)."""
    return render_template(
        "clinic/scan.html",
        result=result,
        miscounted=miscounted,
        miscounted_offline={count: miscounted_words(count) for count in MISCOUNTED_DIGITS if count != ENP_LENGTH},
        refusal=refusal,
        registry_jwks=publication.registry_jwks(),
        verdict_words=offline_words(current_language(), "{date}"),
    )


@clinic.get("/")
@role_required(Role.CLINIC)
def scan() -> str:
    return _scan_page(None)


@clinic.post("/verify")
@carries_scanned_bytes("code")
@role_required(Role.CLINIC)
def verify() -> Any:
    scanned = request.form.get("code", "")[:MAX_INPUT]
    if not scanned.strip():  # Enter on an empty field: nothing was checked, so no verdict and no check counted
        return render_template("clinic/_nothing_scanned.html") if htmx else _scan_page(None)
    refusal = clinic_checks.admit(current_user, is_number_look_up(scanned))
    if refusal is not None:
        return _refused(refusal)
    result = verify_scan(scanned)
    clinic_checks.record_check(current_user.clinic_id, result)
    miscounted = digits_miscounted(scanned, result)
    if htmx:
        return render_template("clinic/_verdict.html", result=result, miscounted=miscounted)
    return _scan_page(result, miscounted=miscounted)


def _refused(refusal: Refusal) -> tuple[str, int, dict[str, str]]:
    """A limit reached: 429, with its message in the verdict area. htmx gets the part it swaps in (the page's
    script lets it swap a 429), a plain form post the whole page."""
    body = render_template("clinic/_refused.html", refusal=refusal) if htmx else _scan_page(None, refusal)
    return body, 429, {"Retry-After": str(refusal.retry_after)}


@clinic.get("/history")
@role_required(Role.CLINIC)
def history() -> str:
    """This clinic's recent checks: time, verdict and a masked number only."""
    checks = clinic_checks.history(current_user.clinic_id, HISTORY_LENGTH)
    return render_template("clinic/history.html", checks=checks, shown=HISTORY_LENGTH)
