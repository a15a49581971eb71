"""docs/deploy/'s example files, each checked by the program that reads it: PostgreSQL runs the test cluster on
its postgresql.conf files and parses its pg_hba.conf, PgBouncer (test_pgbouncer.py) and redis-server run on
theirs, systemd checks the units, gunicorn loads its settings and the app, and webapp/config.py reads the
environment files. Only the lines each file marks as the machine's are replaced."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from tests.helpers.registry import PASSPHRASE, SECRET_KEY
from tests.helpers.replication import Cluster
from tests.replication import servers
from tests.webapp.databases import AUDIT_KEY
from webapp import config

APP = servers.DEPLOY / "app"
VENV_BIN = Path(sys.executable).parent


def setting(server: servers.Postgres, name: str) -> tuple[str, str]:
    """A setting's value and the file it came from."""
    with server.connect("postgres") as connection:
        row = connection.execute("SELECT setting, sourcefile FROM pg_settings WHERE name = %s", [name]).fetchone()
    assert row is not None
    return row[0], row[1]


def test_the_cluster_runs_on_the_example_postgresql_conf_files(cluster: Cluster) -> None:
    for server, example, names in (
        (cluster.primary, servers.PRIMARY_CONF, ("wal_level", "max_wal_senders", "max_slot_wal_keep_size")),
        (cluster.standby, servers.REPLICA_CONF, ("hot_standby", "hot_standby_feedback", "max_standby_streaming_delay")),
    ):
        for name in names:
            _, source = setting(server, name)
            assert Path(source).read_bytes() == example.read_bytes(), f"{name} comes from {example.name}"
    assert setting(cluster.primary, "wal_level")[0] == "replica"
    assert setting(cluster.standby, "hot_standby_feedback")[0] == "on"
    assert setting(cluster.standby, "max_standby_streaming_delay")[0] == "1000"
    assert cluster.standby.value("SELECT pg_is_in_recovery()")
    assert cluster.primary.value(f"SELECT active FROM pg_replication_slots WHERE slot_name = '{servers.SLOT}'")


def test_postgresql_parses_the_example_pg_hba_conf(cluster: Cluster) -> None:
    """pg_hba_file_rules reads the file on disk as it is now, without loading it: the example is put in the
    primary's place for the query, and the test's own put back."""
    in_use = cluster.primary.data / "pg_hba.conf"
    kept = in_use.read_bytes()
    try:
        shutil.copyfile(servers.DEPLOY / "postgresql" / "pg_hba.conf", in_use)
        with cluster.primary.connect("postgres") as connection:
            rules = connection.execute(
                "SELECT type, database, user_name, address, auth_method, error FROM pg_hba_file_rules"
            ).fetchall()
    finally:
        in_use.write_bytes(kept)
    assert [rule for rule in rules if rule[5]] == []
    assert ("host", ["replication"], ["replicator"], "10.0.1.11", "scram-sha-256", None) in rules
    assert {rule[4] for rule in rules} == {"peer", "scram-sha-256"}, "no trust, no md5"


def test_pgbouncer_starts_on_the_example_without_a_complaint(cluster: Cluster) -> None:
    if not servers.PGBOUNCER.is_file():
        pytest.skip(f"PgBouncer not at {servers.PGBOUNCER} (Debian: apt-get install pgbouncer)")
    with servers.pgbouncer({"oms": cluster.primary, "oms_replica_1": cluster.standby}) as bouncer:
        with bouncer.connect("pgbouncer") as console:
            settings = {row[0]: row[1] for row in console.execute("SHOW CONFIG")}
        log = bouncer.log.read_text()
    assert settings["pool_mode"] == "transaction"
    assert settings["ignore_startup_parameters"] == "extra_float_digits"
    assert not re.search(r"\b(WARNING|ERROR|FATAL)\b", log), log


def test_redis_runs_on_the_example(tmp_path: Path) -> None:
    if not servers.REDIS_SERVER.is_file():
        pytest.skip(f"redis-server not at {servers.REDIS_SERVER} (Debian: apt-get install redis-server)")
    port = servers.free_port()
    machine = {
        "bind": "127.0.0.1",
        "port": str(port),
        "supervised": "no",
        "pidfile": str(tmp_path / "redis.pid"),
        "logfile": str(tmp_path / "redis.log"),
        "dir": str(tmp_path),
    }
    assert list(machine) == servers.this_machine(servers.REDIS_CONF)
    arguments = [part for name, value in machine.items() for part in (f"--{name}", value)]
    process = subprocess.Popen([str(servers.REDIS_SERVER), str(servers.REDIS_CONF), *arguments])
    try:
        password = re.search(r"^requirepass (\S+)$", servers.REDIS_CONF.read_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
        client = redis.Redis(port=port, password=password)
        deadline = time.monotonic() + 10
        while True:
            try:
                assert client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, (tmp_path / "redis.log").read_text()
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "unit",
    ["oms-web.service", "oms-worker@.service", "oms-revocation-snapshot.service", "oms-revocation-snapshot.timer"],
)
def test_systemd_accepts_the_units(unit: str, tmp_path: Path) -> None:
    """systemd-analyze verify, with the programs where this checkout has them (it checks that they exist)."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    for name in {unit, unit.replace(".timer", ".service")}:  # a timer is checked with the service it starts
        copied = tmp_path / name.replace("@.", "@1.")
        copied.write_text((APP / name).read_text().replace("/srv/oms/.venv/bin/", f"{VENV_BIN}/"))
    copy = tmp_path / unit.replace("@.", "@1.")
    checked = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == "", "no unknown key, no bad value"


def environment(*names: str) -> dict[str, str]:
    """The KEY=value lines of docs/deploy/app's environment files, later files overriding earlier ones."""
    values: dict[str, str] = {}
    for name in names:
        for line in (APP / name).read_text().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key] = value
    return values


def test_the_example_environment_is_a_configuration_the_app_accepts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in environment("oms.env", "secrets.env").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(config.SettingError, match="SECRET_KEY слишком слабый"):
        config.from_environment(str(tmp_path / "placeholders"))  # the placeholders must be replaced
    for key, value in {"SECRET_KEY": SECRET_KEY, "SIGNING_KEY_PASSPHRASE": PASSPHRASE, "AUDIT_KEY": AUDIT_KEY}.items():
        monkeypatch.setenv(key, value)
    web = config.from_environment(str(tmp_path / "web"))
    assert web["DATABASE_REPLICA_URLS"] == ["postgresql+psycopg://oms_app@10.0.2.10:6432/oms_replica_1"]
    assert web["DATABASE_POOLER"] == "pgbouncer-transaction"
    assert web["MAX_REPLICA_LAG"] == 5
    assert web["PROXY_HOPS"] == 1
    for url in (web["SQLALCHEMY_DATABASE_URI"], *web["DATABASE_REPLICA_URLS"]):
        assert make_url(url).password is None, "PGPASSFILE holds the password, not the URL"
    monkeypatch.setenv("DATABASE_URL", environment("worker.env")["DATABASE_URL"])
    worker = config.from_environment(str(tmp_path / "worker"))
    assert worker["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://oms_app@10.0.1.10:5432/oms"


def test_gunicorn_loads_its_settings_and_the_app(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'oms.sqlite'}",
        "SECRET_KEY": SECRET_KEY,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        "AUDIT_KEY": AUDIT_KEY,
        "AUDIT_CHECKPOINT": str(tmp_path / "checkpoint.json"),
    }
    # A server refuses a database behind its migrations (webapp/startup.py): the release's `db upgrade` comes first.
    upgraded = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "webapp", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    checked = subprocess.run(
        [
            str(VENV_BIN / "gunicorn"),
            "--check-config",
            "--config",
            str(APP / "gunicorn.conf.py"),
            "webapp:create_app()",
        ],
        cwd=servers.DEPLOY.parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
