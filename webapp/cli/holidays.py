from datetime import datetime

import click

from webapp.cli.group import actor, group
from webapp.registry import public_holidays

holidays = group("holidays", "Праздничные нерабочие дни (для сроков временных свидетельств).")


@holidays.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("name", default="")
def add(day: datetime, name: str) -> None:
    """Добавить нерабочий праздничный день (ГГГГ-ММ-ДД)."""
    if public_holidays.add_holiday(day.date(), name, actor()):
        click.echo(f"Добавлен {day:%Y-%m-%d}")
    else:
        click.echo(f"{day:%Y-%m-%d} уже в списке")


@holidays.command("list")
def list_holidays() -> None:
    for holiday in public_holidays.listed():
        click.echo(f"{holiday.day:%Y-%m-%d} {holiday.name}")


@holidays.command("seed")
@click.argument("year", type=click.IntRange(2000, 2100))
def seed(year: int) -> None:
    """Внести фиксированные праздники года (ТК РФ, ст. 112)."""
    added = public_holidays.seed_year(year, actor())
    click.echo(f"{year}: добавлено дней: {added}")
