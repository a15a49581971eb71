"""Ctrl-C in a command ends it with Click's «Прервано.» and nothing more.

The interrupt lands wherever the command happens to be. When that is inside SQLAlchemy's pool, returning a
connection (its rollback), the pool logs «Exception during reset or similar» with the interrupt's traceback before
passing the interrupt on; and in a finaliser the garbage collector runs, Python prints it as «Exception ignored».
The interrupt still ends the command either way: only those printed tracebacks are dropped here.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

#: SQLAlchemy's loggers (the pool's among them) share this parent.
DATABASE_LOGGER = "sqlalchemy"


def _an_interrupt(exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> bool:
    kind = exc_info[0]
    return kind is not None and issubclass(kind, KeyboardInterrupt)


class NoInterruptTracebacks(logging.Filter):
    """Drops a record that carries a KeyboardInterrupt: what the command then says is «Прервано.»."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _an_interrupt(record.exc_info))


def quiet() -> None:
    """For the `flask` command: the database's warnings and errors go to stderr as before (the handler Python
    falls back to writes the message and any traceback), except those an interrupt caused."""
    database = logging.getLogger(DATABASE_LOGGER)
    if any(isinstance(each, NoInterruptTracebacks) for handler in database.handlers for each in handler.filters):
        return
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.addFilter(NoInterruptTracebacks())
    database.addHandler(handler)
    shown = sys.unraisablehook

    def unless_interrupted(unraisable: sys.UnraisableHookArgs) -> None:
        if not _an_interrupt((unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)):
            shown(unraisable)

    sys.unraisablehook = unless_interrupted
