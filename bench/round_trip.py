"""What one registry read costs a verification, on SQLite and on PostgreSQL, against a read of nothing.

Run from the repository root: `.venv/bin/python bench/round_trip.py [--people N] [--reads N]`
(default: bench/load.py's cached 1,000,000-person registry on both engines). In this process, through
the app's own read path (`webapp.single_reads.first_row`, the kept connection of the `reads` bind), it
reads in turn:

- the registry row a verification reads (`webapp.registry.verification.registry_read`, five tables joined by
  unique keys) for 2,000 random persons;
- `SELECT 1`: the same path and the same round trip, with nothing to find. On PostgreSQL that is the
  least any read can cost;
- the registry row again, with a code decoded and its signature checked before each read (not timed),
  as in a verification: the decode's work pushes the read's memory out of the CPU caches.

Each figure is the median of ROUNDS rounds: wall time and the CPU time of this process around each read
(the client, as a gunicorn worker would spend it), and on PostgreSQL the CPU time of the server's
processes over the round, per read. Reading the clocks around each read adds about a microsecond, the
same to every row. The kernel counts the server's CPU time in 10 ms ticks, so a round is thousands of
reads.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import registry
from sqlalchemy import Select, literal, select

from policy_codes import decode
from webapp.db import prepared_reads
from webapp.extensions import db
from webapp.registry import verification
from webapp.registry.keys import keystore

ROUNDS = 5
NOTHING: Select[Any] = select(literal(1).label("one"))


@dataclass(frozen=True)
class PerRead:
    wall_us: float
    client_us: float
    server_us: float

    @property
    def cpu_us(self) -> float:
        return self.client_us + self.server_us


def timed(engine: str, read: Callable[[], object], reads: int, between: Callable[[], object] | None = None) -> PerRead:
    """Median per read over ROUNDS rounds of `reads` reads each; `between`, if given, runs before each
    read and is not timed (the server's CPU is counted for the whole round: `between` does not use it)."""
    rounds = []
    for _ in range(ROUNDS):
        server_pids = _server.database_server_pids() if engine == "postgresql" else []
        server, client, wall = _server.cpu_seconds(server_pids), 0.0, 0.0
        for _ in range(reads):
            if between is not None:
                between()
            client_start, wall_start = time.process_time(), time.perf_counter()
            read()
            wall, client = wall + time.perf_counter() - wall_start, client + time.process_time() - client_start
        server = _server.cpu_seconds(server_pids) - server
        rounds.append(PerRead(wall / reads * 1e6, client / reads * 1e6, server / reads * 1e6))
    return PerRead(
        statistics.median(r.wall_us for r in rounds),
        statistics.median(r.client_us for r in rounds),
        statistics.median(r.server_us for r in rounds),
    )


def measure(engine: str, people: int, reads: int) -> dict[str, PerRead]:
    with _server.working_copy(engine, people) as url, _server.bench_app(url):
        enps, texts = registry.verification_sample(people)
        trust_list = keystore.cached_trust_list()
        signer = decode(texts[0], trust_list).key.kid.hex()
        region = verification._insurer_region(decode(texts[0], trust_list).claims.insurer_code, db.session)
        read = verification.registry_read(region)
        persons = itertools.cycle([{"enp": enp, "serial": 1, "signer": signer} for enp in enps])
        codes = itertools.cycle(texts)
        if prepared_reads.first_row(read, next(persons)) is None:
            raise RuntimeError(f"{engine}: the sample's codes are not in the registry")
        for _ in range(500):  # warm-up: the kept connection, compiled statements, server-side plans
            prepared_reads.first_row(read, next(persons))
            prepared_reads.first_row(NOTHING, {})

        def registry_row() -> None:
            prepared_reads.first_row(read, next(persons))

        def decode_a_code() -> None:
            decode(next(codes), trust_list, datetime.now(UTC))

        return {
            "registry row (5 tables)": timed(engine, registry_row, reads),
            "SELECT 1": timed(engine, lambda: prepared_reads.first_row(NOTHING, {}), reads),
            "registry row, decode between": timed(engine, registry_row, reads, between=decode_a_code),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=10_000, help="reads per round (default 10,000)")
    args = parser.parse_args(argv)
    engines = [engine for engine in _server.ENGINES if engine == "sqlite" or not _server.postgres_unreachable()]
    if "postgresql" not in engines:
        _server.note(f"PostgreSQL is not reachable, measuring SQLite only: {_server.postgres_unreachable()}")
    results = {engine: measure(engine, args.people, args.reads) for engine in engines}
    print(f"\n{_server.machine()}")
    print(f"{args.people:,} persons; {ROUNDS} rounds of {args.reads:,} reads; µs per read, medians of the rounds\n")
    print(f"{'engine':<11} {'read':<29} {'wall':>7} {'client CPU':>11} {'server CPU':>11} {'CPU in all':>11}")
    for engine, reads in results.items():
        for label, per_read in reads.items():
            print(
                f"{engine:<11} {label:<29} {per_read.wall_us:>7.1f} {per_read.client_us:>11.1f} "
                f"{per_read.server_us:>11.1f} {per_read.cpu_us:>11.1f}"
            )
    if "postgresql" in results:
        sqlite, pg = results["sqlite"], results["postgresql"]
        alone, between = "registry row (5 tables)", "registry row, decode between"
        print(
            "\nCPU a verification spends on its read beyond SQLite's: "
            f"{pg[alone].cpu_us - sqlite[alone].cpu_us:.0f} µs for the registry row alone, "
            f"{pg[between].cpu_us - sqlite[between].cpu_us:.0f} µs with a decode between, "
            f"{pg['SELECT 1'].cpu_us - sqlite[alone].cpu_us:.0f} µs if it cost no more than SELECT 1"
        )


if __name__ == "__main__":
    main()
