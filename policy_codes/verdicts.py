"""The verdicts (docs/domain.md), what was shown at the desk, and the words every surface shows for them.

Each verdict has a headline, a word or two a clerk takes in at a glance (the pages put it above
everything else), and a message: what it means and what to do next, which stands alone where there is no
headline (the JSON API, omscode). The pages, the JSON API and the offline verifiers all take their words
from here, so a receptionist and a clinic system read the same thing. Both are Russian catalog ids, read
in another language through policy_codes/words.py.
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

    def message(self, language: str = "ru", shown: Shown | None = None, cause: Cause | None = None) -> str:
        """The short message in `language` ("ru" or "en"; Russian otherwise), in the words that fit what
        was shown when they differ: a number carries no signature, a 2011 paper's is never checked; and in
        the words of the registry's `cause`, when it gives one (a data change)."""
        words = CAUSE_MESSAGES.get((self, cause)) or VARIANTS.get((self, shown)) or MESSAGES[self]
        return translate(words, language)

    def headline(self, language: str = "ru", shown: Shown | None = None, cause: Cause | None = None) -> str:
        """A word or two for the top of the verdict, in `language`, fitting what was shown and the cause as
        `message` does."""
        words = CAUSE_HEADLINES.get((self, cause)) or HEADLINE_VARIANTS.get((self, shown)) or HEADLINES[self]
        return translate(words, language)


class Cause(StrEnum):
    """Why the registry withdrew a code, where it tells the desk more than the verdict: only the registry
    knows it (an offline verifier's lists do not say), and the JSON API gives it as `reason`."""

    #: The holder's name or birth date changed: a new code carries the new data; the policy stays as it was.
    DATA_CHANGED = "data_changed"


class Shown(StrEnum):
    """What was shown at the desk, so the verdict can say it."""

    STATIC_CODE = "static_code"
    LIVE_CODE = "live_code"
    NUMBER = "number"
    LEGACY_PAPER = "legacy_paper"
    OTHER = "other"


MESSAGES: dict[Verdict, str] = {
    Verdict.VALID: N_("Полис действителен: подпись верна, в реестре он действующий."),
    Verdict.REVOKED: N_("Код отозван страховой компанией. Проверьте полис по номеру или по документу."),
    Verdict.SUPERSEDED: N_("Код заменён более новым. Попросите показать актуальный код или проверьте полис по номеру."),
    # A live code's own 90 s have their variant below: here the policy or the certificate itself has ended, and a
    # fresh code would read the same.
    Verdict.EXPIRED: N_("Срок действия полиса истёк. Пациенту нужно обратиться в свою страховую компанию."),
    Verdict.SUSPENDED: N_("Действие полиса приостановлено. Пациенту нужно обратиться в свою страховую компанию."),
    Verdict.TERMINATED: N_("Действие полиса прекращено. Пациенту нужно обратиться в свою страховую компанию."),
    Verdict.NOT_FOUND: N_(
        "Такого номера полиса нет в реестре. Сверьте номер с полисом или проверьте полис по документу."
    ),
    Verdict.FORGED: N_("Подпись не совпадает: код подделан или изменён. Проверьте полис по документу."),
    Verdict.UNKNOWN_KEY: N_("Код подписан неизвестным ключом. Проверьте полис по номеру или по документу."),
    Verdict.KEY_COMPROMISED: N_(
        "Ключ, которым подписан код, скомпрометирован. Проверьте полис по номеру; "
        "новый код страховая компания выпускает сама, он появится в приложении пациента."
    ),
    Verdict.MALFORMED: N_("Код повреждён и не читается. Отсканируйте ещё раз или введите номер."),
    Verdict.NOT_A_POLICY_CODE: N_("Это не код полиса ОМС. Отсканируйте QR-код полиса или введите 16 цифр номера."),
    Verdict.LEGACY_PAPER: N_(
        "Бумажный полис образца 2011 года: подпись на бланке не проверяется, статус полиса берётся из реестра."
    ),
}

#: An offline verifier's `valid`: the signature checked out and the registry's lists, as of when they were issued,
#: do not withdraw the code. No registry was asked, so the message does not claim one was.
OFFLINE_VALID = N_(
    "Код действителен по спискам реестра от %(date)s (МСК): подпись верна, списки его не отзывают. "
    "Реестр без сети не запрашивался."
)


def offline_message(verdict: Verdict, language: str, lists_date: str, shown: Shown | None = None) -> str:
    """The message an offline verifier gives, in `language`, going by lists issued at `lists_date` (Moscow time)."""
    if verdict is Verdict.VALID:
        return translate(OFFLINE_VALID, language, date=lists_date)
    return verdict.message(language, shown)


def offline_words(language: str, lists_date: str) -> dict[str, dict[str, str]]:
    """Every verdict's headline and message as an offline verifier says them, for a browser to pick from: by
    the verdict's name, and by "verdict/shown" where what was shown changes the words (VARIANTS)."""
    keys = dict.fromkeys([*((verdict, None) for verdict in Verdict), *VARIANTS, *HEADLINE_VARIANTS])
    return {
        f"{verdict}/{shown}" if shown else str(verdict): {
            "headline": verdict.headline(language, shown),
            "message": offline_message(verdict, language, lists_date, shown),
        }
        for verdict, shown in keys
    }


#: Where what was shown changes what a verdict may claim, or what the desk should do.
VARIANTS: dict[tuple[Verdict, Shown | None], str] = {
    (Verdict.VALID, Shown.NUMBER): N_(
        "Номер найден в реестре, полис действующий. Подписи у номера нет: сверьте документ."
    ),
    (Verdict.FORGED, Shown.LEGACY_PAPER): N_(
        "Имя или дата рождения на бланке не совпадают с реестром: бланк поддельный. Проверьте полис по документу."
    ),
    # A live code runs for 90 s and the holder's page swaps in a new one every 30 s: an old one is a
    # screenshot or a page left open offline, not a policy that ended.
    (Verdict.EXPIRED, Shown.LIVE_CODE): N_(
        "Код на экране устарел: он действует 90 секунд. Попросите пациента обновить страницу полиса "
        "на телефоне и показать код снова."
    ),
    # A 2011 paper's status in the registry, the line under its own message (`registry_message`): in the words of
    # a paper policy, not a typed number's («Номер найден…», «Подписи у номера нет») nor a code's («обновить код»).
    (Verdict.VALID, Shown.LEGACY_PAPER): N_("По реестру полис действующий."),
    (Verdict.EXPIRED, Shown.LEGACY_PAPER): N_(
        "По реестру срок действия полиса истёк. Пациенту нужно обратиться в свою страховую компанию."
    ),
    (Verdict.SUSPENDED, Shown.LEGACY_PAPER): N_(
        "По реестру действие полиса приостановлено. Пациенту нужно обратиться в свою страховую компанию."
    ),
    (Verdict.TERMINATED, Shown.LEGACY_PAPER): N_(
        "По реестру действие полиса прекращено. Пациенту нужно обратиться в свою страховую компанию."
    ),
    (Verdict.NOT_FOUND, Shown.LEGACY_PAPER): N_("Номера с бланка нет в реестре. Проверьте полис по документу."),
    # Sixteen digits whose check digit is wrong: typed wrong, not a damaged code.
    (Verdict.MALFORMED, Shown.NUMBER): N_(
        "В номере опечатка: контрольная цифра не сходится. Сверьте 16 цифр с полисом и введите номер снова."
    ),
}

#: A newborn's number, found, with no policy of their own yet: the desk is told that the representative's policy
#: covers them (templates/clinic/_verdict.html), so the message claims no policy (webapp/registry/verification.py).
NEWBORN_NUMBER_FOUND = N_("Номер найден в реестре. Подписи у номера нет: сверьте документ.")

#: A cause's words: a code superseded by a data change says so, and never that the policy is invalid.
CAUSE_MESSAGES: dict[tuple[Verdict, Cause | None], str] = {
    (Verdict.SUPERSEDED, Cause.DATA_CHANGED): N_(
        "Данные владельца изменились (фамилия, имя или дата рождения), и страховая компания выпустила код "
        "с новыми данными. Попросите показать новый код или введите номер полиса."
    ),
}
CAUSE_HEADLINES: dict[tuple[Verdict, Cause | None], str] = {
    (Verdict.SUPERSEDED, Cause.DATA_CHANGED): N_("Данные изменились"),
}

#: The headlines: one or two words each, as a clerk says them aloud ("действителен", "подделка").
HEADLINES: dict[Verdict, str] = {
    Verdict.VALID: N_("Действителен"),
    Verdict.REVOKED: N_("Отозван"),
    Verdict.SUPERSEDED: N_("Код заменён"),
    Verdict.EXPIRED: N_("Срок истёк"),
    Verdict.SUSPENDED: N_("Приостановлен"),
    Verdict.TERMINATED: N_("Прекращён"),
    Verdict.NOT_FOUND: N_("Не найден"),
    Verdict.FORGED: N_("Подделка"),
    Verdict.UNKNOWN_KEY: N_("Неизвестная подпись"),
    Verdict.KEY_COMPROMISED: N_("Подпись отозвана"),
    Verdict.MALFORMED: N_("Не читается"),
    Verdict.NOT_A_POLICY_CODE: N_("Не полис"),
    #: A 2011 paper's headline is its registry status (webapp/registry/verification.py `headline`); this one is
    #: for what was kept before the history kept that status, and an offline desk, which cannot ask.
    Verdict.LEGACY_PAPER: N_("Бумажный полис"),
}

#: Headlines that change with what was shown, as the messages of VARIANTS do.
HEADLINE_VARIANTS: dict[tuple[Verdict, Shown | None], str] = {
    (Verdict.EXPIRED, Shown.LIVE_CODE): N_("Код устарел"),
    (Verdict.MALFORMED, Shown.NUMBER): N_("Опечатка"),
}
