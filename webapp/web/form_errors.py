"""A refused form's errors beside their fields (issue 18, item 10).

A view that refuses a form renders it again with `errors`: field name → message, in
the form's order. A template marks each field and puts its message under it:

    <label>{{ _("ЕНП") }} <input name="enp" ...{{ invalid("enp") }}></label>
    {{ error_for("enp") }}

The message is announced (role="alert") and tied to its field (aria-describedby,
aria-invalid); the first field in error gets `autofocus`, so the browser focuses it
and scrolls it into view on load, with no script. An error about the form as a
whole goes under the name FORM, at the top of the form, focused the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from flask import Flask
from jinja2 import pass_context
from markupsafe import Markup

from webapp.registry.errors import InvalidFields, RegistryError
from webapp.web.i18n import said

#: The name of an error that belongs to no one field.
FORM = "form"


def refused(error: RegistryError, fields: Collection[str]) -> dict[str, str]:
    """A refused change as the errors of a form with these fields: each by the field the registry named (every
    field's of `InvalidFields`), in the form's order, or at the top of the form when it named none of them (a
    message is never lost for want of a place)."""
    found: dict[str, str] = {}
    for each in error.errors if isinstance(error, InvalidFields) else (error,):
        found.setdefault(each.field if each.field in fields else FORM, said(each))
    return in_form_order(found, fields)


def in_form_order(errors: Mapping[str, str], fields: Collection[str]) -> dict[str, str]:
    """Errors in the order of the form's fields, the form's own first: the first one gets the focus."""
    order = [FORM, *fields]
    return dict(sorted(errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0))


def _errors(context: Any) -> dict[str, str]:
    return context.get("errors") or {}


def _first(context: Any, name: str) -> bool:
    return next(iter(_errors(context)), None) == name


@pass_context
def invalid(context: Any, name: str) -> Markup:
    """The attributes of a field in error (none for a field without one)."""
    if name not in _errors(context):
        return Markup("")
    focus = " autofocus" if _first(context, name) else ""
    return Markup(' aria-invalid="true" aria-describedby="{}-error"{}').format(name, focus)


@pass_context
def error_for(context: Any, name: str) -> Markup:
    """The field's message, where the template puts it; nothing when the field is fine."""
    message = _errors(context).get(name)
    if not message:
        return Markup("")
    # The form's own error is what gets the focus when it comes first; a field's error is read with its field,
    # drawn close under it (static/css/app.css), where the form's own, at the top, keeps clear of what is above.
    template = _FOCUSED_ERROR if name == FORM and _first(context, name) else _ERROR
    return template.format("field-error form-error" if name == FORM else "field-error", name, message)


_ERROR = Markup('<p class="{}" id="{}-error" role="alert"><span aria-hidden="true">✖</span> {}</p>')
_FOCUSED_ERROR = Markup(
    '<p class="{}" id="{}-error" role="alert" tabindex="-1" autofocus><span aria-hidden="true">✖</span> {}</p>'
)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(invalid=invalid, error_for=error_for)
