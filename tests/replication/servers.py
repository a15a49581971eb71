"""Real servers of the tests' own, on free ports in a temp folder: a PostgreSQL 15 primary and a streaming hot
standby (initdb, pg_basebackup, pg_ctl), Debian's PgBouncer, and Debian's redis-server, each on the
example configuration of docs/deploy/ with only its machine-specific lines replaced."""

from __future__ import annotations

import configparser
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_TOOLS = ("initdb", "pg_basebackup", "pg_ctl")
PGBOUNCER = Path(shutil.which("pgbouncer") or "/usr/sbin/pgbouncer")
REDIS_SERVER = Path(shutil.which("redis-server") or "/usr/bin/redis-server")
DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
PRIMARY_CONF = DEPLOY / "postgresql" / "primary.conf"
REPLICA_CONF = DEPLOY / "postgresql" / "replica.conf"
PGBOUNCER_INI = DEPLOY / "pgbouncer" / "pgbouncer.ini"
REDIS_CONF = DEPLOY / "redis" / "redis.conf"
#: The slot pg_basebackup makes for the standby, as docs/deploy/postgresql/replica.conf's instructions do.
SLOT = "replica_1"
DATABASE = "oms"
#: What the servers may take on this small shared machine, for the example's sizes marked "machine".
SMALL = {
    "shared_buffers": "32MB",
    "effective_cache_size": "128MB",
    "maintenance_work_mem": "64MB",
    "max_connections": "60",
}


def missing() -> str | None:
    """Why these servers cannot run here, or None."""
    tools = [tool for tool in PG_TOOLS if not (PG_BIN / tool).is_file()]
    if tools:
        return f"PostgreSQL 15's {', '.join(tools)} not in {PG_BIN} (Debian: apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run initdb and pg_ctl as"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL's tools refuse to run as root: as root, run them as postgres."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip() or done.stdout}")


def private_folder(prefix: str) -> Path:
    """A temp folder only the servers' user can enter. As root, in postgres's home: root's /tmp need not let
    postgres through."""
    if os.geteuid() != 0:
        return Path(tempfile.mkdtemp(prefix=prefix))
    owner = pwd.getpwnam("postgres")
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=owner.pw_dir if Path(owner.pw_dir).is_dir() else "/var/tmp"))
    os.chown(folder, owner.pw_uid, owner.pw_gid)
    return folder


def _give_to_owner(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def machine_settings(example: Path) -> set[str]:
    """The settings of an example postgresql.conf marked `# machine`: what a deployment (and the tests) set."""
    marked = re.compile(r"^\s*(\w+)\s*=.*#\s*machine\b")
    return {match.group(1) for line in example.read_text().splitlines() if (match := marked.match(line))}


def this_machine(example: Path, comment: str = "#") -> list[str]:
    """The settings under the example's "This machine." heading, down to the first empty line."""
    lines = example.read_text().splitlines()
    start = lines.index(f"{comment} This machine.") + 1
    block = lines[start : lines.index("", start)]
    return [re.split(r"[\s=]", line, maxsplit=1)[0] for line in block if not line.startswith(comment)]


@dataclass
class Postgres:
    name: str
    data: Path
    port: int
    sockets: Path

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.name}.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def libpq(self, database: str = DATABASE) -> str:
        """The database's address as libpq's tools (pg_dump, psql) take it."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def connect(self, database: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)

    def value(self, query: str, database: str = DATABASE) -> Any:
        with self.connect(database) as connection:
            row = connection.execute(query).fetchone()
            return row[0] if row else None

    def start(self) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])

    def stop(self) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def include(self, example: Path, overrides: dict[str, str]) -> None:
        """Append to postgresql.conf a copy of `example`, then `overrides`: the example's machine lines, exactly."""
        assert set(overrides) == machine_settings(example), "the tests replace exactly the lines marked machine"
        copy = self.data.parent / f"{self.name}-{example.name}"
        shutil.copyfile(example, copy)
        _give_to_owner(copy)
        lines = [f"include '{copy}'", *(f"{key} = '{value}'" for key, value in overrides.items())]
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# The tests' servers (tests/replication/servers.py)\n" + "\n".join(lines) + "\n")

    def machine(self) -> dict[str, str]:
        """This test server's values for the example's machine lines."""
        return {"listen_addresses": "127.0.0.1", "port": str(self.port), **SMALL}


def make_primary(root: Path) -> Postgres:
    primary = Postgres("primary", root / "primary", free_port(), root)
    _run([str(PG_BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
          "--locale=C.UTF-8"])  # fmt: skip
    settings = primary.machine()
    primary.include(PRIMARY_CONF, {key: settings[key] for key in machine_settings(PRIMARY_CONF)})
    with open(primary.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(f"unix_socket_directories = '{root}'\n")
    # Trust on loopback, replication included: the example pg_hba.conf wants passwords and other addresses.
    (primary.data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
    )
    primary.start()
    with primary.connect("postgres") as connection:
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return primary


def make_standby(root: Path, primary: Postgres) -> Postgres:
    """A hot standby made as docs/deploy/postgresql/replica.conf says: pg_basebackup -X stream -R -C -S."""
    standby = Postgres("standby", root / "standby", free_port(), root)
    _run([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
          "-D", str(standby.data), "-X", "stream", "-R", "-C", "-S", SLOT, "-c", "fast"])  # fmt: skip
    settings = standby.machine()
    standby.include(REPLICA_CONF, {key: settings[key] for key in machine_settings(REPLICA_CONF)})
    standby.start()
    deadline = time.monotonic() + 30
    while primary.value("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the standby is not streaming; see {standby.log}")
        time.sleep(0.1)
    return standby


def make_restored_standby(root: Path, primary: Postgres, name: str, port: int, streaming: bool = False) -> Postgres:
    """A standby restored from a base backup of `primary` taken now, without a replication slot. Unless
    `streaming`, it cannot reach the primary: in recovery, at the backup's position for as long as it runs (a
    replica restored from an older backup, or cut off from its primary). Not started; it listens on `port`."""
    standby = Postgres(name, root / name, port, root)
    _run([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
          "-D", str(standby.data), "-X", "stream", "-R", "-c", "fast"])  # fmt: skip
    settings = {**standby.machine(), "hot_standby": "on", "unix_socket_directories": str(root)}
    with open(standby.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("".join(f"{key} = '{value}'\n" for key, value in settings.items()))
    if not streaming:
        with open(standby.data / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.write(f"primary_conninfo = 'host=127.0.0.1 port={free_port()} user=postgres'\n")  # nobody there
    return standby


def wait_for_replay(primary: Postgres, standby: Postgres, timeout: float = 30) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = primary.value("SELECT pg_current_wal_insert_lsn()")
    deadline = time.monotonic() + timeout
    while not standby.value(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
        if time.monotonic() > deadline:
            raise RuntimeError("the standby did not catch up")
        time.sleep(0.05)


@dataclass
class PgBouncer:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.folder / "pgbouncer.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)


def pgbouncer_config(example: Path, folder: Path, port: int, databases: dict[str, Postgres]) -> str:
    """The example pgbouncer.ini with its [databases] and the settings under "This machine" replaced."""
    ini = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read_string(example.read_text())
    ini["databases"] = {
        name: f"host=127.0.0.1 port={server.port} dbname={DATABASE}" for name, server in databases.items()
    }
    machine = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "logfile": str(folder / "pgbouncer.log"),
        "pidfile": str(folder / "pgbouncer.pid"),
        "auth_type": "trust",
        "auth_file": str(folder / "userlist.txt"),
        # The tests' servers know only postgres; the example's app user is oms_app.
        "stats_users": "postgres",
    }
    assert set(machine) - {"stats_users"} == set(this_machine(example, ";")), "exactly the machine's lines"
    ini["pgbouncer"].update(machine)
    lines = []
    for section in ini.sections():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in ini[section].items())
    return "\n".join(lines) + "\n"


@contextmanager
def pgbouncer(databases: dict[str, Postgres]) -> Iterator[PgBouncer]:
    """Debian's PgBouncer on docs/deploy/pgbouncer/pgbouncer.ini, in front of `databases`."""
    folder = private_folder("oms-pgbouncer-")
    port = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(pgbouncer_config(PGBOUNCER_INI, folder, port, databases))
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    for path in (config, folder / "userlist.txt"):
        _give_to_owner(path)
    as_postgres = ["-u", "postgres"] if os.geteuid() == 0 else []  # it drops root itself, and stays our child
    process = subprocess.Popen(
        [str(PGBOUNCER), *as_postgres, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    server = PgBouncer(port, folder, process)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                server.connect("pgbouncer").close()
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = server.log.read_text() if server.log.exists() else "(no log)"
                    raise RuntimeError(f"PgBouncer did not start: {log}") from None
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
