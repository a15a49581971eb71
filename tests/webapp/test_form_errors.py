"""A refused form's errors (webapp/web/form_errors.py): by the field the registry names, never lost."""

from __future__ import annotations

from flask import Flask, render_template_string

from webapp.registry.errors import RegistryError
from webapp.web.form_errors import FORM, refused

FIELD = '<input name="enp"{{ invalid("enp") }}>{{ error_for("enp") }}<input name="code"{{ invalid("code") }}>'


def test_an_error_goes_by_the_field_the_registry_names(site: Flask) -> None:
    with site.test_request_context():
        assert refused(RegistryError("Плохой ЕНП", field="enp"), ("enp", "code")) == {"enp": "Плохой ЕНП"}


def test_an_error_about_a_field_the_form_lacks_goes_to_the_top_of_the_form(site: Flask) -> None:
    with site.test_request_context():
        assert refused(RegistryError("Нет такой СМО", field="insurer"), ("enp",)) == {FORM: "Нет такой СМО"}
        assert refused(RegistryError("Что-то не так"), ("enp",)) == {FORM: "Что-то не так"}


def test_the_first_field_in_error_is_focused_tied_to_its_message_and_announced(site: Flask) -> None:
    with site.test_request_context():
        page = render_template_string(FIELD, errors={"enp": "Плохой <ЕНП>", "code": "Не тот код"})
        clean = render_template_string(FIELD, errors={})
    assert '<input name="enp" aria-invalid="true" aria-describedby="enp-error" autofocus>' in page
    assert '<input name="code" aria-invalid="true" aria-describedby="code-error">' in page, "one field focused"
    assert '<p class="field-error" id="enp-error" role="alert">' in page
    assert "Плохой &lt;ЕНП&gt;" in page, "the message is escaped"
    assert clean == '<input name="enp"><input name="code">'
