"""The verdicts of DESIGN.md, with the short messages every surface shows.

The pages, the JSON API and the offline verifier all take their words from
here, so a receptionist and a clinic system read the same thing.
"""

from __future__ import annotations

from enum import StrEnum


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

    def message(self, language: str = "ru") -> str:
        """The short message in `language` ("ru" or "en"; Russian otherwise)."""
        russian, english = MESSAGES[self]
        return english if language == "en" else russian


MESSAGES: dict[Verdict, tuple[str, str]] = {
    Verdict.VALID: (
        "Полис действителен: подпись верна, в реестре он действующий.",
        "The policy is valid: the signature is good and the registry holds it current.",
    ),
    Verdict.REVOKED: (
        "Код отозван страховой компанией. Проверьте полис по документу.",
        "The insurer withdrew this code. Check the policy by an ID document.",
    ),
    Verdict.SUPERSEDED: (
        "Код заменён более новым. Попросите показать актуальный код.",
        "A newer code replaces this one. Ask for the current code.",
    ),
    Verdict.EXPIRED: (
        "Срок действия истёк. Попросите обновить код или проверьте по документу.",
        "This has run out. Ask for a fresh code or check by an ID document.",
    ),
    Verdict.SUSPENDED: (
        "Действие полиса приостановлено.",
        "The policy is suspended.",
    ),
    Verdict.TERMINATED: (
        "Действие полиса прекращено.",
        "The policy is terminated.",
    ),
    Verdict.NOT_FOUND: (
        "Такого номера полиса нет в реестре.",
        "This policy number is not in the registry.",
    ),
    Verdict.FORGED: (
        "Подпись не совпадает: код подделан или изменён.",
        "The signature does not match: the code is forged or edited.",
    ),
    Verdict.UNKNOWN_KEY: (
        "Код подписан неизвестным ключом.",
        "The code is signed by a key that is not in the trust list.",
    ),
    Verdict.KEY_COMPROMISED: (
        "Ключ подписи скомпрометирован. Полис нужно перевыпустить.",
        "The signing key was compromised. The code must be reissued.",
    ),
    Verdict.MALFORMED: (
        "Код повреждён и не читается. Отсканируйте ещё раз или введите номер.",
        "The code is damaged. Scan again or type the number.",
    ),
    Verdict.NOT_A_POLICY_CODE: (
        "Это не код полиса ОМС.",
        "This is not an OMS policy code.",
    ),
    Verdict.LEGACY_PAPER: (
        "Бумажный полис старого образца: подпись на бланке не проверялась, статус взят из реестра.",
        "A legacy paper policy: its signature was not checked; the status comes from the registry.",
    ),
}
