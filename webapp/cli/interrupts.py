"""Ctrl-C in a command ends it with Click's «Прервано.» and nothing more.

The interrupt lands wherever the command happens to be. When that is inside SQLAlchemy's pool, returning a
connection (its rollback), the pool logs «Exception during reset or similar» with the interrupt's traceback before
passing the interrupt on: that record is dropped. When it is in a finaliser the garbage collector runs (the pool
cleans up a connection so), Python prints it as «Exception ignored» and carries on, the interrupt lost: it is raised
again in the main thread instead, so the command ends as asked.
"""

from __future__ import annotations

import _thread
import logging
import sys
import threading
from types import TracebackType

#: SQLAlchemy's loggers (the pool's among them) share this parent.
DATABASE_LOGGER = "sqlalchemy"
#: How long after an interrupt lost in a finaliser it comes again: for the hook, and the finaliser, to return.
AGAIN_AFTER_SECONDS = 0.05


def _an_interrupt(exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> bool:
    kind = exc_info[0]
    return kind is not None and issubclass(kind, KeyboardInterrupt)


class NoInterruptTracebacks(logging.Filter):
    """Drops a record that carries a KeyboardInterrupt: what the command then says is «Прервано.»."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _an_interrupt(record.exc_info))


def quiet() -> None:
    """For the `flask` command: the database's warnings and errors go to stderr as before (the handler Python
    falls back to writes the message and any traceback), except those an interrupt caused. They go there only: a
    console handler on the root logger (Alembic's logging file gives one to `db upgrade`) would print them again,
    unfiltered."""
    database = logging.getLogger(DATABASE_LOGGER)
    if any(isinstance(each, NoInterruptTracebacks) for handler in database.handlers for each in handler.filters):
        return
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.addFilter(NoInterruptTracebacks())
    database.addHandler(handler)
    database.propagate = False
    shown = sys.unraisablehook

    def interrupt_again(unraisable: sys.UnraisableHookArgs) -> None:
        if _an_interrupt((unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)):
            # As if Ctrl-C came again once the finaliser is over, where it ends the command: a moment later and
            # from another thread, since one raised here, in the hook, would be ignored in turn.
            again = threading.Timer(AGAIN_AFTER_SECONDS, _thread.interrupt_main)
            again.daemon = True  # a command over by then ends without waiting for it
            again.start()
        else:
            shown(unraisable)

    sys.unraisablehook = interrupt_again
