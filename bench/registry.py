"""The registry at scale: import and sign N persons, then verify codes against it.

Run from the repository root: `python bench/registry.py [--people N] [--engines sqlite,postgresql]`
(default 1,000,000 people on both engines). For each engine the script builds a
fresh database (SQLite in a temporary folder; PostgreSQL as `oms_bench_<pid>` on
127.0.0.1:5432, dropped at the end), imports one generated registry CSV with
`webapp.registry.bulk_import.import_csv`, and measures verification against the result.

Baselines are measured in the same run: raw signing with `policy_codes.encode`
on a sample, extrapolated to N, and `policy_codes.decode` alone for verification.
The machine is shared and noisy, so every per-op figure is the median of rounds.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
import psycopg
from flask import Flask
from sqlalchemy import func, select

from policy_codes import Verdict, decode, encode
from policy_codes.sample_people import SamplePerson, sample_people
from policy_codes.snils import UNCHECKED_UP_TO, snils_control
from webapp import create_app
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import Category, IssuedCode, Person, PolicyKind
from webapp.registry import bulk_import, organisations
from webapp.registry.clock import today_in_moscow
from webapp.registry.codes import make_claims
from webapp.registry.keys import keystore
from webapp.registry.rules import policy_end
from webapp.registry.verification import verify_scan

INSURERS = ("77001", "77002")
REGION = "77"
CLINIC = "bench-clinic"
ACTOR = "bench"
SEED = 2026
#: Shares of non-citizens in the generated registry (the rest are citizens).
FOREIGN_TEMPORARY_SHARE = 0.02
EAEU_WORKER_SHARE = 0.01
#: Share of rows with an empty СНИЛС.
NO_SNILS_SHARE = 0.1
SIGN_SAMPLE = 20_000
#: The secrets of every app and server of a run, strong enough for webapp/config.py (it refuses weak ones from
#: the environment); the audit log's key (webapp/registry/audit.py), and this run's checkpoints: each run works
#: on a fresh database or copy.
SECRET_KEY = "bench-secret-key-Wm3Tz8Qk5Lx2Vr9Hc6Nd"
PASSPHRASE = "bench-passphrase-Pf4Yj7Bs1Gx8Kq3Zm5Rt"
AUDIT_KEY = "bench-audit-key-Dv6Rn2Xw9Lq4Tk8Hb3Zs"
AUDIT_CHECKPOINTS = Path(tempfile.mkdtemp(prefix="oms-bench-audit-"))
atexit.register(shutil.rmtree, AUDIT_CHECKPOINTS, ignore_errors=True)
VERIFY_SAMPLE = 2_000
ROUNDS = 5
WARM_UP = 200
PROGRESS_EVERY = 50_000
GOAL_IMPORT_PEOPLE = 1_000_000
GOAL_IMPORT_SECONDS = 120.0
GOAL_VERIFY_RATIO = 2.0
T = TypeVar("T")
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


def note(message: str) -> None:
    """Progress for long phases, on stderr so stdout keeps only the tables."""
    print(message, file=sys.stderr, flush=True)


# --- the registry CSV -------------------------------------------------------


@dataclass(frozen=True)
class RegistryRow:
    person: SamplePerson
    insurer_code: str
    category: Category
    right_valid_until: date | None
    snils: str


def registry_rows(count: int, today: date) -> Iterator[RegistryRow]:
    """`count` reproducible registry rows: mostly citizens, insurers alternating."""
    rng = random.Random(SEED + 1)
    for index, person in enumerate(sample_people(count, seed=SEED)):
        draw = rng.random()
        category = Category.CITIZEN
        right_valid_until = None
        if draw < FOREIGN_TEMPORARY_SHARE + EAEU_WORKER_SHARE:
            category = Category.FOREIGN_TEMPORARY if draw < FOREIGN_TEMPORARY_SHARE else Category.EAEU_WORKER
            right_valid_until = today + timedelta(days=rng.randrange(60, 1000))
        snils = "" if rng.random() < NO_SNILS_SHARE else unique_snils(index)
        yield RegistryRow(person, INSURERS[index % len(INSURERS)], category, right_valid_until, snils)


def unique_snils(index: int) -> str:
    """The `index`th person's СНИЛС: each person's own, as the registry refuses a second holder (random numbers
    would repeat some hundred times in a million)."""
    number = f"{UNCHECKED_UP_TO + 1 + index * 7:09d}"
    return f"{number}{snils_control(number):02d}"


def write_csv(path: Path, count: int, today: date) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(bulk_import.COLUMNS)
        for index, row in enumerate(registry_rows(count, today), start=1):
            person = row.person
            writer.writerow(
                [
                    str(person.enp),
                    person.name.surname,
                    person.name.given_name,
                    person.name.patronymic,
                    person.birth_date.isoformat(),
                    person.sex,
                    row.snils,
                    row.insurer_code,
                    row.category.value,
                    row.right_valid_until.isoformat() if row.right_valid_until else "",
                    "",
                ]
            )
            if index % 200_000 == 0:
                note(f"  csv: {index:,}/{count:,} rows")


# --- databases --------------------------------------------------------------


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    path = folder / "bench.sqlite"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def postgresql_database() -> Iterator[str | None]:
    """A fresh database `oms_bench_<pid>`, dropped afterwards; None if PostgreSQL is unreachable."""
    name = f"oms_bench_{os.getpid()}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        print(f"PostgreSQL skipped: unreachable at 127.0.0.1:5432 ({str(error).strip()})")
        yield None
        return
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        note(f"  dropped database {name}")


def audit_settings(url: str) -> dict[str, str]:
    """AUDIT_KEY and AUDIT_CHECKPOINT for every app and server of this run on `url`."""
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    return {"AUDIT_KEY": AUDIT_KEY, "AUDIT_CHECKPOINT": str(AUDIT_CHECKPOINTS / f"{name}.json")}


@contextlib.contextmanager
def registry_app(url: str) -> Iterator[Flask]:
    """An app on `url` with the schema, a region, two insurers (with keys) and a clinic."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
            **audit_settings(url),
            "TESTING": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        try:
            flask_migrate.upgrade()
            organisations.create_region(REGION, "Москва", ACTOR)
            for code in INSURERS:
                organisations.create_insurer(code, f"СМО {code}", ACTOR, region_code=REGION)
            organisations.create_clinic(CLINIC, "Поликлиника для замеров", ACTOR, region_code=REGION)
            yield app
        finally:
            db.session.remove()
            dispose_engines()


# --- timing -----------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    median: float  # seconds per op, median round
    fastest: float
    slowest: float
    ops_per_round: int


def timing(seconds_per_op: list[float], ops_per_round: int) -> Timing:
    return Timing(statistics.median(seconds_per_op), min(seconds_per_op), max(seconds_per_op), ops_per_round)


def per_op(op: Callable[[T], object], items: Sequence[T], rounds: int = ROUNDS) -> Timing:
    """Median over `rounds` passes through all of `items`, after a short warm-up."""
    for item in items[:WARM_UP]:
        op(item)
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            op(item)
        seconds.append((time.perf_counter() - start) / len(items))
    return timing(seconds, len(items))


def raw_sign(count: int, moment: datetime) -> Timing:
    """`encode` alone, in this process, on `count` prepared claims split into rounds.

    The claims are the first `count` rows of the CSV, signed with the same keys.
    """
    issued_on = today_in_moscow(moment)
    keys = {code: keystore.signing_key(code, moment) for code in INSURERS}
    claims = [
        make_claims(
            row.person.enp,
            row.person.name,
            row.person.birth_date,
            row.person.sex,
            row.insurer_code,
            PolicyKind.POLICY,
            issued_on,
            policy_end(row.category, issued_on, row.right_valid_until),
            1,
            moment,
        )
        for row in registry_rows(count, issued_on)
    ]
    for item in claims[:WARM_UP]:
        encode(item, keys[item.insurer_code])
    size = max(1, len(claims) // ROUNDS)
    seconds = []
    for start_index in range(0, size * ROUNDS, size):
        chunk = claims[start_index : start_index + size]
        start = time.perf_counter()
        for item in chunk:
            encode(item, keys[item.insurer_code])
        seconds.append((time.perf_counter() - start) / len(chunk))
    return timing(seconds, size)


class ImportProgress:
    """import_csv's progress callback: a line on stderr every PROGRESS_EVERY rows."""

    def __init__(self, engine: str, total: int) -> None:
        self.engine = engine
        self.total = total
        self.done = 0
        self.started = time.perf_counter()

    def __call__(self, rows: int) -> None:
        before, self.done = self.done, self.done + rows
        if self.done // PROGRESS_EVERY > before // PROGRESS_EVERY or self.done == self.total:
            elapsed = time.perf_counter() - self.started
            note(f"  {self.engine}: {self.done:,}/{self.total:,} rows, {elapsed:.1f} s, {self.done / elapsed:,.0f}/s")


# --- one engine -------------------------------------------------------------


@dataclass(frozen=True)
class EngineResult:
    engine: str
    people: int
    created: int
    unchanged: int
    errors: int
    import_seconds: float
    raw_sign: Timing
    decode: Timing
    scan: Timing
    scan_request: Timing
    number: Timing
    sample: int
    not_valid: int

    @property
    def persons_per_second(self) -> float:
        return self.people / self.import_seconds

    @property
    def raw_sign_seconds(self) -> float:
        """Signing N claims in one process, extrapolated from the sample."""
        return self.raw_sign.median * self.people

    @property
    def import_vs_one(self) -> float:
        return self.import_seconds / self.raw_sign_seconds

    @property
    def import_vs_two(self) -> float:
        return self.import_seconds / (self.raw_sign_seconds / 2)

    @property
    def scan_ratio(self) -> float:
        return self.scan.median / self.decode.median

    @property
    def request_ratio(self) -> float:
        return self.scan_request.median / self.decode.median

    @property
    def import_goal(self) -> str:
        if self.people != GOAL_IMPORT_PEOPLE:
            return f"n/a at N={self.people:,}"
        return "PASS" if self.import_seconds < GOAL_IMPORT_SECONDS else "MISS"

    @property
    def verify_goal(self) -> str:
        return "PASS" if self.scan_ratio <= GOAL_VERIFY_RATIO else "MISS"


def run_engine(engine: str, url: str, csv_path: Path, people: int) -> EngineResult:
    with registry_app(url):
        moment = datetime.now(UTC).replace(microsecond=0)
        note(f"{engine}: raw signing baseline on {min(SIGN_SAMPLE, people):,} claims")
        sign = raw_sign(min(SIGN_SAMPLE, people), moment)

        note(f"{engine}: import_csv of {people:,} rows")
        start = time.perf_counter()
        report = bulk_import.import_csv(csv_path, ACTOR, ImportProgress(engine, people))
        import_seconds = time.perf_counter() - start
        db.session.remove()

        enps, texts = verification_sample(people)
        note(f"{engine}: verification on {len(texts):,} registry codes, {ROUNDS} rounds")
        not_valid = sum(verify_scan(text).verdict is not Verdict.VALID for text in texts)
        not_valid += sum(verify_scan(enp).verdict is not Verdict.VALID for enp in enps)
        trust = keystore.trust_list()
        now = datetime.now(UTC)

        def scan_request(text: str) -> None:
            """As one HTTP request does it: the session ends after the scan."""
            verify_scan(text)
            db.session.remove()

        decode_timing = per_op(lambda text: decode(text, trust, now), texts)
        scan_timing = per_op(verify_scan, texts)
        request_timing = per_op(scan_request, texts)
        number_timing = per_op(verify_scan, enps)
        return EngineResult(
            engine=engine,
            people=people,
            created=report.created,
            unchanged=report.unchanged,
            errors=len(report.errors),
            import_seconds=import_seconds,
            raw_sign=sign,
            decode=decode_timing,
            scan=scan_timing,
            scan_request=request_timing,
            number=number_timing,
            sample=len(texts),
            not_valid=not_valid,
        )


def verification_sample(people: int) -> tuple[list[str], list[str]]:
    """ЕНП and current code text of up to VERIFY_SAMPLE random imported persons, shuffled."""
    rng = random.Random(SEED + 2)
    top = db.session.scalar(select(func.max(Person.id))) or 0
    ids = rng.sample(range(1, top + 1), min(VERIFY_SAMPLE, top))
    rows = [
        (enp, text)
        for enp, text in db.session.execute(
            select(Person.enp, IssuedCode.text)
            .join(IssuedCode, IssuedCode.person_id == Person.id)
            .where(Person.id.in_(ids), IssuedCode.serial == 1)
        )
    ]
    db.session.remove()
    rng.shuffle(rows)
    return [enp for enp, _ in rows], [text for _, text in rows]


# --- output -----------------------------------------------------------------


def print_engine(result: EngineResult) -> None:
    r = result
    print(f"\n== {r.engine}: {r.people:,} people ==")
    print(f"import report: created {r.created:,}, unchanged {r.unchanged:,}, errors {r.errors:,}")
    print(f"{'phase':<46} {'seconds':>9} {'persons/s':>10}")
    rows = [
        (f"raw sign, 1 process (×{r.people:,} from {r.raw_sign.ops_per_round * ROUNDS:,})", r.raw_sign_seconds),
        ("raw sign, 2-process ideal (÷2)", r.raw_sign_seconds / 2),
        ("import_csv (import and sign)", r.import_seconds),
    ]
    for label, seconds in rows:
        print(f"{label:<46} {seconds:>9.1f} {r.people / seconds:>10,.0f}")
    spread = f"{r.raw_sign.fastest * 1e6:.0f}–{r.raw_sign.slowest * 1e6:.0f}"
    print(f"raw encode: median {r.raw_sign.median * 1e6:.1f} µs/op (rounds {spread} µs)")
    print(f"import / raw sign, 1 process: {r.import_vs_one:.2f}×")
    print(f"import / raw sign, 2-process ideal: {r.import_vs_two:.2f}×")
    print(f"goal {GOAL_IMPORT_PEOPLE:,} imported and signed in < {GOAL_IMPORT_SECONDS:g} s: {r.import_goal}")

    print(f"\nverification: {r.sample:,} random registry codes, {ROUNDS} rounds (not VALID: {r.not_valid})")
    print(f"{'operation':<42} {'median µs/op':>13} {'ops/s':>8} {'× decode':>9} {'rounds min–max µs':>19}")
    operations = [
        ("(a) decode (signature alone)", r.decode),
        ("(b) verify_scan(code) (registry)", r.scan),
        ("(b') verify_scan(code) + session.remove()", r.scan_request),
        ("(c) verify_scan(ЕНП) (number look-up)", r.number),
    ]
    for label, t in operations:
        spread = f"{t.fastest * 1e6:.0f}–{t.slowest * 1e6:.0f}"
        print(
            f"{label:<42} {t.median * 1e6:>13.1f} {1 / t.median:>8,.0f} {t.median / r.decode.median:>9.2f} {spread:>19}"
        )
    print(f"goal (b) ≤ {GOAL_VERIFY_RATIO:g}× (a): {r.scan_ratio:.2f}× {r.verify_goal}")
    per_request = "PASS" if r.request_ratio <= GOAL_VERIFY_RATIO else "MISS"
    print(f"per request (b') / (a): {r.request_ratio:.2f}× {per_request} (same goal, as a request pays it)")


def print_summary(results: list[EngineResult]) -> None:
    print("\n== summary ==")
    rows: list[tuple[str, Callable[[EngineResult], str]]] = [
        ("people", lambda r: f"{r.people:,}"),
        ("import wall s", lambda r: f"{r.import_seconds:.1f}"),
        ("persons/s", lambda r: f"{r.persons_per_second:,.0f}"),
        ("raw sign 1 process s (extrapolated)", lambda r: f"{r.raw_sign_seconds:.1f}"),
        ("import / raw sign 1 process", lambda r: f"{r.import_vs_one:.2f}×"),
        ("import / raw sign 2-process ideal", lambda r: f"{r.import_vs_two:.2f}×"),
        (f"goal import < {GOAL_IMPORT_SECONDS:g} s at 1M", lambda r: r.import_goal),
        ("(a) decode µs/op", lambda r: f"{r.decode.median * 1e6:.1f}"),
        ("(b) verify_scan µs/op", lambda r: f"{r.scan.median * 1e6:.1f}"),
        ("(b) / (a)", lambda r: f"{r.scan_ratio:.2f}×"),
        ("(b') + session.remove µs/op", lambda r: f"{r.scan_request.median * 1e6:.1f}"),
        ("(b') / (a)", lambda r: f"{r.request_ratio:.2f}×"),
        ("(c) number look-up µs/op", lambda r: f"{r.number.median * 1e6:.1f}"),
        (f"goal (b) ≤ {GOAL_VERIFY_RATIO:g}× (a)", lambda r: r.verify_goal),
    ]
    print(f"{'':<38}" + "".join(f"{r.engine:>18}" for r in results))
    for label, value in rows:
        print(f"{label:<38}" + "".join(f"{value(r):>18}" for r in results))


# --- main -------------------------------------------------------------------


ENGINES = ("sqlite", "postgresql")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=GOAL_IMPORT_PEOPLE, help="persons in the registry CSV")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: sqlite,postgresql")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown or not engines:
        parser.error(f"unknown engines: {', '.join(unknown) or '(none)'}; choose from {', '.join(ENGINES)}")
    if args.people < 1:
        parser.error("--people must be positive")

    started = time.perf_counter()
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, N = {args.people:,}, "
        f"BATCH_SIZE {bulk_import.BATCH_SIZE}, POOL_THRESHOLD {bulk_import.POOL_THRESHOLD}"
    )
    results: list[EngineResult] = []
    with tempfile.TemporaryDirectory(prefix="oms_bench_") as folder:
        csv_path = Path(folder) / "registry.csv"
        note(f"generating {args.people:,} rows into {csv_path}")
        start = time.perf_counter()
        write_csv(csv_path, args.people, today_in_moscow(datetime.now(UTC)))
        size = csv_path.stat().st_size / 2**20
        print(f"CSV generated in {time.perf_counter() - start:.1f} s ({size:.1f} MiB, not counted)")

        for engine in engines:
            databases = sqlite_database(Path(folder)) if engine == "sqlite" else postgresql_database()
            with databases as url:
                if url is None:
                    continue
                result = run_engine(engine, url, csv_path, args.people)
            print_engine(result)
            results.append(result)
    if results:
        print_summary(results)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
