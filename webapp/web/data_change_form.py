"""The form a person's data is changed with (issue 20), as staff and citizens fill it: the new data, the reason
chosen from a list and the document that justifies it. Its checks are the registry's
(webapp/registry/data_changes.py); this module reads the posted fields, keeps them for the next page (the
confirmation carries them in hidden fields) and puts each refusal beside its field (web/form_errors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from flask import render_template, request

from webapp.models import DataChangeRequest, Person
from webapp.registry import lifecycle, people
from webapp.registry.data_changes import DOCUMENT_KINDS, ChangeReason, Document, NewData, form_reasons, parse_reason
from webapp.registry.errors import RegistryError
from webapp.web.form_errors import in_form_order, refused

DATA_FIELDS = ("surname", "given_name", "patronymic", "birth_date", "sex")
REASON_FIELDS = ("reason", "reason_text")
DOCUMENT_FIELDS = ("document_kind", "document_series", "document_number", "document_issued_on", "document_issuer")
FIELDS = (*DATA_FIELDS, *REASON_FIELDS, *DOCUMENT_FIELDS)
T = TypeVar("T")


@dataclass(frozen=True)
class Grounds:
    """Why the data changes: the reason (and the words for «другое») and the document."""

    reason: ChangeReason
    reason_text: str
    document: Document | None


@dataclass(frozen=True)
class Change(Grounds):
    """A form that passed every check: what the registry's change takes."""

    new: NewData


class Refused(Exception):
    """The form's errors, field name → message, in the form's order."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def prefilled(person: Person) -> dict[str, str]:
    """The form as it first opens: the person's data as it is now, nothing chosen yet."""
    data = NewData.of(person)
    return dict.fromkeys(FIELDS, "") | {
        "surname": data.surname.title(),
        "given_name": data.given_name.title(),
        "patronymic": data.patronymic.title(),
        "birth_date": data.birth_date.isoformat(),
        "sex": data.sex,
    }


def posted() -> dict[str, str]:
    """The form as it was sent, every field present."""
    return {name: request.form.get(name, "").strip() for name in FIELDS}


def checked(values: Mapping[str, str]) -> Change:
    """The change the form asks for; `Refused` with every part's error (the data, the reason, the document)."""
    errors: dict[str, str] = {}
    new = _part(NewData.from_form, values, DATA_FIELDS, errors)
    reason = _part(parse_reason, values, REASON_FIELDS, errors)
    document = _part(Document.from_form, values, DOCUMENT_FIELDS, errors)
    if new is None or reason is None or document is None:
        raise Refused(in_form_order(errors, FIELDS))
    return Change(reason[0], reason[1], document, new)


def refusal(error: Refused | RegistryError) -> dict[str, str]:
    """A refused form's errors: its own checks' (`Refused`), or the registry's (`RegistryError`, e.g. nothing to
    change), beside their fields."""
    return error.errors if isinstance(error, Refused) else refused(error, FIELDS)


def page(template: str, person: Person, form: Mapping[str, str], errors: dict[str, str] | None = None) -> str:
    """The form's page (staff's or the citizen's) for `person`, filled with `form`, errors beside their fields."""
    return render_template(
        template,
        person=person,
        form=form,
        errors=errors or {},
        reasons=form_reasons(person),
        code_follows=lifecycle.code_follows(person),
        policy_terminated=people.policy_terminated(person),
        document_kinds=DOCUMENT_KINDS,
    )


def _part(
    parse: Callable[[Mapping[str, str]], T], values: Mapping[str, str], fields: tuple[str, ...], errors: dict[str, str]
) -> T | None:
    """One part of the form checked; its error added to `errors`."""
    try:
        return parse(values)
    except RegistryError as error:
        errors.update(refused(error, fields))
        return None


def grounds_of(item: DataChangeRequest) -> Grounds:
    """A citizen's request's reason and document, as its confirmation shows them."""
    return Grounds(ChangeReason(item.reason), item.reason_text, Document.of(item))
