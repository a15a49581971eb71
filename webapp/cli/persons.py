import click

from webapp.cli.group import actor, group
from webapp.registry import data_changes, people
from webapp.registry.data_changes import DOCUMENT_KINDS, FORM_REASONS, Document, NewData
from webapp.registry.errors import RegistryError

persons = group("persons", "Застрахованные.")

_DOCUMENT_PARTS = ("document_kind", "document_series", "document_number", "document_issued_on", "document_issuer")
#: The options of `persons correct` by the field a refusal names, so the message says which option to fix.
_OPTIONS = {
    **{field: "--" + field.replace("_", "-") for field in ("surname", "given_name", "patronymic", "birth_date")},
    **{field: "--" + field.replace("_", "-") for field in ("sex", "reason", "reason_text")},
    **dict.fromkeys(_DOCUMENT_PARTS, "--document"),
}


@persons.command("correct")
@click.argument("enp")
@click.option("--surname", help="Новая фамилия.")
@click.option("--given-name", help="Новое имя.")
@click.option("--patronymic", help="Новое отчество (пустое: без отчества).")
@click.option("--birth-date", help="Новая дата рождения, ГГГГ-ММ-ДД.")
@click.option("--sex", type=click.Choice(["M", "F"]), help="Пол: M или F.")
@click.option(
    "--reason", required=True, type=click.Choice([str(reason) for reason in FORM_REASONS]), help="Причина изменения."
)
@click.option("--reason-text", default="", help="Причина словами: обязательна для other.")
@click.option(
    "--document",
    required=True,
    help="Документ-основание: «вид;серия;номер;ГГГГ-ММ-ДД;кем выдан», вид — один из: "
    + ", ".join(DOCUMENT_KINDS)
    + ". Серия может быть пустой.",
)
def correct(
    enp: str,
    surname: str | None,
    given_name: str | None,
    patronymic: str | None,
    birth_date: str | None,
    sex: str | None,
    reason: str,
    reason_text: str,
    document: str,
) -> None:
    """Изменить ФИО, дату рождения или пол застрахованного по документу: ЕНП не меняется, прежний код
    заменяется, новый подписывается с новыми данными. Не указанные поля остаются прежними."""
    person = people.person_by_enp(enp)
    now = NewData.of(person)
    given = {"surname": surname, "given_name": given_name, "patronymic": patronymic, "sex": sex}
    values = {field: getattr(now, field) if value is None else value for field, value in given.items()}
    values["birth_date"] = birth_date or now.birth_date.isoformat()
    try:
        new = NewData.from_form(values)
        grounds = data_changes.parse_reason({"reason": reason, "reason_text": reason_text})
        code = data_changes.change_person_data(enp, new, *grounds, _document(document), actor())
    except RegistryError as error:
        option = _OPTIONS.get(error.field)
        raise click.ClickException(f"{option}: {error}" if option else str(error)) from error
    if code is None:
        click.echo("Данные изменены; полис не действует, новый код не выпущен, прежний отозван")
    else:
        click.echo(f"Данные изменены, выпущен код №{code.serial}")


def _document(text: str) -> Document:
    parts = text.split(";")
    if len(parts) != len(_DOCUMENT_PARTS):
        raise RegistryError(
            "Документ: «вид;серия;номер;ГГГГ-ММ-ДД;кем выдан», пять частей через точку с запятой",
            field="document_kind",
        )
    return Document.from_form(dict(zip(_DOCUMENT_PARTS, parts, strict=True)))
