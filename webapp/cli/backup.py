from pathlib import Path

import click

from webapp.cli.group import group
from webapp.extensions import db
from webapp.ops import backup as service
from webapp.registry import audit

backup = group("backup", "Резервные копии базы (docs/operations.md).", any_schema=True)


@backup.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def create(file: Path) -> None:
    """Сохранить копию базы в новый файл FILE, не останавливая приложение.

    SQLite копируется через онлайн-API резервного копирования, PostgreSQL — через pg_dump -Fc.
    """
    service.create(db.engine, file)
    click.echo(f"Копия базы сохранена: {file}")


@backup.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Заменить базу, даже если в ней есть данные.")
def restore(file: Path, force: bool) -> None:
    """Заменить базу копией из FILE: целиком или, при ошибке, никак.

    Непустую базу заменяет только с --force. Остановите приложение на время восстановления.
    После восстановления счётчик изменений ключей сдвигается вперёд (рабочие процессы перечитают ключи).
    Локальная контрольная точка журнала аудита переносится на последнюю запись восстановленного журнала.
    """
    try:
        service.restore(db.engine, file, force=force)
    except service.CountNotMoved as error:  # restored all the same: the checkpoint still follows the log
        _reanchor()
        raise click.ClickException(str(error)) from error
    click.echo(f"База восстановлена из {file}")
    _reanchor()


def _reanchor() -> None:
    anchored = audit.reanchor()
    where = f"запись {anchored.entry}" if anchored else "журнал пуст"
    click.echo(f"Контрольная точка журнала аудита перенесена на восстановленный журнал: {where}")
