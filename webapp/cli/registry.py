import sys
from pathlib import Path
from typing import TextIO

import click

from webapp import registry_csv
from webapp.cli import actor
from webapp.cli.group import group

registry = group("registry", "Импорт и экспорт реестра застрахованных (CSV).")


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(file: Path) -> None:
    """Загрузить CSV реестра. Ошибочные строки показываются, остальные загружаются."""
    total = registry_csv.count_lines(file)
    with click.progressbar(length=total, label="Импорт", show_pos=True, file=sys.stderr) as bar:
        report = registry_csv.import_csv(file, actor(), progress=bar.update)
    for error in report.errors:
        click.echo(str(error), err=True)
    click.echo(
        f"Создано: {report.created}, обновлено: {report.updated}, без изменений: {report.unchanged}, "
        f"связей с представителями: {report.linked}, ошибок: {len(report.errors)}"
    )
    if report.errors:
        sys.exit(2 if report.loaded else 1)


@registry.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
def export_file(file: TextIO) -> None:
    """Выгрузить реестр в CSV (по умолчанию в стандартный вывод)."""
    count = registry_csv.export_csv(file)
    click.echo(f"Выгружено: {count}", err=True)
