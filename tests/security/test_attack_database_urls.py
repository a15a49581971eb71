"""Attack: a server or a command started with a DATABASE_URL (or a replica's) that parses as PostgreSQL's but cannot
be used: a port that is no number, a driver not installed or not known (2026-12-06). Each gave a traceback as the app
built its engines; now one line names the setting, never the URL and its password.

A SQLite URL whose folder does not exist (2026-12-06) started the server warning that the database did not answer,
as for one down, and each command said the database was unavailable or busy: now one line names the setting and the
folder, as for any setting the server cannot start with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.faults.server import ROOT, app_environment
from tests.helpers.registry import make_app
from webapp.config import sqlite_file
from webapp.db.engines import dispose_engines
from webapp.extensions import db

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


#: Each SQLite URL form, and the file it opens: {tmp} a test's own folder, {name} a name of its own in the instance
#: folder, where Flask-SQLAlchemy opens a relative name, also a relative `file:` URI's (so `file::memory:` is a file
#: there); None for a database in memory.
OPENED = {
    "memory": ("sqlite://", None),
    "relative": ("sqlite:///{name}", "{instance}/{name}"),
    "absolute": ("sqlite:///{tmp}/oms.sqlite", "{tmp}/oms.sqlite"),
    "uri relative": ("sqlite:///file:{name}?uri=true", "{instance}/{name}"),
    "uri absolute": ("sqlite:///file:{tmp}/x.db?uri=true&mode=rwc", "{tmp}/x.db"),
    "uri no host": ("sqlite:///file://{tmp}/x.db?uri=true", "{tmp}/x.db"),
    "uri memory": ("sqlite:///file::memory:?uri=true", "{instance}/:memory:"),
    "uri mode memory": ("sqlite:///file:{tmp}/x.db?uri=true&mode=memory", None),
}
INSTANCE = ROOT / "instance"


@pytest.mark.parametrize(("url", "opened"), OPENED.values(), ids=OPENED.keys())
def test_the_file_a_sqlite_url_opens_is_the_one_made_private(tmp_path: Path, url: str, opened: str | None) -> None:
    """The app is built from a shell's umask (0644 files) and writes: the file SQLite reports open is the one
    `sqlite_file` names, 0600 with its -wal and -shm. A relative name's 0600 file was made in the current folder,
    and a `file:` URI's not at all, leaving the registry itself to the umask."""
    fields = {"tmp": tmp_path, "name": f"opened-{tmp_path.name}.sqlite", "instance": INSTANCE}
    url = url.format(**fields)
    expected = None if opened is None else Path(opened.format(**fields))
    previous = os.umask(0o022)
    try:
        app = make_app(url)
        with app.app_context():
            db.session.execute(text("create table t (x int)"))
            db.session.commit()
            main = db.session.execute(text("pragma database_list")).one()
            files = [Path(f"{main.file}{suffix}") for suffix in ("", "-wal", "-shm")] if main.file else []
            modes = {path.name: oct(path.stat().st_mode & 0o777) for path in files}
            db.session.remove()
            dispose_engines()
        assert (Path(main.file) if main.file else None) == expected == sqlite_file(url, app.instance_path)
        assert modes == {path.name: "0o600" for path in files}
        assert list(tmp_path.iterdir()) == ([expected] if expected and expected.parent == tmp_path else [])
    finally:
        os.umask(previous)
        if expected is not None and expected.parent == INSTANCE:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{expected}{suffix}").unlink(missing_ok=True)


#: A file form whose folder is missing: {tmp} a test's own folder, {name} a name of its own in the instance folder.
MISSING_FOLDER = {
    "relative": ("sqlite:///{name}/oms.sqlite", "{instance}/{name}"),
    "absolute": ("sqlite:///{tmp}/no/oms.sqlite", "{tmp}/no"),
    "uri relative": ("sqlite:///file:{name}/oms.sqlite?uri=true", "{instance}/{name}"),
    "uri absolute": ("sqlite:///file:{tmp}/no/oms.sqlite?uri=true&mode=rwc", "{tmp}/no"),
}


@pytest.mark.parametrize(("url", "folder"), MISSING_FOLDER.values(), ids=MISSING_FOLDER.keys())
def test_each_sqlite_file_form_in_a_missing_folder_is_refused_in_one_line(
    tmp_path: Path, url: str, folder: str
) -> None:
    fields = {"tmp": tmp_path, "name": f"missing-{tmp_path.name}", "instance": INSTANCE}
    python = str(ROOT / ".venv" / "bin" / "python")
    done = _started({"DATABASE_URL": url.format(**fields)}, python, "-c", "from webapp import create_app; create_app()")
    assert (done.returncode, done.stderr.strip()) == (
        1,
        f"Ошибка: DATABASE_URL: нет папки {folder.format(**fields)} для файла базы SQLite: создайте её или укажите "
        "другой путь",
    )
    assert not Path(folder.format(**fields)).exists()


@pytest.mark.parametrize(
    "url",
    ["sqlite:////{tmp}/x.db?uri=true", "sqlite:///file://elsewhere/{tmp}/x.db?uri=true", "sqlite:///file:?uri=true"],
    ids=["no file: name", "another host", "no path"],
)
def test_a_sqlite_uri_that_names_no_file_is_refused_in_one_line(tmp_path: Path, url: str) -> None:
    """Flask-SQLAlchemy cuts a URI's first five characters whatever they are: `sqlite:////srv/oms.sqlite?uri=true`
    opened `instance/oms.sqlite`, not the file it names, and other such names failed, the server warning that the
    database did not answer."""
    python = str(ROOT / ".venv" / "bin" / "python")
    done = _started(
        {"DATABASE_URL": url.format(tmp=tmp_path)}, python, "-c", "from webapp import create_app; create_app()"
    )
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "Ошибка: DATABASE_URL: с ?uri=true имя базы — адрес file: её файла, например "
        "sqlite:///file:/path/to/oms.sqlite?uri=true",
    )
    assert list(tmp_path.iterdir()) == []
