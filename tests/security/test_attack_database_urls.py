"""Attack: a server or a command started with a DATABASE_URL (or a replica's) that parses as PostgreSQL's but cannot
be used: a port that is no number, a driver not installed or not known (2026-12-06). Each gave a traceback as the app
built its engines; now one line names the setting, never the URL and its password.

A SQLite URL whose folder does not exist (2026-12-06) started the server warning that the database did not answer,
as for one down, and each command said the database was unavailable or busy: now one line names the setting and the
folder, as for any setting the server cannot start with."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.faults.server import ROOT, app_environment

SECRET = "hunter2-s3cret"
UNUSABLE = [
    f"postgresql+psycopg://oms:{SECRET}@127.0.0.1:notaport/oms",
    f"postgresql+psycopg://oms:{SECRET}@[::1/oms",
    f"postgresql+psycopg2://oms:{SECRET}@127.0.0.1:5432/oms",
    f"postgresql+nosuchdriver://oms:{SECRET}@127.0.0.1:5432/oms",
]


def _started(environment: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**app_environment("sqlite:///unused"), **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("url", UNUSABLE)
def test_a_server_refuses_an_unusable_database_url_in_one_line(url: str) -> None:
    python = str(ROOT / ".venv" / "bin" / "python")
    done = _started({"DATABASE_URL": url}, python, "-c", "from webapp import create_app; create_app()")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert done.stderr.strip() == (
        "Ошибка: DATABASE_URL — не адрес базы SQLite или PostgreSQL: sqlite:///path/to/oms.sqlite или "
        "postgresql+psycopg://user@host:5432/name"
    )


@pytest.mark.parametrize("url", UNUSABLE)
def test_a_command_refuses_an_unusable_replica_url_in_one_line(url: str) -> None:
    flask = str(ROOT / ".venv" / "bin" / "flask")
    environment = {"DATABASE_URL": "postgresql+psycopg://oms@127.0.0.1:5432/oms", "DATABASE_REPLICA_URLS": url}
    done = _started(environment, flask, "--app", "webapp", "keys", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "Ошибка: DATABASE_REPLICA_URLS: адрес №1 — не postgresql+psycopg://" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("python", "-c", "from webapp import create_app; create_app()"),  # as gunicorn builds it
        ("flask", "--app", "webapp", "run", "--port", "0"),
        ("flask", "--app", "webapp", "keys", "list"),
    ],
    ids=["server", "flask run", "command"],
)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_sqlite_url_in_a_folder_that_does_not_exist_is_refused_in_one_line(
    tmp_path: Path, command: tuple[str, ...], language: str
) -> None:
    folder = tmp_path / "no" / "such"
    environment = {"DATABASE_URL": f"sqlite:///{folder / 'oms.sqlite'}"}
    if language == "en":
        environment |= {"LANG": "en_US.UTF-8", "LANGUAGE": ""}
    done = _started(environment, str(ROOT / ".venv" / "bin" / command[0]), *command[1:])
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        f"Error: DATABASE_URL: there is no folder {folder} for the SQLite database file: create it or give another path"
        if language == "en"
        else f"Ошибка: DATABASE_URL: нет папки {folder} для файла базы SQLite: создайте её или укажите другой путь"
    )
    assert not folder.exists()


def test_a_relative_sqlite_file_is_made_private_where_the_registry_is_opened(tmp_path: Path) -> None:
    """`sqlite:///x.sqlite` is opened in the instance folder (Flask-SQLAlchemy): the 0600 file was made in the current
    folder instead, and the registry itself left to the umask (0644)."""
    name = f"relative-{tmp_path.name}.sqlite"
    script = (
        "import os, stat; os.umask(0o022); from webapp import create_app; from webapp.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context(): db.session.execute(db.text('create table t (x int)')); db.session.commit()\n"
        "with app.app_context(): print(db.engine.url.database)\n"
    )
    python = str(ROOT / ".venv" / "bin" / "python")
    environment = {
        **app_environment("sqlite:///unused"),
        "DATABASE_URL": f"sqlite:///{name}",
        "FLASK_RUN_FROM_CLI": "true",
    }
    done = subprocess.run(
        [python, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    opened = Path(done.stdout.strip().splitlines()[-1])
    try:
        assert opened.parent == ROOT / "instance"
        assert oct(opened.stat().st_mode & 0o777) == "0o600"
        assert not (tmp_path / name).exists()
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{opened}{suffix}").unlink(missing_ok=True)
