"""Log records as a serving process writes them, for tests that search them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG, as a process configured so would log.

    Running the migrations in this process (the `app` fixture) let alembic's fileConfig disable every
    existing logger, set sqlalchemy.engine to WARN and take pytest's capturing handler off the root logger; a
    serving process never runs it, so that is undone.
    """
    loggers = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.disabled = False
    for name in ("sqlalchemy.engine", "alembic", "flask_migrate"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    if caplog.handler not in logging.root.handlers:  # fileConfig, run by migrations within the test, took it off
        logging.root.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    try:
        yield
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
