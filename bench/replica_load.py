"""Verification with its reads on a streaming standby, against the same app reading the primary, in one run.

Run from the repository root: `.venv/bin/python bench/replica_load.py` (1,000,000 persons; `--quick`: 20,000,
short rounds). Issue 19's figure: verify p99 at 80 % of peak, 1M registry, reads on a replica (goal ≤ 10 ms).

A PostgreSQL 15 primary and its hot standby of this run's own (tests/replication/servers.py: initdb,
pg_basebackup, pg_ctl, on free ports in a temp folder), the cached registry of bench/_server.py restored into
the primary with pg_dump | pg_restore and streamed to the standby. Then, for each way of reading, gunicorn
(2 workers) as bench/load.py runs it: GET /healthz and POST /api/v1/verify at their peak with wrk, and
verification open loop at 80 % of its own peak (bench/open_loop.py):

- `primary`: DATABASE_URL only, every read on the primary (the baseline);
- `replica`: DATABASE_REPLICA_URLS names the standby; /healthz must say verification reads go there.

Both on the same machine as the servers and the clients: the standby's replay and the primary share the two
cores, so the figure is what one machine does, not what separate ones would.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import load
from _server import note

from tests.replication import servers

#: Sizes for the bench's own servers, in place of the tests' small ones: the registry is ~1 GB at 1,000,000.
SIZES = {"shared_buffers": "512MB", "effective_cache_size": "2GB", "max_connections": "100"}
MODES = ("primary", "replica")


def cluster_with_registry(root: Path, people: int, running: list[servers.Postgres]) -> None:
    """A primary holding the cached registry of `people` persons, migrated, and its streaming standby, added to
    `running` as each starts."""
    _server.cached_registry("postgresql", people)
    primary = servers.make_primary(root)
    running.append(primary)
    with open(primary.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("".join(f"{key} = '{value}'\n" for key, value in SIZES.items()))
    primary.stop()
    primary.start()
    note(f"restoring the cached registry of {people:,} into the bench's primary")
    started = time.perf_counter()
    dump = subprocess.Popen(
        ["pg_dump", "-Fc", "-h", _server.HOST, "-U", "postgres", "-d", _server.pg_name(people)],
        stdout=subprocess.PIPE,
    )
    restore = subprocess.run(
        ["pg_restore", "--no-owner", "-h", _server.HOST, "-p", str(primary.port), "-U", "postgres",
         "-d", servers.DATABASE],
        stdin=dump.stdout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if dump.wait() != 0 or restore.returncode != 0:
        raise RuntimeError(f"pg_dump | pg_restore failed: {restore.stderr[-2000:]}")
    _server.migrated(primary.url())
    with primary.connect() as connection:
        connection.execute("ANALYZE")
    note(f"restored in {time.perf_counter() - started:.0f} s; making the standby")
    running.append(servers.make_standby(root, primary))
    servers.wait_for_replay(primary, running[1], timeout=600)


def reads_from(server: _server.Server) -> str:
    status, answer = _server.request(server.port, "GET", "/healthz")
    if status != 200:
        raise RuntimeError(f"/healthz answered {status}: {answer[:200]!r}")
    return str(json.loads(answer).get("verification_reads", "primary"))


def run_mode(
    mode: str, primary: servers.Postgres, standby: servers.Postgres, fixture: load.Fixture, settings: load.Settings
) -> load.EngineResult:
    url = primary.url()
    extra = {"DATABASE_REPLICA_URLS": standby.url()} if mode == "replica" else {}
    endpoints = [
        load.Endpoint(load.HEALTHZ, "get.lua", ["/healthz"]),
        load.Endpoint(load.VERIFY, "verify.lua", [load.VERIFY_PATH, fixture.codes_file, fixture.tokens_file]),
    ]
    with _server.gunicorn("_wsgi:real()", url, settings=extra) as server:
        load.check_answers(server, fixture)
        where = reads_from(server)
        if (mode == "replica") != (where != "primary"):
            raise RuntimeError(f"{mode}: /healthz says verification reads go to {where}")
        note(f"{mode}: verification reads go to {where}; {settings.rounds} rounds of {settings.seconds:g} s")
        measured = load.measure(server, endpoints, settings)
        note(f"{mode}: verification, open loop at {load.PACED_SHARE:.0%} of its peak")
        pace = load.paced(server, fixture, measured[load.VERIFY].rate, settings)
    return load.EngineResult(mode, settings.people, fixture.citizens, measured, pace)


def print_results(results: list[load.EngineResult]) -> None:
    print(f"\n{'reads from':<12} {'healthz/s':>10} {'verify/s':>9} {'× healthz':>10} {'paced/s':>8} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")  # fmt: skip
    for r in results:
        paced = r.paced.result
        print(
            f"{r.engine:<12} {r.rate(load.HEALTHZ):>10,.0f} {r.rate(load.VERIFY):>9,.0f} {r.verify_share:>10.3f} "
            f"{paced.rate:>8,.0f} {paced.latency(lambda run: run.p50_ms):>7.1f} {r.paced_p99:>7.1f} {r.errors:>7}"
        )
    replica = results[-1]
    print(
        f"goal: verify p99 ≤ 10 ms at {load.PACED_SHARE:.0%} of peak, reads on the replica: "
        f"{replica.paced_p99:.1f} ms {load.verdict(replica.paced_p99 <= 10)}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 persons, one short round: a smoke run")
    args = parser.parse_args(argv)
    settings = load.QUICK if args.quick else load.FULL
    if reason := servers.missing() or _server.postgres_unreachable():
        sys.exit(f"cannot run: {reason}")
    _server.require_wrk()
    _server.stop_on_sigterm()
    started = time.perf_counter()
    print(_server.machine())
    root = servers.private_folder("oms-bench-replica-")
    running: list[servers.Postgres] = []
    try:
        cluster_with_registry(root, settings.people, running)
        primary, standby = running
        with tempfile.TemporaryDirectory(prefix="oms_replica_load_") as folder:
            fixture = load.prepare(primary.url(), Path(folder), settings)
            servers.wait_for_replay(primary, standby, timeout=120)
            results = [run_mode(mode, primary, standby, fixture, settings) for mode in MODES]
        print_results(results)
    finally:
        for server in reversed(running):
            if server.running():
                server.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\npersons {settings.people:,}; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
