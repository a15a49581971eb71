"""Reception: scan or type, and get a verdict in about a second."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_htmx import HTMX

from webapp.auth import role_required
from webapp.models import Role
from webapp.verification import message, verify_scan

clinic = Blueprint("clinic", __name__, url_prefix="/clinic")
clinic.add_app_template_global(message, "verdict_message")
htmx = HTMX()

#: What a scanner or a person can reasonably send; longer input is refused unread.
MAX_INPUT = 4000


@clinic.get("/")
@role_required(Role.CLINIC)
def scan() -> str:
    return render_template("clinic/scan.html", result=None)


@clinic.post("/verify")
@role_required(Role.CLINIC)
def verify() -> Any:
    scanned = request.form.get("code", "")[:MAX_INPUT]
    result = verify_scan(scanned)
    if htmx:
        return render_template("clinic/_verdict.html", result=result)
    return render_template("clinic/scan.html", result=result)
