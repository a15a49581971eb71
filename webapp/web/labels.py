"""Words for the registry's stored values, and its clock, the same on every page and on paper.

Lazy strings: each reads in the language of the page that shows it (the PDF
extract forces Russian).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask_babel import lazy_gettext as _

from policy_codes.codec import MOSCOW

POLICY_KINDS = {"policy": _("Полис ОМС единого образца"), "temporary_certificate": _("Временное свидетельство")}
POLICY_STATUSES = {
    "active": _("действует"),
    "suspended": _("приостановлен"),
    "terminated": _("прекращён"),
    "closed": _("закрыт"),
}
CATEGORIES = {
    "citizen": _("гражданин РФ"),
    "foreign_permanent": _("иностранец, постоянно проживающий"),
    "foreign_temporary": _("иностранец, временно проживающий"),
    "stateless_permanent": _("лицо без гражданства, постоянно проживающее"),
    "stateless_temporary": _("лицо без гражданства, временно проживающее"),
    "refugee": _("беженец"),
    "eaeu_worker": _("трудящийся из ЕАЭС"),
}
CODE_STATUSES = {"current": _("действующий"), "superseded": _("заменён новым"), "revoked": _("отозван")}


def moscow_time(moment: datetime | None, pattern: str = "%d.%m.%Y %H:%M") -> str:
    """A stored instant in Moscow time, the registry's clock; a naive one is UTC, as the database keeps it."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(MOSCOW).strftime(pattern)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        policy_kinds=POLICY_KINDS,
        policy_statuses=POLICY_STATUSES,
        code_statuses=CODE_STATUSES,
        categories=CATEGORIES,
        moscow_time=moscow_time,
    )
