"""The bulk paths on PostgreSQL (issue 19): import and sign N persons, then reissue all N codes after a compromise.

Run from the repository root: `python bench/bulk.py [--people N] [--processes P]` (default 100,000 people, one
signing process per core). It builds a fresh database `oms_bench_bulk_<pid>` on 127.0.0.1:5432 (dropped at the
end), generates a registry CSV of N persons of one insurer, and measures:

- the import, `bulk_import.import_csv` with P signing processes (COPY on PostgreSQL);
- the mass reissue of the insurer's N codes after its key is compromised, the job's own work
  (`mass_reissue.compromise` with no queue configured runs it here, with P signing processes).

Each is set against its baseline, measured in the same run just before it: raw signing of the same claims
(`policy_codes.encode`, every one of the N) in 1 process and in 2 forked processes. The machine is shared and
noisy: every figure is one run, and the two baselines show how far the same work moved between them.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry import ACTOR, note, postgresql_database, registry_app, registry_rows
from sqlalchemy import func, select

from policy_codes import encode
from policy_codes.codec import PolicyClaims
from signing import SigningKey
from webapp.extensions import db
from webapp.models import CodeStatus, IssuedCode, PolicyKind
from webapp.registry import bulk_import, mass_reissue
from webapp.registry.clock import today_in_moscow
from webapp.registry.codes import make_claims
from webapp.registry.keys import keystore
from webapp.registry.rules import policy_end

INSURER = "77001"
GOAL_PEOPLE = 1_000_000
GOAL_SECONDS = 120.0


def write_csv(path: Path, count: int, moment: datetime) -> None:
    """The registry of bench/registry.py, every person with one insurer: the reissue then covers all N."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(bulk_import.COLUMNS)
        for row in registry_rows(count, today_in_moscow(moment)):
            person = row.person
            until = row.right_valid_until.isoformat() if row.right_valid_until else ""
            name = person.name
            born = person.birth_date.isoformat()
            person_columns = [person.enp, name.surname, name.given_name, name.patronymic, born, person.sex]
            writer.writerow([*person_columns, row.snils, INSURER, row.category.value, until, ""])


def claims_of(count: int, moment: datetime, serial: int) -> list[PolicyClaims]:
    """The claims the import (serial 1) or the reissue (serial 2) signs, for the baseline."""
    issued_on = today_in_moscow(moment)
    return [
        make_claims(
            row.person.enp,
            row.person.name,
            row.person.birth_date,
            row.person.sex,
            INSURER,
            PolicyKind.POLICY,
            issued_on,
            policy_end(row.category, issued_on, row.right_valid_until),
            serial,
            moment,
        )
        for row in registry_rows(count, issued_on)
    ]


_KEY: list[SigningKey] = []  # the baseline's workers inherit it by fork


def _sign_all(claims: list[PolicyClaims]) -> int:
    for item in claims:
        encode(item, _KEY[0])
    return len(claims)


@dataclass(frozen=True)
class Baseline:
    one: float
    two: float


def baseline(claims: list[PolicyClaims], key: SigningKey) -> Baseline:
    """Raw signing of every claim: here, then split over 2 forked processes."""
    _KEY[:] = [key]
    start = time.perf_counter()
    _sign_all(claims)
    one = time.perf_counter() - start
    half = len(claims) // 2
    with multiprocessing.get_context("fork").Pool(2) as pool:
        start = time.perf_counter()
        assert sum(pool.map(_sign_all, [claims[:half], claims[half:]])) == len(claims)
        two = time.perf_counter() - start
    return Baseline(one, two)


@dataclass(frozen=True)
class Figure:
    name: str
    seconds: float
    base: Baseline


def run(people: int, processes: int, folder: Path) -> list[Figure]:
    moment = datetime.now(UTC).replace(microsecond=0)
    csv_path = folder / "registry.csv"
    note(f"generating {people:,} rows")
    write_csv(csv_path, people, moment)
    with postgresql_database() as url:
        if url is None:
            raise SystemExit("PostgreSQL is needed at 127.0.0.1:5432")
        with registry_app(url) as app:
            app.config["SIGNING_PROCESSES"] = processes
            moment = datetime.now(UTC).replace(microsecond=0)  # the insurer's key starts when it is made
            key = keystore.signing_key(INSURER, moment)
            note("baseline: raw signing of the import's claims")
            first = baseline(claims_of(people, moment, 1), key)
            note(f"import of {people:,} rows, {processes} signing processes")
            start = time.perf_counter()
            report = bulk_import.import_csv(csv_path, ACTOR, processes=processes)
            imported = time.perf_counter() - start
            assert report.created == people, report.errors[:5]
            db.session.remove()

            kid = key.kid.hex()
            moment = datetime.now(UTC).replace(microsecond=0)
            note("baseline: raw signing of the reissue's claims")
            second = baseline(claims_of(people, moment, 2), key)
            note(f"mass reissue of {people:,} codes, {processes} signing processes")
            start = time.perf_counter()
            job = mass_reissue.compromise(kid, ACTOR, processes)
            reissued = time.perf_counter() - start
            assert job.result == {"codes": people}, (job.state, job.failure, job.result)
            current = db.session.scalar(
                select(func.count(IssuedCode.id)).where(IssuedCode.status == CodeStatus.CURRENT, IssuedCode.serial == 2)
            )
            assert current == people, current
    return [Figure("import + sign", imported, first), Figure("mass reissue after a compromise", reissued, second)]


def print_table(figures: list[Figure], people: int) -> None:
    print(
        f"\n{'figure':<34} {'seconds':>8} {'µs/person':>10} {'raw 1 proc s':>13} {'×':>6} {'raw 2 proc s':>13} {'×':>6}"
    )
    for figure in figures:
        base = figure.base
        print(
            f"{figure.name:<34} {figure.seconds:>8.1f} {figure.seconds / people * 1e6:>10.1f} "
            f"{base.one:>13.1f} {figure.seconds / base.one:>6.2f} {base.two:>13.1f} {figure.seconds / base.two:>6.2f}"
        )
    scale = GOAL_PEOPLE / people
    print(f"\nat {GOAL_PEOPLE:,} (×{scale:g}, linear): goal ≤ {GOAL_SECONDS:g} s each")
    for figure in figures:
        projected = figure.seconds * scale
        verdict = "PASS" if projected <= GOAL_SECONDS else "MISS"
        print(f"  {figure.name:<32} ~{projected:.0f} s {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000, help="persons imported, then codes reissued")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="signing processes")
    args = parser.parse_args(argv)
    if args.people < 2 or args.processes < 1:
        parser.error("--people must be at least 2 and --processes at least 1")
    started = time.perf_counter()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, N = {args.people:,}, P = {args.processes}")
    print(f"IMPORT_BATCH_SIZE {bulk_import.BATCH_SIZE}, REISSUE_BATCH_SIZE {mass_reissue.BATCH_SIZE}")
    with tempfile.TemporaryDirectory(prefix="oms_bench_bulk_") as folder:
        figures = run(args.people, args.processes, Path(folder))
    print_table(figures, args.people)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
