"""Attack: a server or a command started with a DATABASE_URL (or a replica's) that parses as PostgreSQL's but cannot
be used: a port that is no number, a driver not installed or not known (2026-12-06). Each gave a traceback as the app
built its engines; now one line names the setting, never the URL and its password."""

from __future__ import annotations

import subprocess

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
