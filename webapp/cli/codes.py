import click

from webapp.cli.group import actor, group
from webapp.registry import lifecycle, people
from webapp.registry.errors import RegistryError

codes = group("codes", "Коды полисов.")


@codes.command("show")
@click.argument("enp")
def show(enp: str) -> None:
    """Напечатать текст действующего кода."""
    code = people.current_code(people.person_by_enp(enp))
    if code is None:
        raise RegistryError("Действующего кода нет")
    click.echo(code.text)


@codes.command("revoke")
@click.argument("enp")
@click.option("--reason", required=True, help="Причина отзыва.")
def revoke(enp: str, reason: str) -> None:
    """Отозвать действующий код."""
    code = lifecycle.revoke(enp, actor(), reason)
    click.echo(f"Код №{code.serial} отозван")


@codes.command("reissue")
@click.argument("enp")
@click.option("--reason", default="перевыпуск", help="Причина перевыпуска.")
def reissue(enp: str, reason: str) -> None:
    """Перевыпустить код: номер +1, прежний код заменён."""
    code = lifecycle.reissue(enp, actor(), reason)
    click.echo(f"Выпущен код №{code.serial}")
