"""Every stored value has its words on the pages: a new category, status, role or audit action cannot show
up raw, and every time reads as Moscow time, labelled."""

from __future__ import annotations

import ast
import importlib
import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, gettext

from policy_codes import Verdict
from policy_codes.verdicts import Shown
from signing import KeyStatus
from webapp import create_app
from webapp.models import Category, CodeStatus, PolicyKind, PolicyStatus, Role
from webapp.registry import data_changes, reasons
from webapp.registry.rules import EXPIRED, Operation
from webapp.web import labels

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("words", "values"),
    [
        (labels.CATEGORIES, Category),
        (labels.POLICY_KINDS, PolicyKind),
        (labels.POLICY_STATUSES, PolicyStatus),
        (labels.CODE_STATUSES, CodeStatus),
        (labels.KEY_STATUSES, KeyStatus),
        (labels.ROLES, Role),
    ],
)
def test_every_stored_value_has_words(words: dict[str, object], values: type[StrEnum]) -> None:
    # and, for policies, the one status shown but never stored: an active policy past its last day
    shown_only = {EXPIRED} if values is PolicyStatus else set()
    assert set(words) == {value.value for value in values} | shown_only


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_has_a_label_in_both_languages(verdict: Verdict) -> None:
    """A clinic's history shows each stored verdict as the desk read it, in Russian or English, never raw."""
    for shown in (None, *Shown):
        russian = labels.verdict_label(str(verdict), shown and str(shown), "ru")
        english = labels.verdict_label(str(verdict), shown and str(shown), "en")
        assert russian != str(verdict)
        assert english not in (russian, str(verdict)), "translated in policy_codes/translations"


def audit_actions() -> set[str]:
    """Every action the registry writes to the audit log: the second argument of each `audit.record(...)`,
    a literal, a module's constant, or `str(operation)` (a lifecycle Operation)."""
    actions: set[str] = set()
    for path in (ROOT / "webapp").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if not (called and node.func.attr == "record" and ast.unparse(node.func.value) == "audit"):
                continue
            action = node.args[1]
            if isinstance(action, ast.IfExp):
                actions |= {action.body.value, action.orelse.value}  # type: ignore[attr-defined]
            elif isinstance(action, ast.Constant):
                actions.add(action.value)
            elif isinstance(action, ast.Name):
                actions.add(getattr(importlib.import_module(module), action.id))
            else:
                assert ast.unparse(action) == "str(operation)", f"{path}: an action the test cannot read"
                actions |= {operation.value for operation in Operation}
    return actions


def test_every_audit_action_has_words() -> None:
    actions = audit_actions()
    assert {"register", "revoke", "request_reissue", "terminate", "look_up_limit_reached"} <= actions
    assert actions - set(labels.AUDIT_ACTIONS) == set(), "add their words to webapp/web/labels.py AUDIT_ACTIONS"


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "labels"})


@pytest.mark.parametrize(
    ("actor", "russian", "english"),
    [
        ("smo:smo-77001", "сотрудник СМО smo-77001", "insurer staff smo-77001"),
        ("admin:admin", "оператор реестра admin", "registry operator admin"),
        ("citizen:ivanova", "застрахованный, вход ivanova", "insured person, login ivanova"),
        ("clinic:clinic", "регистратура, вход clinic", "clinic reception, login clinic"),
        ("cli:root", "оператор реестра, командная строка (root)", "registry operator, command line (root)"),
        ("demo", "демонстрационные данные", "demo data"),
        ("someone", "someone", "someone"),
    ],
)
def test_who_did_it_reads_as_a_person(app: Flask, actor: str, russian: str, english: str) -> None:
    with app.test_request_context():
        assert labels.actor_words(actor) == russian
        with force_locale("en"):
            assert labels.actor_words(actor) == english


def test_a_time_is_moscow_time_labelled(app: Flask) -> None:
    """Issue 18: insurer pages showed UTC (19:06) where clinic and admin pages showed Moscow time (22:06)."""
    moment = datetime(2026, 11, 23, 19, 6, 5, tzinfo=UTC)
    with app.test_request_context():
        assert labels.moscow_time(moment) == "23.11.2026 22:06 МСК"
        assert labels.moscow_time(moment.replace(tzinfo=None)) == "23.11.2026 22:06 МСК", "naive is UTC, as stored"
        assert labels.moscow_time(moment, seconds=True) == "23.11.2026 22:06:05 МСК"
        assert labels.moscow_day(datetime(2026, 11, 23, 21, 30, tzinfo=UTC)) == "24.11.2026", "Moscow's day"
        assert labels.moscow_time(None) == ""
        with force_locale("en"):
            assert labels.moscow_time(moment) == "23.11.2026 22:06 MSK"


def test_no_template_formats_a_time_itself() -> None:
    """Times go through the one filter, `moscow_time`: a template's own `%H` would be UTC, unlabelled."""
    formatting = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "templates").rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "%H" in line or re.search(r"(?<!\| )moscow_time\(", line)
    ]
    assert formatting == []


@pytest.mark.parametrize(
    ("recorded", "english"),
    [
        ("Код выдан по ошибке", "The code was issued by mistake"),  # chosen from a list
        (reasons.REISSUED, None),  # the registry's own words, with nobody's reason
        (reasons.POLICY_ISSUED, None),
        (reasons.IMPORTED, None),
        (reasons.KEY_COMPROMISED, None),
        (reasons.CHANGED_TO_INSURER % {"insurer": "77002"}, "77002"),  # with a value, kept
        (reasons.KEY_COMPROMISED_KID % {"kid": "1643114e"}, "1643114e"),
        (reasons.ASKED_FOR % {"reason": "Телефон потерян или украден"}, "The phone was lost or stolen"),
        ("moved_region", "region"),  # a transfer's exception, recorded as its value
        ("Код сфотографировал посторонний", "photographed"),  # words recorded before they were shortened
    ],
)
def test_a_reason_the_registry_recorded_reads_in_english(app: Flask, recorded: str, english: str | None) -> None:
    """A code reissued on a citizen's request said «заявка: Телефон потерян или украден» to an English user, a
    transfer «смена СМО на 77002» and its trail «moved_region»: the registry's own words are catalog ids too."""
    with app.test_request_context(), force_locale("en"):
        words = labels.reason_words(recorded)
    assert not re.search("[а-яё]", words.lower()), words
    assert words != recorded
    if english:
        assert english in words


def test_a_reason_someone_typed_reads_as_typed(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert labels.reason_words("телефон утонул") == "телефон утонул"
        assert labels.reason_words(reasons.ASKED_FOR % {"reason": "телефон утонул"}) == "request: телефон утонул"
        assert labels.reason_words("") == ""


#: The most letters a choice may have to be read whole in a phone's closed list (390 px wide, 16 px type): a
#: list as wide as the page, and one inside a fieldset (the data-change form). Measured in Chromium: Cyrillic runs
#: wider than Latin.
WHOLE_WIDTH = {"ru": 28, "en": 34}
IN_A_FIELDSET = {"ru": 24, "en": 27}


def _lists() -> list[tuple[str, list[str], dict[str, int]]]:
    staff = [
        (f"staff {operation}", list(choices.values()), WHOLE_WIDTH) for operation, choices in reasons.STAFF.items()
    ]
    return [
        *staff,
        ("citizen's reissue", list(reasons.CITIZEN_REISSUE.values()), WHOLE_WIDTH),
        ("category", [str(words) for words in labels.CATEGORIES.values()], WHOLE_WIDTH),
        ("transfer", list(reasons.CHANGE_EXCEPTIONS.values()), WHOLE_WIDTH),
        (
            "data change reason",
            [data_changes.REASON_LABELS[reason] for reason in data_changes.FORM_REASONS],
            IN_A_FIELDSET,
        ),
        ("document kind", list(data_changes.DOCUMENT_KINDS.values()), IN_A_FIELDSET),
    ]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_choice_of_a_closed_list_is_read_whole_on_a_phone(app: Flask, language: str) -> None:
    """«Свидетельство о заключени», «лицо без гражданства, постоя», «обычная смена (раз в год, заявлен»: a
    phone's closed list cut the words where they said which one was chosen."""
    too_long = []
    with app.test_request_context(), force_locale(language):
        for name, choices, most in _lists():
            too_long += [(name, words) for words in map(gettext, choices) if len(words) > most[language]]
    assert too_long == []
