import sys

import click

from webapp import audit as service
from webapp.cli.group import group

audit = group("audit", "Журнал аудита.")


@audit.command("verify")
def verify() -> None:
    """Проверить цепочку хешей журнала: изменённые и удалённые записи."""
    found = list(service.problems())
    for problem in found:
        click.echo(problem, err=True)
    if found:
        click.echo(f"Журнал повреждён: нарушений {len(found)}", err=True)
        sys.exit(1)
    click.echo("Журнал цел")
