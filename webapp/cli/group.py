"""A command group whose commands turn expected errors into clean messages."""

from __future__ import annotations

import getpass
import os
import select
import sys
from typing import Any, TextIO

import click
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from policy_codes import InvalidValue
from signing import SigningError, WrongPassphrase
from webapp.registry import audit, schema
from webapp.registry.errors import InvalidFields, RegistryError


class CleanErrors:
    """Expected errors become `Error: <message>` and exit 1 instead of a traceback."""

    #: A database without this version's tables: what to do about it.
    no_schema = schema.BEHIND
    #: Any other refusal by the database: it does not answer, or another process holds SQLite's lock (told before
    #: as «не создана: выполните db upgrade», which sent the operator of a busy database the wrong way).
    database_refused = (
        "База данных недоступна или занята: проверьте DATABASE_URL и что сервер базы данных запущен, "
        "затем повторите команду"
    )

    def invoke(self, ctx: click.Context) -> Any:
        checking = audit.CHECK_THE_KEY.set(True)  # a command writes no entry under a key not the log's
        try:
            done = super().invoke(ctx)  # type: ignore[misc]
            sys.stdout.flush()  # here, where a reader that stopped is told apart from a failure
            return done
        except BrokenPipeError:
            if not any(_reader_gone(stream) for stream in (sys.stdout, sys.stderr)):
                raise  # a pipe of its own (to a signing process), not its reader's
            raise click.exceptions.Exit(_stopped_reading()) from None
        except InvalidFields as error:  # every field's reason, as a form shows them
            raise click.ClickException("; ".join(str(each) for each in error.errors)) from error
        except WrongPassphrase as error:  # its own message is English, for the pure-Python floor
            raise click.ClickException(
                "Закрытый ключ подписи не открывается парольной фразой SIGNING_KEY_PASSPHRASE: задайте ту же, "
                "что у серверов реестра"
            ) from error
        except (RegistryError, InvalidValue, SigningError, audit.OtherAuditKey) as error:
            raise click.ClickException(str(error)) from error
        except IntegrityError as error:  # the driver's message quotes the clashing row: a person's data
            raise click.ClickException(
                "Команда остановлена: те же записи одновременно изменил другой процесс (например, такой же импорт). "
                "Незаписанное ею отменено, записанное раньше сохранено: повторите команду"
            ) from error
        except (OperationalError, ProgrammingError) as error:
            said = self.no_schema if _no_schema(error) else self.database_refused
            raise click.ClickException(f"{said} ({type(error.orig).__name__})") from error
        finally:
            audit.CHECK_THE_KEY.reset(checking)


#: The exit status of a command whose reader stopped (`… | head -1`): a C tool's, which SIGPIPE ends (128 + 13), as
#: the shell reports it. Click's own was 1, as for a failure, with nothing said.
READER_GONE = 141


def _reader_gone(stream: TextIO) -> bool:
    """Whether `stream` is a pipe whose reading end is closed (poll reports an error on its writing end)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _stopped_reading() -> int:
    """Quietly: what stdout and stderr still buffer goes nowhere, not into a second BrokenPipeError at exit."""
    nowhere = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        if _reader_gone(stream):
            os.dup2(nowhere, stream.fileno())
    os.close(nowhere)
    return READER_GONE


def _no_schema(error: OperationalError | ProgrammingError) -> bool:
    """A table or column missing: PostgreSQL's undefined table or column (a ProgrammingError), SQLite's «no such»."""
    if isinstance(error, ProgrammingError):
        return True
    return str(error.orig).startswith(("no such table", "no such column"))


class CurrentSchemaCommand(click.Command):
    """A command that reads or writes the registry: refused, before it starts, on a database whose schema is not
    this version's. It ran until it met a missing column, half-way through an import or a mass reissue. Checked
    once per command, once its arguments are parsed (`--help` and a usage error need no database)."""

    def invoke(self, ctx: click.Context) -> Any:
        with ctx.ensure_object(ScriptInfo).load_app().app_context():  # the command's own, its callback's too
            schema.require_current()  # a RegistryError, said by the group or the command (CleanErrors)
            return super().invoke(ctx)


class RegistryGroup(CleanErrors, AppGroup):
    command_class = CurrentSchemaCommand


class AnySchemaGroup(RegistryGroup):
    """Commands that work on a database of any version: a backup and the audit log's check come before an upgrade."""

    command_class = click.Command


class RegistryCommand(CleanErrors, CurrentSchemaCommand):
    pass


class SchemaGroup(CleanErrors, click.Group):
    """Flask-Migrate's `db` group: `db upgrade` against a database that does not answer gave a traceback."""

    no_schema = CleanErrors.database_refused  # `db upgrade` is what makes the schema


def schema_group(migrations: click.Group) -> SchemaGroup:
    """Flask-Migrate's commands (`db upgrade`, …) in a group that reports an unreachable database cleanly."""
    return SchemaGroup(
        migrations.name,
        commands=dict(migrations.commands),
        callback=migrations.callback,  # its --directory and -x options, which its commands read from `g`
        params=migrations.params,
        help=migrations.help,
    )


def group(name: str, help_text: str, any_schema: bool = False) -> RegistryGroup:
    return (AnySchemaGroup if any_schema else RegistryGroup)(name, help=help_text)


def actor() -> str:
    """Who runs a command, for the audit log."""
    return f"cli:{getpass.getuser()}"
