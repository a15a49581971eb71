"""Shared by bench/load.py and bench/soak.py: cached registries, gunicorn on loopback, wrk, and /proc.

The registry of N generated persons is built once with bench/registry.py's generator and import
(SQLite, kept as bench/.cache/registry-N.sqlite) and copied table by table into PostgreSQL (kept as
the database `oms_bench_cache_N`). Each run works on a copy (a file copy, or CREATE DATABASE … TEMPLATE), so the
cache stays as imported. Every server and client started here is bounded in time and stopped on
exit, Ctrl-C or an error. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import psycopg
import registry
from flask import Flask
from flask_login.utils import _create_identifier

from webapp import create_app
from webapp.db import partitions
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import User
from webapp.registry import accounts, login_sessions
from webapp.registry.clock import today_in_moscow
from webapp.web.auth import SESSION_ID

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / ".cache"
WRK_SCRIPTS = BENCH / "wrk"
GUNICORN = Path(sys.executable).parent / "gunicorn"
HOST = "127.0.0.1"
#: The secrets registry.registry_app imports with: the signing keys in the cache are encrypted with it.
SECRET_KEY = registry.SECRET_KEY
PASSPHRASE = registry.PASSPHRASE
#: Every request of the benchmark clients carries this User-Agent: Flask-Login's strong session
#: protection ties a session to the address and User-Agent it was made for.
USER_AGENT = "oms-bench/1"
ENGINES = ("sqlite", "postgresql")
#: Clinic systems the verification traffic comes from, each with its own token and under the production
#: limit of 600 a minute: at the highest rate measured (~1,600/s) each sends about 3 a second.
CLINIC_SYSTEMS = 500


def note(message: str) -> None:
    registry.note(message)


def require_wrk() -> None:
    """Stop with the install command, not a traceback, when the load generator is missing."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every `finally` (and gunicorn's shutdown) runs."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- the machine --------------------------------------------------------------


def machine() -> str:
    """Cores, CPU model and memory as /proc gives them."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "unknown CPU",
    )
    total_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"{os.cpu_count()} cores ({model}), {total_kib / 2**20:.1f} GiB memory, "
        f"load average {' '.join(load)} at start, Python {sys.version.split()[0]}"
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for {pid}")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far (those that have exited count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def database_server_pids() -> list[int]:
    """PostgreSQL's processes on this machine: the server, its backends and helpers."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return sorted(found)


# --- cached registries ----------------------------------------------------------


def pg_name(people: int) -> str:
    return f"oms_bench_cache_{people}"


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@{HOST}:5432/{name}"


def postgres_unreachable() -> str | None:
    try:
        with psycopg.connect(registry.PG_ADMIN):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


def _pg_exists(admin: psycopg.Connection, name: str) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _import(url: str, people: int, engine: str) -> None:
    with tempfile.TemporaryDirectory(prefix="oms_bench_csv_") as folder:
        csv_path = Path(folder) / "registry.csv"
        note(f"{engine}: generating {people:,} registry rows (first run only; cached afterwards)")
        registry.write_csv(csv_path, people, today_in_moscow(datetime.now(UTC)))
        with registry.registry_app(url):
            started = time.perf_counter()
            report = registry.bulk_import.import_csv(csv_path, registry.ACTOR, registry.ImportProgress(engine, people))
            note(f"{engine}: imported {report.created:,} in {time.perf_counter() - started:.0f} s")
            if report.errors:
                raise RuntimeError(f"import refused {len(report.errors)} rows: {report.errors[:3]}")


def cached_registry(engine: str, people: int) -> None:
    """Build the cached registry of `people` persons on `engine` unless it is there already."""
    CACHE.mkdir(exist_ok=True)
    if engine == "sqlite":
        final = CACHE / f"registry-{people}.sqlite"
        if final.exists():
            return
        partial = CACHE / f"registry-{people}.partial.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        _import(f"sqlite:///{partial}", people, engine)
        partial.rename(final)  # only a finished import becomes the cache
        return
    name = pg_name(people)
    with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
        if _pg_exists(admin, name):
            return
    cached_registry("sqlite", people)
    with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_partial" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}_partial"')
    _copy_tables(CACHE / f"registry-{people}.sqlite", f"{name}_partial")
    with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}_partial" RENAME TO "{name}"')


def _copy_tables(source: Path, target_name: str) -> None:
    """Copy every table of the SQLite registry into a fresh PostgreSQL one (COPY, sequences reset).

    The same rows, codes and encrypted keys: the PostgreSQL cache need not sign a million codes again,
    which took ~300 s on an idle machine (bench/registry.py measures that import). Values go as
    SQLite stores them (ISO dates, 0/1, JSON text) and PostgreSQL reads them as its column types.
    """
    migrated(pg_url(target_name))
    dsn = registry.PG_ADMIN.replace("dbname=postgres", f"dbname={target_name}")
    with contextlib.closing(sqlite3.connect(source)) as reading, psycopg.connect(dsn) as target:
        target.execute("SET session_replication_role = replica")  # rows arrive whole; skip FK triggers
        for table in db.metadata.sorted_tables:
            columns = ", ".join(column.name for column in table.columns)
            started = time.perf_counter()
            rows = reading.execute(f"SELECT {columns} FROM {table.name}")
            with target.cursor().copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                while batch := rows.fetchmany(10_000):
                    for row in batch:
                        copy.write_row(row)
            if "id" in table.columns:
                target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                )
            note(f"  postgresql: copied {table.name} in {time.perf_counter() - started:.1f} s")
            if table.name == "regions":  # before their rows: each region's partitions (webapp/db/partitions.py)
                for (code,) in target.execute("SELECT code FROM regions").fetchall():
                    for statement in partitions.region_ddl(code):
                        target.execute(statement)
        target.execute("ANALYZE")


@contextlib.contextmanager
def working_copy(engine: str, people: int) -> Iterator[str]:
    """A throw-away copy of the cached registry, migrated to the current schema; its URL."""
    cached_registry(engine, people)
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="oms_bench_run_") as folder:
            path = Path(folder) / "registry.sqlite"
            shutil.copyfile(CACHE / f"registry-{people}.sqlite", path)
            yield migrated(f"sqlite:///{path}")
        return
    name = f"oms_bench_run_{os.getpid()}"
    with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_name(people)}"')
    try:
        yield migrated(pg_url(name))
    finally:
        with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated(url: str) -> str:
    with bench_app(url):
        flask_migrate.upgrade()
    return url


def bench_config(url: str) -> dict[str, object]:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET_KEY,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        **registry.audit_settings(url),
        "RATELIMIT_STORAGE_URI": "memory://",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 8192,
    }


@contextlib.contextmanager
def bench_app(url: str) -> Iterator[Flask]:
    """The app in this process, on the server's database and secrets, inside an app context.

    For setting up (tokens, users) and checking afterwards. Passwords it sets are hashed cheaply:
    the benchmark's citizens never log in with them.
    """
    app = create_app(bench_config(url))
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            dispose_engines()


def clinic_tokens(count: int = CLINIC_SYSTEMS) -> list[str]:
    """Bearer tokens for `count` clinic systems, made inside `bench_app`."""
    return [accounts.create_token(registry.CLINIC, f"bench system {n}", registry.ACTOR)[1] for n in range(count)]


def with_tokens(codes: list[str], tokens: list[str]) -> list[tuple[str, str]]:
    """Each code with the clinic token it is sent with: code i with token i mod len(tokens), as
    bench/wrk/verify.lua pairs them."""
    return [(code, tokens[index % len(tokens)]) for index, code in enumerate(codes)]


def verify_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def session_cookie(app: Flask, user: User) -> str:
    """The session cookie `user` would hold after logging in from USER_AGENT on 127.0.0.1: it names a live
    session record (webapp/registry/login_sessions.py), without which nobody is logged in."""
    environ = {"REMOTE_ADDR": HOST, "HTTP_USER_AGENT": USER_AGENT}
    with app.test_request_context("/", environ_base=environ):
        content = {
            "_user_id": str(user.id),
            "_fresh": True,
            "_id": _create_identifier(),
            "_permanent": True,
            SESSION_ID: login_sessions.start(user, user.password_hash),
        }
        return app.session_interface.get_signing_serializer(app).dumps(content)


# --- gunicorn -----------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def workers(self) -> list[int]:
        return children(self.process.pid)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


RATELIMIT_STORAGE_URI = os.environ.get("BENCH_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14")


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        **registry.audit_settings(url),
        # Several workers share their limits through Redis, as in production (README.md, "Configuration").
        "RATELIMIT_STORAGE_URI": RATELIMIT_STORAGE_URI,
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
    }


@contextlib.contextmanager
def gunicorn(
    app_spec: str, url: str, workers: int = 2, log_folder: Path | None = None, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """`gunicorn --workers N` on a free loopback port, serving `app_spec` from bench/_wsgi.py, with `settings`
    added to its environment (DATABASE_REPLICA_URLS, say).

    It runs in its own session, so the terminal's Ctrl-C reaches only this script, which then stops
    gunicorn (SIGTERM, SIGKILL after 15 s) on the way out, whatever the reason for leaving.
    """
    port = free_port()
    folder = log_folder or Path(tempfile.gettempdir())
    log = folder / f"gunicorn-{port}.log"
    command = [
        str(GUNICORN),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--pythonpath",
        f"{BENCH},{ROOT}",
        "--chdir",
        str(ROOT),
        "--log-level",
        "warning",
        "--worker-tmp-dir",
        "/dev/shm",
        "--timeout",
        "60",
        app_spec,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=server_env(url) | (settings or {}),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}; see {server.log}")
        with contextlib.suppress(OSError):
            status, _ = request(server.port, "GET", "/healthz")
            if status == 200 and len(server.workers()) > 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {server.log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One HTTP request to the server on loopback (a fresh connection, 10 s timeout)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- wrk ----------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # connect, read, write and timeout errors, and statuses other than 2xx/3xx

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(
    server: Server,
    script: str,
    args: list[str],
    seconds: float,
    connections: int,
    pause_ms: float = 0.0,
) -> WrkResult:
    """Run wrk (one thread) for `seconds` with `script` from bench/wrk; its done() prints one JSON line.

    `pause_ms` > 0 paces each connection (bench/wrk/common.lua, BENCH_THINK_MS).
    """
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--script",
        str(WRK_SCRIPTS / script),
        server.url,
        "--",
        *args,
    ]
    env = {**os.environ, "BENCH_THINK_MS": f"{pause_ms:.3f}"}
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False, env=env)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip() or finished.stdout[-500:]}")
    data = json.loads(lines[-1])
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=data["errors"],
    )


def lines_file(folder: Path, name: str, lines: list[str]) -> str:
    """Write `lines` for a wrk script to read; the path."""
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return str(path)
