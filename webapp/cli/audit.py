import sys
from pathlib import Path

import click

from webapp.cli.group import group
from webapp.registry import audit as service

audit = group("audit", "Журнал аудита (webapp/registry/audit.py).", any_schema=True)

#: More lines than this say nothing new: a changed AUDIT_KEY fails every entry.
SHOWN = 20


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Сверить с копией контрольной точки, сохранённой `audit checkpoint`, а не с локальной.",
)
def verify(checkpoint_file: Path | None) -> None:
    """Проверить журнал: ключ и цепочку хешей каждой записи и контрольную точку.

    Находит изменённые, удалённые и переписанные записи, удаление последних записей и старую копию журнала.
    """
    report = service.verify(checkpoint_file, limit=SHOWN)
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.unlisted:
        click.echo(f"… и ещё нарушений: {report.unlisted}", err=True)
    if not report.whole:
        click.echo(f"Журнал повреждён: нарушений {len(report.problems) + report.unlisted}", err=True)
        sys.exit(1)
    click.echo(report.summary())


@audit.command("checkpoint")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--reset",
    is_flag=True,
    help="Перенести локальную контрольную точку на журнал как есть, даже если он до неё не доходит "
    "(после разбора усечения). Цепочка записей всё равно должна быть цела.",
)
def checkpoint(file: Path, reset: bool) -> None:
    """Проверить журнал и записать контрольную точку в новый файл FILE, чтобы хранить её отдельно.

    Заодно передвигает локальную контрольную точку на последнюю запись. FILE подписан ключом журнала
    AUDIT_KEY; `audit verify --checkpoint FILE` сверяет с ним журнал.
    """
    written = service.write_checkpoint(file, reset=reset)
    click.echo(f"Контрольная точка записана в {file}: запись {written.entry}, хеш {written.hash}")
