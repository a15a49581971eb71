"""The exception family for reading policy codes.

Every failure to read or trust a scanned text is one of these, and each maps
to exactly one verdict of docs/domain.md. Callers catch `CodeError` and read
`.verdict`; nothing else escapes `decode`.
"""

from __future__ import annotations

from policy_codes.verdicts import Shown, Verdict


class CodeError(Exception):
    """Base class: the text could not be turned into trusted claims."""

    verdict: Verdict = Verdict.MALFORMED


class InvalidValue(CodeError, ValueError):
    """A value (ЕНП, СНИЛС, name, date) breaks its own rules. Its message is Russian, a catalog id of the
    `policy_codes` domain (`words.N_`), filled from `params`: a page shows it in its own language."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotAPolicyCode(CodeError):
    """Some other QR, URL or text: it does not carry our prefix."""

    verdict = Verdict.NOT_A_POLICY_CODE


class MalformedCode(CodeError):
    """It carries our prefix but does not parse as a signed code."""

    verdict = Verdict.MALFORMED


class ForgedCode(CodeError):
    """The signature does not match the content under the named key."""

    verdict = Verdict.FORGED


class UnknownKey(CodeError):
    """The key id is not in the trust list."""

    verdict = Verdict.UNKNOWN_KEY

    def __init__(self, message: str, kid: bytes = b"") -> None:
        super().__init__(message)
        self.kid = kid


class KeyCompromised(CodeError):
    """The signature is good, but its key was marked compromised."""

    verdict = Verdict.KEY_COMPROMISED


class CodeExpired(CodeError):
    """The signature is good, but the code or the policy is out of its time."""

    verdict = Verdict.EXPIRED

    def __init__(self, reason: str, live: bool = False) -> None:
        super().__init__(reason)
        #: One of "live_code", "policy", "not_yet_valid", "key".
        self.reason = reason
        #: Whether the code is a live one (its claims were read): the desk is told to ask for a fresh one.
        self.live = live


def seen_as(text: str) -> str:
    """`text` as a refusal quotes it: as typed, but each character nobody sees (a control character, a zero-width
    space, a bidi override) by its code, where on a terminal or a page it would act instead of showing."""
    return "".join(char if char.isprintable() else f"U+{ord(char):04X}" for char in text)


def shown_by(error: CodeError) -> Shown:
    """What was shown, as far as a code that failed tells: other text, a live code that ran out, or a code."""
    if error.verdict is Verdict.NOT_A_POLICY_CODE:
        return Shown.OTHER
    return Shown.LIVE_CODE if isinstance(error, CodeExpired) and error.live else Shown.STATIC_CODE
