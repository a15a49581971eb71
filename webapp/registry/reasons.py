"""The reasons a change is recorded with: one chosen from a list, or, for «другое», the person's own words.

A chosen reason is recorded as its Russian words (catalog ids, the registry's language); pages show them
in the reader's language (webapp/web/labels.py `reason_words`), the words someone typed as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from webapp.registry.errors import N_, RegistryError
from webapp.registry.rules import Operation

REASON_MAX = 500
OTHER = "other"
_OTHER_WORDS = N_("Другое")

#: Why a citizen asks their insurer for a new code.
CITIZEN_REISSUE = {
    "lost_phone": N_("Телефон потерян или украден"),
    "photographed": N_("Код сфотографировали"),
    OTHER: _OTHER_WORDS,
}

#: Why staff act on a person's policy or code, for each action they take from the person's page.
STAFF = {
    Operation.REISSUE: {
        "lost_phone": N_("Телефон потерян или украден"),
        "photographed": N_("Код сфотографировали"),
        "asked": N_("Просьба застрахованного"),
        OTHER: _OTHER_WORDS,
    },
    Operation.REVOKE: {
        "issued_in_error": N_("Код выдан по ошибке"),
        "misused": N_("Кодом пользуется посторонний"),
        OTHER: _OTHER_WORDS,
    },
    Operation.SUSPEND: {
        "conscripted": N_("Призыв на военную службу"),
        "contract_service": N_("Военная служба по контракту"),
        OTHER: _OTHER_WORDS,
    },
    Operation.RESUME: {
        "service_ended": N_("Военная служба окончена"),
        OTHER: _OTHER_WORDS,
    },
    Operation.TERMINATE: {
        "death": N_("Смерть застрахованного"),
        "right_ended": N_("Право на ОМС закончилось"),
        OTHER: _OTHER_WORDS,
    },
}

#: Why a person's own data changed (webapp/registry/data_changes.py `ChangeReason`), by the reason's value.
DATA_CHANGE = {
    "marriage": N_("Вступление в брак"),
    "divorce": N_("Расторжение брака"),
    "court": N_("Решение суда"),
    "registry_error": N_("Ошибка в реестре"),
    "birth_certificate": N_("Регистрация рождения"),
    OTHER: _OTHER_WORDS,
    "registry_import": N_("Импорт реестра"),
}

#: Why staff end a representation before its last day (webapp/registry/representations.py): a closed list.
END_REPRESENTATION = {
    "court": N_("Решение суда"),
    "of_age": N_("Совершеннолетие"),
    "registry_error": N_("Ошибка в реестре"),
}
#: The representative's own word, from their phone (webapp/web/views/citizen.py): they are not this person's parent
#: or guardian. Grounds nobody else may give, so not among staff's choices above.
DECLINED = "declined"
DECLINED_BY_REPRESENTATIVE = {DECLINED: N_("Представитель отказался от представительства")}
#: Every grounds a link may have been ended on (`Representation.ended_grounds`), with its words.
ENDED_REPRESENTATION = {**END_REPRESENTATION, **DECLINED_BY_REPRESENTATIVE}
#: Why staff restore a link ended on grounds (webapp/registry/representations.py `restore`): it undoes a court's
#: or the representative's word as recorded, so the journal says why.
ENDED_IN_ERROR = "ended_in_error"
DECLINED_IN_ERROR = "declined_in_error"
RESTORE_REPRESENTATION = {
    ENDED_IN_ERROR: N_("Прекращено по ошибке"),
    DECLINED_IN_ERROR: N_("Представитель отказался по ошибке"),
    OTHER: _OTHER_WORDS,
}

#: The words reasons were recorded with before they were shortened to fit a phone's closed list (a choice is
#: recorded as its words): still read in the reader's language where old records show them.
FORMER = (
    N_("Изменились данные"),  # a citizen's reason for a new code, until changed data got a request of its own
    N_("Код сфотографировал посторонний"),
    N_("Изменились данные (ФИО, дата рождения, пол)"),
    N_("Застрахованный попросил новый код"),
    N_("Выдано свидетельство о рождении"),
)

#: Why a person changes insurer more often than once a year (webapp/registry/rules.py CHANGE_EXCEPTIONS), by the
#: value the transfer's audit entry records (none for the ordinary yearly change).
CHANGE_EXCEPTIONS = {
    "moved_region": N_("переезд в другой регион"),
    "insurer_left": N_("прежняя СМО ушла из ОМС"),
}

#: The reasons the registry records in its own words, when nobody chose one: a code reissued with no reason
#: given (the command line), a certificate's policy issued, a transfer, an import, a compromised key.
REISSUED = N_("перевыпуск")
POLICY_ISSUED = N_("выдан полис")
INSURER_CHANGED = N_("смена СМО")
IMPORTED = N_("импорт реестра")
KEY_COMPROMISED = N_("ключ скомпрометирован")
#: The same with a value in them, recorded filled in: the value (an insurer's code, a key's id, a citizen's
#: reason) is kept as it is when the words are read in another language.
CHANGED_TO_INSURER = N_("смена СМО на %(insurer)s")
KEY_COMPROMISED_KID = N_("ключ %(kid)s скомпрометирован")
ASKED_FOR = N_("заявка: %(reason)s")

#: Every reason recorded as words from a list, or as the registry's own: what pages translate rather than show
#: as typed.
LISTED = frozenset(
    [
        *(
            words
            for choices in (CITIZEN_REISSUE, DATA_CHANGE, ENDED_REPRESENTATION, RESTORE_REPRESENTATION, *STAFF.values())
            for key, words in choices.items()
            if key != OTHER
        ),
        *FORMER,
        REISSUED,
        POLICY_ISSUED,
        INSURER_CHANGED,
        IMPORTED,
        KEY_COMPROMISED,
    ]
)
_WITH_VALUE = (CHANGED_TO_INSURER, KEY_COMPROMISED_KID, ASKED_FOR)


def _pattern(words: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", words)  # literal, name, literal, …
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+)" for index, part in enumerate(parts)),
        re.DOTALL,
    )


_PATTERNS = tuple((words, _pattern(words)) for words in _WITH_VALUE)


def with_value(recorded: str) -> tuple[str, dict[str, str]] | None:
    """A recorded reason made of the registry's words with a value in them («смена СМО на 77002»): the words'
    catalog id and the value, for a page to say in its language; None for any other."""
    for words, pattern in _PATTERNS:
        found = pattern.fullmatch(recorded)
        if found:
            return words, found.groupdict()
    return None


#: Words typed for a reason chosen from the list: the journal keeps the list's words only.
DETAILS_ONLY_FOR_OTHER = N_(
    "Свои слова записываются только с причиной «Другое»: выберите её, чтобы их сохранить, или очистите поле"
)


def recorded(choices: Mapping[str, str], kind: str, details: str = "") -> str:
    """The reason as the registry records it: the chosen reason's Russian words, or the words typed for
    «другое», spaces squeezed. Words typed beside a listed reason are refused, not dropped unread."""
    if kind not in choices:
        raise RegistryError(N_("Выберите причину из списка"), field="reason")
    words = " ".join(details.split())
    if kind != OTHER:
        if words:
            raise RegistryError(DETAILS_ONLY_FOR_OTHER, field="details")
        return choices[kind]
    if not words:
        raise RegistryError(N_("Опишите причину своими словами"), field="details")
    if len(words) > REASON_MAX:
        raise RegistryError(N_("Причина длиннее %(count)d знаков"), field="details", count=REASON_MAX)
    require_visible(words, "details")  # read in the journal by others: nothing that makes it read as other words
    return words


#: The field a refusal's reason is typed in, on every page that declines a citizen's request.
DECLINE_REASON = "decline_reason"


def decline_words(typed: str) -> str:
    """Why staff decline a citizen's request, as the citizen will read it on their page: typed words, spaces
    squeezed, visible characters only (nothing invisible, no bidi override to make them read as others)."""
    words = " ".join(typed.split())
    if not words or len(words) > REASON_MAX:
        raise RegistryError(N_("Напишите причину отказа: до %(count)d знаков"), field=DECLINE_REASON, count=REASON_MAX)
    require_visible(words, DECLINE_REASON)
    return words


def require_visible(words: str, field: str) -> None:
    """Typed words as staff or a citizen will read them: no control character, nothing invisible (a zero-width
    space, a soft hyphen) and no bidi override, which would show a document's number as another."""
    if not words.isprintable():
        raise RegistryError(N_("Только видимые знаки: управляющие и невидимые символы не допускаются"), field=field)
