"""The verdicts (docs/domain.md), what was shown at the desk, and the short messages every surface shows.

The pages, the JSON API and the offline verifiers all take their words from
here, so a receptionist and a clinic system read the same thing. Messages are
Russian catalog ids, read in another language through policy_codes/words.py.
"""

from __future__ import annotations

from enum import StrEnum

from policy_codes.words import N_, translate


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    NOT_FOUND = "not_found"
    FORGED = "forged"
    UNKNOWN_KEY = "unknown_key"
    KEY_COMPROMISED = "key_compromised"
    MALFORMED = "malformed"
    NOT_A_POLICY_CODE = "not_a_policy_code"
    LEGACY_PAPER = "legacy_paper"

    def message(self, language: str = "ru", shown: Shown | None = None) -> str:
        """The short message in `language` ("ru" or "en"; Russian otherwise), in the words that fit what
        was shown when they differ: a number carries no signature, a 2011 paper's is never checked."""
        return translate(VARIANTS.get((self, shown)) or MESSAGES[self], language)


class Shown(StrEnum):
    """What was shown at the desk, so the verdict can say it."""

    STATIC_CODE = "static_code"
    LIVE_CODE = "live_code"
    NUMBER = "number"
    LEGACY_PAPER = "legacy_paper"
    OTHER = "other"


MESSAGES: dict[Verdict, str] = {
    Verdict.VALID: N_("Полис действителен: подпись верна, в реестре он действующий."),
    Verdict.REVOKED: N_("Код отозван страховой компанией. Проверьте полис по документу."),
    Verdict.SUPERSEDED: N_("Код заменён более новым. Попросите показать актуальный код."),
    Verdict.EXPIRED: N_("Срок действия истёк. Попросите обновить код или проверьте по документу."),
    Verdict.SUSPENDED: N_("Действие полиса приостановлено."),
    Verdict.TERMINATED: N_("Действие полиса прекращено."),
    Verdict.NOT_FOUND: N_("Такого номера полиса нет в реестре."),
    Verdict.FORGED: N_("Подпись не совпадает: код подделан или изменён."),
    Verdict.UNKNOWN_KEY: N_("Код подписан неизвестным ключом."),
    Verdict.KEY_COMPROMISED: N_("Ключ подписи скомпрометирован. Полис нужно перевыпустить."),
    Verdict.MALFORMED: N_("Код повреждён и не читается. Отсканируйте ещё раз или введите номер."),
    Verdict.NOT_A_POLICY_CODE: N_("Это не код полиса ОМС."),
    Verdict.LEGACY_PAPER: N_(
        "Бумажный полис старого образца: подпись на бланке не проверялась, статус взят из реестра."
    ),
}

#: An offline verifier's `valid`: the signature checked out and the registry's lists, as of when they were issued,
#: do not withdraw the code. No registry was asked, so the message does not claim one was.
OFFLINE_VALID = N_(
    "Код действителен по спискам реестра от %(date)s (МСК): подпись верна, списки его не отзывают. "
    "Реестр без сети не запрашивался."
)


def offline_message(verdict: Verdict, language: str, lists_date: str) -> str:
    """The message an offline verifier gives, in `language`, going by lists issued at `lists_date` (Moscow time)."""
    if verdict is Verdict.VALID:
        return translate(OFFLINE_VALID, language, date=lists_date)
    return verdict.message(language)


#: Where what was shown changes what a verdict may claim.
VARIANTS: dict[tuple[Verdict, Shown | None], str] = {
    (Verdict.VALID, Shown.NUMBER): N_(
        "Номер найден в реестре, полис действующий. Подписи у номера нет: сверьте документ."
    ),
    (Verdict.FORGED, Shown.LEGACY_PAPER): N_(
        "Имя или дата рождения на бланке не совпадают с реестром: бланк поддельный. Проверьте полис по документу."
    ),
}
