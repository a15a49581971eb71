"""DATABASE_REPLICA_URLS, MAX_REPLICA_LAG, DATABASE_POOLER and the job queue's settings as webapp/config.py reads
them: a bad one stops the server with a message naming the setting and never a URL (it may carry a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.registry import PASSPHRASE, SECRET_KEY, make_app
from tests.webapp.databases import AUDIT_KEY
from webapp import config
from webapp.db.engines import READS_BIND

PRIMARY = "postgresql+psycopg://oms_app@10.0.2.10:6432/oms"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key, value in {"SECRET_KEY": SECRET_KEY, "SIGNING_KEY_PASSPHRASE": PASSPHRASE, "AUDIT_KEY": AUDIT_KEY}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", PRIMARY)
    return monkeypatch


def test_replicas_are_separated_by_commas_or_spaces(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv(
        "DATABASE_REPLICA_URLS", " postgresql+psycopg://a/oms,postgresql+psycopg://b/oms \n postgresql+psycopg://c/oms"
    )
    settings = config.from_environment(str(tmp_path))
    assert settings["DATABASE_REPLICA_URLS"] == [f"postgresql+psycopg://{host}/oms" for host in "abc"]
    assert settings["MAX_REPLICA_LAG"] == config.DEFAULT_MAX_REPLICA_LAG
    assert settings["DATABASE_POOLER"] == ""


def test_without_replicas_nothing_changes(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv("DATABASE_REPLICA_URLS", " ")
    assert config.from_environment(str(tmp_path))["DATABASE_REPLICA_URLS"] == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_REPLICA_URLS", "postgresql+psycopg://r/oms mysql://u:hunter2@r/oms", "адрес №2 — не postgresql"),
        ("DATABASE_REPLICA_URLS", "not a url:hunter2", "адрес №1 — не postgresql"),
        ("MAX_REPLICA_LAG", "0", "MAX_REPLICA_LAG: целое число, не меньше 1"),
        ("MAX_REPLICA_LAG", "2.5", "MAX_REPLICA_LAG: целое число"),
        ("DATABASE_POOLER", "pgbouncer", "DATABASE_POOLER: одно из '', 'pgbouncer-transaction'"),
        ("JOB_QUEUE_URL", "10.0.2.20:6379?password=hunter2", "JOB_QUEUE_URL должен начинаться с redis://"),
        ("JOB_QUEUE_NAME", "oms:registry", "JOB_QUEUE_NAME: от 1 до 64 латинских букв"),
    ],
)
def test_a_bad_setting_is_named_without_its_url(
    environment: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, message: str
) -> None:
    environment.setenv(name, value)
    with pytest.raises(config.SettingError, match=message) as refused:
        config.from_environment(str(tmp_path))
    assert "hunter2" not in str(refused.value)


def test_replicas_need_a_postgresql_primary(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'oms.sqlite'}")
    environment.setenv("DATABASE_REPLICA_URLS", "postgresql+psycopg://r/oms")
    with pytest.raises(config.SettingError, match="требует DATABASE_URL базы PostgreSQL"):
        config.from_environment(str(tmp_path))


def test_each_replica_is_a_bind_of_reads_in_autocommit(tmp_path: Path) -> None:
    app = make_app(
        f"sqlite:///{tmp_path / 'oms.sqlite'}",
        DATABASE_REPLICA_URLS=["postgresql+psycopg://r1/oms", "postgresql+psycopg://r2/oms?connect_timeout=7"],
    )
    binds = app.config["SQLALCHEMY_BINDS"]
    assert set(binds) == {READS_BIND, "replica-1", "replica-2"}
    assert binds["replica-1"]["isolation_level"] == "AUTOCOMMIT"
    assert binds["replica-1"]["connect_args"] == {"connect_timeout": 2, "application_name": "oms-verification-reads"}
    assert binds["replica-2"]["connect_args"] == {"application_name": "oms-verification-reads"}, "the URL's own wins"
