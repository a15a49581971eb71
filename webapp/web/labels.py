"""Words for the registry's stored values, for refused requests, and its clock, the same on every page,
in the API's JSON and on paper.

Lazy strings: each reads in the language of the page that shows it (the PDF
extract forces Russian).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from flask_babel import lazy_gettext as _

from policy_codes import Enp, Verdict
from policy_codes.codec import MOSCOW
from policy_codes.verdicts import Shown

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
CODE_STATUSES = {
    "current": _("действующий"),
    "superseded": _("заменён новым"),
    "revoked": _("отозван"),
    "suspended": _("полис приостановлен"),
    "terminated": _("полис прекращён"),
}


@dataclass(frozen=True)
class ErrorWords:
    """What a refused or failed request says: a page's heading and text, and the API's JSON message."""

    title: str
    page: str
    api: str


#: One table for every error page and every API error, by HTTP status.
ERRORS = {
    400: ErrorWords(
        _("Запрос не принят"),
        _("Проверьте введённые данные и попробуйте ещё раз."),
        _('Некорректный запрос: ожидается JSON вида {"code": "..."}'),
    ),
    401: ErrorWords(
        _("Нужно войти"),
        _("Войдите, чтобы продолжить."),
        _("Нужен действующий токен клиники (Authorization: Bearer ...)"),
    ),
    403: ErrorWords(_("Нет доступа"), _("Эта страница не для вашей роли."), _("Нет доступа")),
    404: ErrorWords(_("Не найдено"), _("Такой страницы нет."), _("Нет такого адреса")),
    405: ErrorWords(_("Не так"), _("Этот адрес так не вызывают."), _("Метод не поддерживается")),
    413: ErrorWords(_("Слишком большой запрос"), _("Данные не поместились."), _("Слишком большой запрос")),
    429: ErrorWords(
        _("Слишком много попыток"),
        _("Подождите минуту и попробуйте снова."),
        _("Слишком много запросов: повторите позже"),
    ),
    500: ErrorWords(_("Ошибка"), _("Что-то пошло не так. Попробуйте ещё раз."), _("Внутренняя ошибка")),
    503: ErrorWords(
        _("Сервис временно недоступен"),
        _("База данных не отвечает. Ничего не сохранено наполовину: обновите страницу через минуту и проверьте."),
        _("Сервис временно недоступен"),
    ),
}

#: A NUL byte in a request (webapp/web/security.py): bad input, not the database's failure.
NUL_REFUSED = ErrorWords(
    _("Запрос не принят"),
    _("В запросе есть нулевой символ (NUL), какого не бывает в данных реестра: уберите его и отправьте."),
    _("Некорректный запрос: нулевой символ (NUL)"),
)

#: A clinic system's number look-up refused by a limit (webapp/registry/clinic_checks.py), in the API's words, by
#: the limit's name: the words of the reception page's refusal, and that signed codes still go through.
LOOK_UP_REFUSALS = {
    "token_number_look_ups": _(
        "С этого токена слишком много проверок по номеру подряд: повторите через %(seconds)s с. "
        "QR-коды полисов проверяются как обычно"
    ),
    "clinic_number_look_ups": _(
        "Из клиники слишком много проверок по номеру подряд: повторите через %(seconds)s с. "
        "QR-коды полисов проверяются как обычно"
    ),
    "clinic_daily_ceiling": _(
        "Клиника исчерпала дневной лимит проверок по номеру (%(ceiling)s): он обновится в полночь по Москве, "
        "поднять его может оператор реестра. QR-коды полисов проверяются как обычно"
    ),
}


def error_words(status: int) -> ErrorWords:
    return ERRORS.get(status, ERRORS[500])


def moscow_time(moment: datetime | None, pattern: str = "%d.%m.%Y %H:%M") -> str:
    """A stored instant in Moscow time, the registry's clock; a naive one is UTC, as the database keeps it."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(MOSCOW).strftime(pattern)


def verdict_label(verdict: str, shown: str | None, language: str) -> str:
    """A stored verdict (a clinic's history) in words: the headline the desk read, in `language`. The verdicts'
    words are the verifiers' own, in policy_codes/verdicts.py, so the history and the verdict say the same."""
    return Verdict(verdict).headline(language, Shown(shown) if shown else None)


def grouped_enp(enp: str) -> str:
    """A ЕНП as people read it aloud and copy it: four groups of four digits ("7700 0000 0000 0016")."""
    return Enp(enp).grouped()


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        policy_kinds=POLICY_KINDS,
        policy_statuses=POLICY_STATUSES,
        code_statuses=CODE_STATUSES,
        categories=CATEGORIES,
        moscow_time=moscow_time,
        verdict_label=verdict_label,
    )
    app.jinja_env.filters["grouped_enp"] = grouped_enp
