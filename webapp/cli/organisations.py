import click

from webapp.cli.group import actor, group
from webapp.registry import organisations as service

regions = group("regions", "Регионы.")
insurers = group("insurers", "Страховые медицинские организации (СМО).")
clinics = group("clinics", "Медицинские организации.")


@regions.command("create")
@click.argument("code")
@click.argument("name")
def create_region(code: str, name: str) -> None:
    """Создать регион: CODE — две цифры."""
    service.create_region(code, name, actor())
    click.echo(f"Регион {code} создан")


@insurers.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--region", "region_code", help="Код региона (две цифры).")
def create_insurer(code: str, name: str, region_code: str | None) -> None:
    """Создать СМО с её первым ключом подписи: CODE — 5 цифр."""
    insurer = service.create_insurer(code, name, actor(), region_code)
    click.echo(f"СМО {insurer.code} «{insurer.name}» создана, ключ подписи выпущен")


@clinics.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--region", "region_code", help="Код региона (две цифры).")
def create_clinic(code: str, name: str, region_code: str | None) -> None:
    """Создать клинику."""
    clinic = service.create_clinic(code, name, actor(), region_code)
    click.echo(f"Клиника {clinic.code} «{clinic.name}» создана")
