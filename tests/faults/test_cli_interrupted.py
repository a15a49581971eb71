"""Ctrl-C in the middle of a long command that runs its job here (no queue): the command ends at once and
without a traceback, the job's row says it was interrupted and keeps no file, and running the command again
finishes the work, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.faults.registry import prepare, problems
from tests.faults.server import ROOT, app_environment
from webapp.extensions import db
from webapp.models import Job, Person
from webapp.registry import bulk_import
from webapp.registry.job_queue import INTERRUPTED, UNEXPECTED_FAILURE

FLASK = ROOT / ".venv" / "bin" / "flask"
LINES = 3000


def _luhn(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def registry_file(path: Path) -> Path:
    lines = [",".join(bulk_import.COLUMNS)]
    for number in range(LINES):
        base = f"771{number:012d}"
        lines.append(f"{base}{_luhn(base)},Иванов,Пётр,Сергеевич,1980-01-01,M,,77001,citizen,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def command(database_url: str, *arguments: str) -> subprocess.Popen[str]:
    environment = {
        **app_environment(database_url),
        "IMPORT_JOB_THRESHOLD": "10",
        "IMPORT_BATCH_SIZE": "100",
        "SIGNING_PROCESSES": "2",
    }
    environment.pop("JOB_QUEUE_URL", None)
    return subprocess.Popen(
        [str(FLASK), "--app", "webapp", *arguments],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground command has
    )


def test_ctrl_c_during_an_import_job_then_again(database_url: str, tmp_path: Path) -> None:
    registry = prepare(database_url, people=0)
    path = registry_file(tmp_path / "registry.csv")
    running = command(database_url, "registry", "import", str(path))
    with registry.app.app_context():
        deadline = time.monotonic() + 60
        while db.session.scalar(select(func.max(Job.done))) in (None, 0):
            assert running.poll() is None, running.communicate()
            assert time.monotonic() < deadline, "the import made no progress"
            db.session.remove()
            time.sleep(0.05)
        db.session.remove()
    os.killpg(running.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
    try:
        _, said = running.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(running.pid, signal.SIGKILL)
        running.communicate()
        raise AssertionError("the interrupted import hung") from None
    assert running.returncode != 0
    assert "Traceback" not in said, said
    with registry.app.app_context():
        job = db.session.scalars(select(Job)).one()
        # Now and then on PostgreSQL the interrupt reaches psycopg mid-statement, which ends it with an error of its
        # own: the job then fails as on any database error, its file dropped all the same.
        reasons = (INTERRUPTED,) if database_url.startswith("sqlite") else (INTERRUPTED, UNEXPECTED_FAILURE)
        assert (job.state, job.payload) == ("failed", None), said
        assert job.failure in reasons, said
        loaded = db.session.scalar(select(func.count(Person.id)))
        assert loaded < LINES, "interrupted too late to tell"
        db.session.remove()

    again = command(database_url, "registry", "import", str(path))
    out, said = again.communicate(timeout=300)
    assert again.returncode == 0, said
    assert f"Создано: {LINES - loaded}, обновлено: 0, без изменений: {loaded}" in out
    with registry.app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == LINES
        db.session.remove()
    assert problems(registry.app) == []


#: Where Ctrl-C can land in a command, each with `{quiet}` (the `flask` command's logging set-up) and `{error}` (what
#: the interrupt, or another failure, raises there). A connection returned to SQLAlchemy's pool as its rollback is
#: broken off: the pool's own reset event raises it.
_RESET_BROKEN_OFF = """
import sys
from sqlalchemy import create_engine, event
from webapp.cli import interrupts

if {quiet}:
    interrupts.quiet()
engine = create_engine("sqlite://")

@event.listens_for(engine, "reset")
def broken_off(*_):
    raise {error}

try:
    engine.connect().close()
except BaseException as error:
    print(type(error).__name__, file=sys.stderr)
"""
#: A finaliser the garbage collector runs, then more of the command's work.
_FINALISER_BROKEN_OFF = """
import sys
import time
from webapp.cli import interrupts

if {quiet}:
    interrupts.quiet()

class Finalised:
    def __del__(self):
        raise {error}

try:
    Finalised()
    for _ in range(50):
        time.sleep(0.01)
    print("still running", file=sys.stderr)
except BaseException as error:
    print(type(error).__name__, file=sys.stderr)
"""
#: Alembic's logging file read as `flask db upgrade` reads it (migrations/env.py): a console handler on the root.
_ROOT_HANDLER_TOO = """
import logging
from logging.config import fileConfig
from webapp.cli import interrupts

interrupts.quiet()
fileConfig("migrations/alembic.ini", disable_existing_loggers=False)
pool = logging.getLogger("sqlalchemy.pool.impl.QueuePool")
for error in (KeyboardInterrupt(), RuntimeError("no rollback")):
    try:
        raise error
    except BaseException:
        pool.error("Exception during reset or similar", exc_info=True)
"""


def _run(script: str, quiet: bool, error: str) -> str:
    code = script.format(quiet=quiet, error=error)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.stderr


def test_an_interrupt_while_the_pool_resets_a_connection_prints_no_traceback() -> None:
    assert "Traceback" in _run(_RESET_BROKEN_OFF, quiet=False, error="KeyboardInterrupt"), "the case did not arise"
    said = _run(_RESET_BROKEN_OFF, quiet=True, error="KeyboardInterrupt")
    assert said == "KeyboardInterrupt\n", said  # the interrupt goes on, to end the command


def test_an_interrupt_in_a_finaliser_ends_the_command_without_a_traceback() -> None:
    lost = _run(_FINALISER_BROKEN_OFF, quiet=False, error="KeyboardInterrupt")
    assert "Traceback" in lost, "the case did not arise"
    assert lost.endswith("still running\n"), "Python carries on past an interrupt in a finaliser"
    assert _run(_FINALISER_BROKEN_OFF, quiet=True, error="KeyboardInterrupt") == "KeyboardInterrupt\n"


def test_a_root_handler_prints_the_database_errors_once_and_no_interrupt() -> None:
    said = _run(_ROOT_HANDLER_TOO, quiet=True, error="")
    assert "KeyboardInterrupt" not in said, said
    assert said.count("RuntimeError: no rollback") == 1, said


def test_any_other_failure_there_is_still_shown() -> None:
    said = _run(_RESET_BROKEN_OFF, quiet=True, error="RuntimeError('no rollback')")
    assert "Exception during reset or similar" in said, said
    assert "RuntimeError: no rollback" in said, said
    said = _run(_FINALISER_BROKEN_OFF, quiet=True, error="RuntimeError('no finish')")
    assert "Exception ignored" in said, said
    assert "RuntimeError: no finish" in said, said
    assert said.endswith("still running\n"), said
