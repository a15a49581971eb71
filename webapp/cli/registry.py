import os
import sys
from pathlib import Path
from typing import TextIO

import click

from policy_codes import Enp, Snils
from webapp import private_files
from webapp.cli.group import actor, group
from webapp.cli.jobs import ProgressBar, outcome
from webapp.registry import bulk_import, people, reasons, representations, signing_pool

registry = group("registry", "Импорт и экспорт реестра застрахованных (CSV).")


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(file: Path) -> None:
    """Загрузить CSV реестра. Ошибочные строки показываются, остальные загружаются.

    Файл больше IMPORT_JOB_THRESHOLD строк загружается заданием: в очереди JOB_QUEUE_URL, если она
    задана (команда показывает ход задания), иначе здесь же.
    """
    data = _read(file)
    if bulk_import.needs_job(data):
        with ProgressBar("Импорт") as bar:
            job = bar.follow(
                bulk_import.start_job(
                    data, actor(), processes_here=signing_pool.processes(), progress=bar, file_name=file.name
                )
            )
        report = bulk_import.ImportReport.of_job(outcome(job))  # every refused line: the page lists the first
    else:
        with click.progressbar(
            length=bulk_import.count_lines(data), label="Импорт", show_pos=True, file=sys.stderr
        ) as bar:
            report = bulk_import.import_csv(data, actor(), progress=bar.update, file_name=file.name)
    if report.ignored:
        click.echo(f"Столбцы не из списка не загружены: {', '.join(report.ignored)}", err=True)
    for error in report.errors:
        click.echo(str(error), err=True)
    if report.unlisted:
        click.echo(f"… и ещё ошибочных строк: {report.unlisted}", err=True)
    click.echo(
        f"Создано: {report.created}, обновлено: {report.updated}, без изменений: {report.unchanged}, "
        f"связей с представителями: {report.linked}, ошибок: {report.refused}"
    )
    if report.refused:
        sys.exit(2 if report.loaded else 1)


def _read(file: Path) -> bytes:
    """The whole file (a pipe too: `<(zcat registry.csv.gz)`): it may be a job's, stored in its row. A device
    (/dev/zero, a mistyped /dev path) was read until memory ran out, ending in a MemoryError's traceback."""
    if file.is_char_device() or file.is_block_device():
        raise click.ClickException(f"{file} — устройство, а не файл: укажите файл CSV реестра")
    try:
        return file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"Не удалось прочитать {file}: {error.strerror}") from error
    except MemoryError as error:
        raise click.ClickException(f"Файл {file} не помещается в память: разделите его на части") from error


@registry.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default="-")
def export_file(file: Path) -> None:
    """Выгрузить реестр в CSV (по умолчанию в стандартный вывод). Файл читает только его владелец."""
    if str(file) == "-":
        with click.open_file("-", "w") as out:  # the standard output, left open
            count = bulk_import.export_csv(out)
    elif file.exists() and not file.is_file():  # a pipe or a device (/dev/stdout): written to as it is
        with _opened(file) as out:
            count = bulk_import.export_csv(out)
    else:
        count = _export_whole(file)
    click.echo(f"Выгружено: {count}", err=True)
    several = bulk_import.more_representatives()
    if several:
        click.echo(
            f"Внимание: застрахованных с несколькими представителями — {several}; в строке файла назван только "
            "первый из представителей. Остальных при загрузке файла в другой реестр добавьте отдельным файлом",
            err=True,
        )


def _opened(file: Path, shown: Path | None = None) -> TextIO:
    try:
        return open(file, "w", encoding="utf-8", opener=private_files.opener)
    except OSError as error:
        raise click.ClickException(f"Не удалось открыть {shown or file}: {error.strerror}") from error


def _export_whole(file: Path) -> int:
    """Export into a new file beside `file`, renamed over it once complete: an export cut short (Ctrl-C, a full
    disk, a lost database) left a truncated CSV where the previous export had been, with nothing in it to say so."""
    partial = file.with_name(f".{file.name}.partial")
    try:
        with _opened(partial, shown=file) as out:
            count = bulk_import.export_csv(out)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(file)
    except OSError as error:
        raise click.ClickException(f"Файл {file} не записан: {error.strerror}") from error
    finally:
        partial.unlink(missing_ok=True)
    return count


@registry.command("shared-snils")
def shared_snils() -> None:
    """Показать СНИЛС, записанные у нескольких застрахованных (до того, как реестр стал это запрещать), с их ЕНП.

    Код выхода 1, если такие есть: решить, чья это запись, должны СМО этих застрахованных.
    """
    holders = people.sharing_snils()
    for snils, enps in holders.items():
        click.echo(f"{Snils(snils)}: {', '.join(enps)}")
    if not holders:
        click.echo("СНИЛС у каждого застрахованного свой.", err=True)
        return
    click.echo(f"СНИЛС у нескольких застрахованных: {len(holders)}", err=True)
    sys.exit(1)


@registry.command("end-representation")
@click.argument("representative_enp")
@click.argument("person_enp")
@click.option(
    "--reason",
    "grounds",
    required=True,
    type=click.Choice(list(reasons.END_REPRESENTATION)),
    help="Основание: court — решение суда, of_age — совершеннолетие, registry_error — ошибка в реестре.",
)
def end_representation(representative_enp: str, person_enp: str, grounds: str) -> None:
    """Прекратить представительство: REPRESENTATIVE_ENP больше не представляет PERSON_ENP.

    Последним днём представительства становится вчерашний день (по Москве): с этой минуты представитель не видит
    в личном кабинете полис, код и данные представляемого. Например, опеку прекратил суд, или родитель, указанный
    до миграции 0020, остался представителем выросшего ребёнка.
    """
    last_day = representations.end(str(Enp(representative_enp)), str(Enp(person_enp)), grounds, actor())
    click.echo(
        f"Представительство прекращено, его последний день — {last_day:%d.%m.%Y}: представитель больше не видит "
        "полис, код и данные представляемого"
    )


@registry.command("restore-representation")
@click.argument("representative_enp")
@click.argument("person_enp")
@click.option(
    "--reason",
    "why",
    required=True,
    type=click.Choice(list(reasons.RESTORE_REPRESENTATION)),
    help="Причина: ended_in_error — прекращено по ошибке, declined_in_error — представитель отказался по ошибке, "
    "other — другое (опишите в --details).",
)
@click.option("--details", default="", help="Причина своими словами, если --reason other.")
def restore_representation(representative_enp: str, person_enp: str, why: str, details: str) -> None:
    """Восстановить представительство, прекращённое по ошибке: REPRESENTATIVE_ENP снова представляет PERSON_ENP.

    Файл реестра такое представительство не возвращает. Оно действует с сегодняшнего дня: для ребёнка — до дня
    перед 18-летием, для взрослого — без срока.
    """
    if details and why != reasons.OTHER:
        raise click.UsageError("--details — только с --reason other: иначе причина записывается словами из списка")
    if why == reasons.OTHER and not details.strip():
        raise click.UsageError("--reason other — только с --details: опишите причину своими словами")
    last_day = representations.restore(str(Enp(representative_enp)), str(Enp(person_enp)), why, actor(), details)
    until = f"его последний день — {last_day:%d.%m.%Y}" if last_day else "без срока"
    click.echo(f"Представительство восстановлено, {until}: представитель снова видит полис, код и данные")
