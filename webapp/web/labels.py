"""Words for the registry's stored values, for refused requests, and its clock, the same on every page,
in the API's JSON and on paper.

Every value a person reads goes through these tables: templates use the filters `init_app` registers
(`{{ policy.status | policy_status }}`, `{{ entry.at | moscow_time }}`), never a dictionary of their own.
Lazy strings: each reads in the language of the page that shows it (the PDF extract forces Russian).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _

from policy_codes import Enp, Verdict
from policy_codes.codec import MOSCOW
from policy_codes.verdicts import Cause, Shown
from webapp.registry import clock, data_changes, reasons, rules
from webapp.registry.bulk_import import RowError
from webapp.web.i18n import translated

POLICY_KINDS = {"policy": _("Полис ОМС единого образца"), "temporary_certificate": _("Временное свидетельство")}
POLICY_STATUSES = {
    "active": _("действует"),
    "suspended": _("приостановлен"),
    "terminated": _("прекращён"),
    "closed": _("закрыт"),
    rules.EXPIRED: _("срок истёк"),
}
CATEGORIES = {
    "citizen": _("гражданин РФ"),
    # Residence by its document, as staff say it (вид на жительство: permanent; разрешение на временное
    # проживание: temporary): short enough for a phone's closed list.
    "foreign_permanent": _("иностранец с ВНЖ"),
    "foreign_temporary": _("иностранец с РВП"),
    "stateless_permanent": _("без гражданства, с ВНЖ"),
    "stateless_temporary": _("без гражданства, с РВП"),
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

KEY_STATUSES = {
    "active": _("действует"),
    "retired": _("выведен: только проверяет"),
    "compromised": _("скомпрометирован"),
}
ROLES = {
    "citizen": _("Гражданин"),
    "clinic": _("Регистратура"),
    "insurer": _("Сотрудник СМО"),
    "admin": _("Оператор реестра"),
}
#: What each audit entry records, as the person reading a journal says it (tests/webapp/test_labels.py finds
#: every action the registry writes and fails until it is here).
AUDIT_ACTIONS = {
    "register": _("зарегистрирован, выпущен код"),
    "register_newborn": _("зарегистрирован новорождённый"),
    "link_representative": _("указан представитель"),
    "end_representation": _("представительство прекращено"),
    "restore_representation": _("представительство восстановлено"),
    "issue_policy": _("выдан полис вместо временного свидетельства"),
    "issue_newborn_policy": _("выдан полис новорождённому"),
    "renew": _("выдан полис на новый срок"),
    "reissue": _("код перевыпущен"),
    "revoke": _("код отозван"),
    "correct": _("исправлены данные"),
    "suspend": _("полис приостановлен"),
    "resume": _("полис возобновлён"),
    "terminate": _("полис прекращён"),
    "change_insurer": _("смена СМО"),
    "transfer_refused": _("отказ в приёме из другой СМО: ЕНП и дата рождения не совпали"),
    "transfer_limit_reached": _("достигнут лимит неудачных попыток приёма из другой СМО"),
    "request_reissue": _("заявка на новый код"),
    "close_reissue_request": _("заявка на новый код закрыта"),
    "request_data_change": _("заявление об изменении данных"),
    "decline_data_change": _("заявление об изменении данных отклонено"),
    "issue_activation_code": _("выдан код активации"),
    "issue_recovery_code": _("выдан код для нового пароля"),
    "activate": _("открыта учётная запись"),
    "recover_password": _("задан новый пароль по коду из СМО"),
    "code_guess_limit_reached": _("достигнут дневной лимит попыток ввести код"),
    "import": _("загрузка реестра из файла"),
    "create_region": _("добавлен регион"),
    "create_insurer": _("создана СМО"),
    "create_clinic": _("создана клиника"),
    "set_look_up_ceiling": _("изменён дневной лимит проверок по номеру"),
    "look_up_limit_reached": _("достигнут лимит проверок по номеру"),
    "create_user": _("создан пользователь"),
    "enable_user": _("вход разрешён"),
    "disable_user": _("вход отключён"),
    "change_password": _("сменён пароль"),
    "reset_password": _("оператор выдал новый пароль"),
    "password_guess_limit_reached": _("достигнут лимит неверных паролей"),
    "create_token": _("выпущен API-токен"),
    "revoke_token": _("API-токен отозван"),
    "rotate_key": _("новый ключ подписи СМО"),
    "compromise_key": _("ключ помечен скомпрометированным"),
    "mass_reissue": _("перевыпуск кодов после компрометации ключа"),
    "reencrypt_keys": _("ключи подписи перешифрованы"),
    "add_holiday": _("добавлен праздничный день"),
    "seed_holidays": _("загружен календарь праздников"),
}
#: Who acted, by the actor's prefix (`smo:` and a login, as web/views and cli/group.py write it).
ACTOR_KINDS = {
    "smo": _("сотрудник СМО %(login)s"),
    "admin": _("оператор реестра %(login)s"),
    "citizen": _("застрахованный, вход %(login)s"),
    "clinic": _("регистратура, вход %(login)s"),
    "cli": _("оператор реестра, командная строка (%(login)s)"),
}
#: Actors that are no login (webapp/ops/demo.py).
ACTORS = {"demo": _("демонстрационные данные")}
#: Moscow time's label after every time shown: the registry's clock, whatever the reader's own.
MSK = _("МСК")


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
    405: ErrorWords(
        _("Так страница не открывается"),
        _("Этот адрес открывается только отправкой формы. Вернитесь на предыдущую страницу."),
        _("Метод не поддерживается"),
    ),
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
    "clinic_look_ups_off": _(
        "Проверка по номеру для этой клиники выключена оператором реестра, включить её может только он. "
        "QR-коды полисов проверяются как обычно"
    ),
}


def error_words(status: int) -> ErrorWords:
    return ERRORS.get(status, ERRORS[500])


def _in_moscow(moment: datetime) -> datetime:
    """A stored instant in Moscow time; a naive one is UTC, as the database keeps it."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(MOSCOW)


def moscow_time(moment: datetime | None, seconds: bool = False) -> str:
    """An instant as every page shows it: Moscow time, the registry's clock, labelled «МСК»."""
    if moment is None:
        return ""
    return f"{_in_moscow(moment).strftime('%d.%m.%Y %H:%M:%S' if seconds else '%d.%m.%Y %H:%M')} {MSK}"


def moscow_day(moment: datetime | None) -> str:
    """The Moscow day of an instant (a key's first and last), where the hour does not matter."""
    return "" if moment is None else _in_moscow(moment).strftime("%d.%m.%Y")


def actor_words(actor: str) -> str:
    """Who made an audit entry, as a person says it: «сотрудник СМО smo-77001» for `smo:smo-77001`."""
    kind, _colon, login = actor.partition(":")
    if login and kind in ACTOR_KINDS:
        return str(ACTOR_KINDS[kind]) % {"login": login}
    return str(ACTORS.get(actor, actor))


def reason_words(reason: str) -> str:
    """A recorded reason in the reader's language when it was chosen from a list or is the registry's own
    (webapp/registry/reasons.py), a value in it kept («смена СМО на 77002»); words someone typed, as typed."""
    if reason in reasons.LISTED:
        return gettext(reason)
    if reason in reasons.CHANGE_EXCEPTIONS:  # a transfer's entry records why it was allowed as a value
        return gettext(reasons.CHANGE_EXCEPTIONS[reason])
    found = reasons.with_value(reason)
    if found is None:
        return reason
    words, values = found
    return gettext(words, **{name: reason_words(value) for name, value in values.items()})


def _said_in_words(table: Mapping[str, str]) -> Callable[[str], str]:
    """A filter over one of the registry's own tables, whose words are Russian catalog ids (`N_`): a stored
    value's words in the reader's language."""
    return lambda value: gettext(table[value]) if value in table else value


def change_value(value: str, field: str) -> str:
    """A value on a data change's old → new (webapp/registry/data_changes.py FieldChange): a name as people write
    it, the sex's word in the reader's language, a date as it is."""
    if field == "sex":
        return gettext(value)
    if field in ("surname", "given_name", "patronymic"):
        return value.title()
    return value


def _words_of(table: Mapping[str, object]) -> Callable[[str], str]:
    """A filter over one table: a stored value's words (tests/webapp/test_labels.py keeps every value there)."""
    return lambda value: str(table.get(value, value))


def verdict_label(verdict: str, shown: str | None, language: str, cause: str = "") -> str:
    """A stored verdict (a clinic's history) in words: the headline the desk read, in `language`, for what was
    shown and the registry's cause ("" for none). The verdicts' words are the verifiers' own, in
    policy_codes/verdicts.py, so the history and the verdict say the same."""
    headline = Verdict(verdict).headline(language, Shown(shown) if shown else None, Cause(cause) if cause else None)
    if shown == Shown.LEGACY_PAPER and verdict not in (Verdict.LEGACY_PAPER, Verdict.MALFORMED, Verdict.FORGED):
        return gettext("%(verdict)s (бланк 2011\u00a0года)", verdict=headline)  # «2011 года» kept on one line
    return headline


def refused_line(error: RowError) -> str:
    """Why an import refused a line, in the page's language. A job's report kept before reasons were catalog
    messages holds them filled in, in Russian: they show as they are."""
    reason = translated(error.reason, error.params)
    return gettext("представитель: %(reason)s", reason=reason) if error.about else reason


def policy_state(policy: Any) -> str:
    """A policy's status as a person reads it today (Moscow's day): an active policy past its last day has
    `expired`, as the desk reads its code, not «действует» (webapp/registry/rules.py `status_on`)."""
    return rules.status_on(policy.status, policy.valid_to, clock.today_in_moscow(datetime.now(UTC)))


def grouped_enp(enp: str) -> str:
    """A ЕНП as people read it aloud and copy it: four groups of four digits ("7700 0000 0000 0016")."""
    return Enp(enp).grouped()


def init_app(app: Flask) -> None:
    # The tables themselves: a form's choices (categories), and pages not yet on the filters (the citizen's);
    # a clinic history's verdicts, which need the language and what was shown.
    app.jinja_env.globals.update(
        policy_kinds=POLICY_KINDS,
        policy_statuses=POLICY_STATUSES,
        categories=CATEGORIES,
        change_exceptions=reasons.CHANGE_EXCEPTIONS,
        verdict_label=verdict_label,
    )
    app.jinja_env.filters.update(
        policy_kind=_words_of(POLICY_KINDS),
        policy_status=_words_of(POLICY_STATUSES),
        code_status=_words_of(CODE_STATUSES),
        category=_words_of(CATEGORIES),
        key_status=_words_of(KEY_STATUSES),
        role=_words_of(ROLES),
        audit_action=_words_of(AUDIT_ACTIONS),
        actor=actor_words,
        change_reason=_said_in_words(data_changes.REASON_LABELS),
        document_kind=_said_in_words(data_changes.DOCUMENT_KINDS),
        end_grounds=_said_in_words(reasons.ENDED_REPRESENTATION),
        change_value=change_value,
        reason=reason_words,
        moscow_time=moscow_time,
        moscow_day=moscow_day,
        grouped_enp=grouped_enp,
        policy_state=policy_state,
        refused_line=refused_line,
    )
