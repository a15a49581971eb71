"""Issue 19's ratio alone: the last section of bench/load.py (the API's verify against the floor view, one ES256
check and one prepared point read, on one gunicorn server, in turn), without the sections before it.

Run from the repository root: `.venv/bin/python bench/floor_ratio.py [--people N] [--rounds N] [--seconds S]`
(default: the cached 20,000-person PostgreSQL registry, 5 rounds of 10 s each). It prints, for each endpoint,
the median rate over the rounds and the median CPU per request of gunicorn's workers and of the PostgreSQL server,
then the ratio by rate (the goal's) and by the workers' CPU. For the whole picture, `bench/load.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import load


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    _server.require_wrk()
    if (reason := _server.postgres_unreachable()) is not None:
        raise SystemExit(f"PostgreSQL is unreachable: {reason}")
    settings = load.Settings(people=args.people, rounds=args.rounds, seconds=args.seconds, citizens=10)
    print(_server.machine())
    with tempfile.TemporaryDirectory(prefix="oms_floor_") as temporary:
        folder = Path(temporary)
        with _server.working_copy("postgresql", args.people) as url:
            fixture = load.prepare(url, folder, settings)
            with _server.gunicorn("_wsgi:with_floor()", url, log_folder=folder) as server:
                load.check_floor(server, fixture)
                endpoints = [
                    load.Endpoint(
                        load.FLOOR_API, "verify.lua", [load.VERIFY_PATH, fixture.codes_file, fixture.tokens_file]
                    ),
                    load.Endpoint(load.FLOOR_VIEW, "verify.lua", [load.FLOOR_PATH, fixture.codes_file]),
                ]
                measured = load.measure(server, endpoints, settings)
    print(f"\npostgresql, {args.people:,} persons, {args.rounds} rounds of {args.seconds:g} s, medians")
    print(f"{'endpoint':<36}{'req/s':>10}{'workers µs':>12}{'database µs':>13}   rounds (req/s)")
    medians = {}
    for label, result in measured.items():
        rate = statistics.median(run.rate for run in result.runs)
        workers = statistics.median(cpu.workers_us for cpu in result.cpu)
        database = statistics.median(cpu.database_us for cpu in result.cpu)
        medians[label] = rate, workers
        rounds = ", ".join(f"{run.rate:,.0f}" for run in result.runs)
        print(f"{label:<36}{rate:>10,.0f}{workers:>12,.0f}{database:>13,.0f}   {rounds}")
    (api_rate, api_cpu), (floor_rate, floor_cpu) = medians[load.FLOOR_API], medians[load.FLOOR_VIEW]
    share = api_rate / floor_rate
    verdict = "PASS" if share >= load.GOAL_FLOOR_SHARE else "MISS"
    print(
        f"API / floor view by rate: {share:.3f} (goal ≥ {load.GOAL_FLOOR_SHARE:.2f}: {verdict}); "
        f"by the workers' CPU: {floor_cpu / api_cpu:.3f}"
    )


if __name__ == "__main__":
    main()
