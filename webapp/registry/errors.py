"""The registry's own exceptions: what its services raise when the rules refuse a change.

Messages are Russian, the registry's language, written as catalog message ids: `RegistryError(N_("…
%(count)d …"), count=5)`. The CLI prints them as they are; the web floor shows them through the Babel
catalog in the page's language (webapp/web/i18n.py `said`). The registry itself never asks which
language a request wants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from policy_codes import InvalidValue
from policy_codes.errors import seen_as

T = TypeVar("T")


def N_(message: str) -> str:  # noqa: N802 -- gettext's marker for "extract, translate later"
    """Mark a Russian message for the catalog (babel.cfg extracts `N_`); it is translated where it is shown."""
    return message


#: The most of a typed value a refusal quotes back: a line of a file may hold thousands of characters in a field.
QUOTED_MAX = 40


def quoted(value: str) -> str:
    """A value as typed, for a refusal to quote: cut short past QUOTED_MAX characters, and a character nobody sees
    (a control character, a bidi override, a zero-width space) by its code (`seen_as`, as a name's unknown letters
    are). A file's field reaches the operator's terminal through the command, where an escape
    sequence would run, and the page, where an override would turn the reason around."""
    return seen_as(value if len(value) <= QUOTED_MAX else value[:QUOTED_MAX] + "…")


class RegistryError(Exception):
    """A request the rules refuse, or input that cannot be used."""

    def __init__(self, message: str = "", *, field: str = "", **params: object) -> None:
        super().__init__(message % params if params else message)
        #: The catalog's message id, and what fills its placeholders.
        self.message = message
        self.params = params
        #: The input it is about, named as the forms and the CSV name it (`enp`, `password`), if one.
        self.field = field

    @classmethod
    def of_value(cls, error: InvalidValue, field: str) -> RegistryError:
        """The code format's refusal of a value (an ЕНП, a name), as the registry's about `field`: its own message,
        from the verifiers' catalog (webapp/web/i18n.py `translated`)."""
        return cls(error.message, field=field, **error.params)


class InvalidFields(RegistryError):
    """Every field a person's form or CSV line got wrong, each a `RegistryError` naming its field. It reads as the
    first (a CSV line gives one reason); a form shows each beside its field (webapp/web/form_errors.py)."""

    def __init__(self, errors: Sequence[RegistryError]) -> None:
        first = errors[0]
        super().__init__(first.message, field=first.field, **first.params)
        self.errors = tuple(errors)


def checked(errors: list[RegistryError], field: str, read: Callable[[], T]) -> T | None:
    """What `read` makes of a field, or None with its refusal added to `errors`: a form's fields checked one by
    one, every refusal kept for an `InvalidFields`."""
    try:
        return read()
    except InvalidValue as error:
        errors.append(RegistryError.of_value(error, field))
    except RegistryError as error:
        errors.append(error)
    return None


class NotFound(RegistryError):
    """No such person, insurer, clinic, key or user (or not one the caller may see)."""


class QueueUnavailable(RegistryError):
    """The job queue (Redis) did not answer: a job could not be handed to it. Nothing else was refused."""
