"""The registry CSV (README.md, "Command line"): import with per-line errors, and export.

Import works in batches, each one transaction holding the batch's persons,
policies, signed codes and an audit entry: a killed import leaves whole
batches only, and running it again skips what is already there (importing
the same file twice changes nothing). Parsing and signing, the costly parts,
run in worker processes for large files while the main process writes.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TextIO

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from policy_codes import Enp, InvalidValue, encode
from signing import SigningKey
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import (
    Insurer,
    IssuedCode,
    Person,
    Policy,
    PolicyKind,
    PolicyStatus,
    Representation,
)
from webapp.registry import audit, clock, lifecycle, people
from webapp.registry.codes import make_claims
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore

#: The registry CSV's columns, in the file's order: a contract (README.md, "Command line").
COLUMNS = (
    "enp",
    "surname",
    "given_name",
    "patronymic",
    "birth_date",
    "sex",
    "snils",
    "insurer_code",
    "category",
    "right_valid_until",
    "representative_enp",
)
BATCH_SIZE = 5000
#: What the CSV says about a person (the birth registration date is not in it).
_COMPARED = tuple(column for column in COLUMNS if column not in ("insurer_code", "representative_enp"))
#: Below this many lines, working in-process beats starting worker processes.
POOL_THRESHOLD = 2000


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"строка {self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class Row:
    line: int
    data: people.PersonData
    insurer_code: str
    representative_enp: str | None
    #: The policy's last day if issued today (None: no end), computed while checking the row.
    valid_to: date | None


def _optional_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def parse_row(line: int, raw: dict[str, str | None], insurers: dict[str, int], today: date) -> Row:
    """One CSV line to a checked Row; `ValueError` with a Russian reason otherwise."""
    missing = [column for column in COLUMNS if raw.get(column) is None]
    if missing:
        raise ValueError(f"нет столбца {', '.join(missing)}")
    values = {column: (raw[column] or "").strip() for column in COLUMNS}
    if values["insurer_code"] not in insurers:
        raise ValueError(f"неизвестная СМО «{values['insurer_code']}»")
    try:
        data = people.person_from_fields(values, today)
        representative = str(Enp(values["representative_enp"])) if values["representative_enp"] else None
        valid_to = lifecycle.policy_term(data.category, data.right_valid_until, PolicyKind.POLICY, today)[1]
    except (InvalidValue, RegistryError) as error:
        raise ValueError(str(error)) from None
    return Row(line, data, values["insurer_code"], representative, valid_to)


@dataclass(frozen=True)
class Job:
    """One batch for a worker: raw lines, and the numbers already in the registry or earlier in the file."""

    lines: list[tuple[int, dict[str, str | None]]]
    known: frozenset[str]
    today: date
    moment: datetime


@dataclass(frozen=True)
class Prepared:
    """A parsed line, signed if it is a new person: what the writer needs, and nothing it must recompute."""

    row: Row
    text: str | None


@dataclass
class _WorkerContext:
    insurers: dict[str, int] = field(default_factory=dict)
    keys: dict[str, SigningKey] = field(default_factory=dict)


# Worker processes inherit this by fork: the decrypted keys are never pickled.
_CONTEXT = _WorkerContext()


def prepare(job: Job) -> list[Prepared | RowError]:
    """Parse and check every line; sign the codes of new persons. Runs in a worker process."""
    results: list[Prepared | RowError] = []
    for line, raw in job.lines:
        try:
            row = parse_row(line, raw, _CONTEXT.insurers, job.today)
        except ValueError as error:
            results.append(RowError(line, str(error)))
            continue
        data = row.data
        text = None
        if str(data.enp) not in job.known:
            key = _CONTEXT.keys.get(row.insurer_code)
            if key is None:
                results.append(RowError(line, f"у СМО {row.insurer_code} нет действующего ключа подписи"))
                continue
            claims = make_claims(
                data.enp,
                data.name,
                data.birth_date,
                data.sex,
                row.insurer_code,
                PolicyKind.POLICY,
                job.today,
                row.valid_to,
                lifecycle.FIRST_SERIAL,
                job.moment,
            )
            text = encode(claims, key)
        results.append(Prepared(row, text))
    return results


class _Done:
    """A result already computed, shaped like `AsyncResult` for the in-process path."""

    def __init__(self, value: list[Prepared | RowError]) -> None:
        self.value = value

    def get(self) -> list[Prepared | RowError]:
        return self.value


Pending = AsyncResult | _Done


class _Workers:
    """Runs `prepare` here for small files, or in a pool of forked workers.

    `multiprocessing.Pool` forks every worker up front, before it starts any
    thread: forking later, beside running threads, can copy a held lock into
    the child and hang it. Workers exit when the importer dies, as their pipe
    closes.
    """

    def __init__(self, parallel: bool) -> None:
        self.pool = multiprocessing.get_context("fork").Pool() if parallel else None

    def submit(self, job: Job) -> Pending:
        return self.pool.apply_async(prepare, (job,)) if self.pool is not None else _Done(prepare(job))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _raw_batches(stream: TextIO, size: int) -> Iterator[list[tuple[int, dict[str, str | None]]]]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    absent = [column for column in COLUMNS if column not in header]
    if absent:
        raise RegistryError(f"В заголовке нет столбцов: {', '.join(absent)}")
    batch: list[tuple[int, dict[str, str | None]]] = []
    for raw in reader:
        batch.append((reader.line_num, raw))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_csv(
    path: Path, actor: str, progress: Callable[[int], None] | None = None, now: datetime | None = None
) -> ImportReport:
    """Load a registry CSV. Bad lines are reported and skipped; good lines load.

    The main process reads lines and writes batches; workers parse, check and
    sign the next batch meanwhile.
    """
    moment = clock.now(now)
    today = clock.today_in_moscow(moment)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    _CONTEXT.insurers = {insurer.code: insurer.id for insurer in db.session.scalars(select(Insurer))}
    _CONTEXT.keys = {code: key for code in _CONTEXT.insurers if (key := _signing_key(code, moment))}
    db.session.rollback()
    size = current_app.config.get("IMPORT_BATCH_SIZE", BATCH_SIZE)
    report = ImportReport()
    links: list[Row] = []
    seen: dict[str, int] = {}
    workers = _Workers(parallel=count_lines(path) >= POOL_THRESHOLD)
    in_flight: deque[tuple[Pending, int]] = deque()
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            for lines in _raw_batches(stream, size):
                lines, duplicates = _drop_repeats(lines, seen)
                report.errors.extend(duplicates)
                known = _registered([(raw.get("enp") or "").strip() for _, raw in lines])
                in_flight.append((workers.submit(Job(lines, known, today, moment)), len(lines) + len(duplicates)))
                if len(in_flight) > 1:
                    _write(*in_flight.popleft(), actor, digest, moment, report, links, progress)
            while in_flight:
                _write(*in_flight.popleft(), actor, digest, moment, report, links, progress)
    finally:
        workers.close()
        _CONTEXT.keys = {}
    _link_representatives(links, actor, report)
    report.errors.sort(key=lambda error: error.line)
    return report


def _signing_key(code: str, moment: datetime) -> SigningKey | None:
    try:
        return keystore.signing_key(code, moment)
    except RegistryError:
        return None


def _drop_repeats(
    lines: list[tuple[int, dict[str, str | None]]], seen: dict[str, int]
) -> tuple[list[tuple[int, dict[str, str | None]]], list[RowError]]:
    """A number may stand on one line of a file only."""
    kept, repeats = [], []
    for line, raw in lines:
        enp = (raw.get("enp") or "").strip()
        if enp in seen:
            repeats.append(RowError(line, f"ЕНП повторяется в файле (строка {seen[enp]})"))
        else:
            seen[enp] = line
            kept.append((line, raw))
    return kept, repeats


def _registered(enps: list[str]) -> frozenset[str]:
    found = frozenset(db.session.scalars(select(Person.enp).where(Person.enp.in_(enps))))
    db.session.rollback()
    return found


def _write(
    future: Pending,
    line_count: int,
    actor: str,
    digest: str,
    moment: datetime,
    report: ImportReport,
    links: list[Row],
    progress: Callable[[int], None] | None,
) -> None:
    results = future.get()
    report.errors.extend(item for item in results if isinstance(item, RowError))
    prepared = [item for item in results if isinstance(item, Prepared)]
    new = [item for item in prepared if item.text is not None]
    if new:
        _insert_new(new, actor, digest, moment)
        report.created += len(new)
    _update_existing([item.row for item in prepared if item.text is None], actor, moment, report)
    links.extend(item.row for item in prepared if item.row.representative_enp)
    if progress:
        progress(line_count)


def _update_existing(rows: list[Row], actor: str, moment: datetime, report: ImportReport) -> None:
    """Persons already in the registry: nothing to do, a data correction, or a refused change."""
    if not rows:
        return
    registered = {
        person.enp: (person.insurer.code, {column: getattr(person, column) for column in _COMPARED})
        for person in db.session.scalars(
            select(Person).options(joinedload(Person.insurer)).where(Person.enp.in_([str(r.data.enp) for r in rows]))
        )
    }
    db.session.rollback()
    for row in rows:
        insurer_code, stored = registered[str(row.data.enp)]
        columns = row.data.columns()
        if insurer_code != row.insurer_code:
            report.errors.append(RowError(row.line, "смена СМО выполняется заявлением, а не импортом"))
        elif all(stored[column] == columns[column] for column in _COMPARED):
            report.unchanged += 1
        else:
            try:
                lifecycle.correct_person(str(row.data.enp), row.data, actor, "импорт реестра", now=moment)
                report.updated += 1
            except RegistryError as error:
                report.errors.append(RowError(row.line, str(error)))


@atomic
def _insert_new(items: list[Prepared], actor: str, digest: str, moment: datetime) -> None:
    """Persons, policies and codes of one batch, with plain multi-row INSERTs (no ORM objects)."""
    issued_on = clock.today_in_moscow(moment)
    enps = [str(item.row.data.enp) for item in items]
    db.session.execute(
        insert(Person.__table__),
        [{**item.row.data.columns(), "insurer_id": _CONTEXT.insurers[item.row.insurer_code]} for item in items],
    )
    person_ids = dict(db.session.execute(select(Person.enp, Person.id).where(Person.enp.in_(enps))).all())
    db.session.execute(
        insert(Policy.__table__),
        [
            {
                "person_id": person_ids[enp],
                "insurer_id": _CONTEXT.insurers[item.row.insurer_code],
                **lifecycle.policy_fields(
                    PolicyKind.POLICY, item.row.data.category, (issued_on, item.row.valid_to), moment
                ),
            }
            for enp, item in zip(enps, items, strict=True)
        ],
    )
    policy_ids = dict(
        db.session.execute(
            select(Policy.person_id, Policy.id).where(
                Policy.person_id.in_(person_ids.values()), Policy.status != PolicyStatus.CLOSED
            )
        ).all()
    )
    db.session.execute(
        insert(IssuedCode.__table__),
        [
            {
                "person_id": person_ids[enp],
                "policy_id": policy_ids[person_ids[enp]],
                **lifecycle.code_fields(
                    lifecycle.FIRST_SERIAL, _CONTEXT.keys[item.row.insurer_code].kid.hex(), item.text or "", moment
                ),
            }
            for enp, item in zip(enps, items, strict=True)
        ],
    )
    audit.record(
        actor,
        "import",
        "registry",
        digest,
        "импорт реестра",
        {"lines": f"{items[0].row.line}-{items[-1].row.line}", "created": len(items)},
        at=moment,
    )


def _link_representatives(rows: list[Row], actor: str, report: ImportReport) -> None:
    for row in rows:
        assert row.representative_enp is not None
        try:
            report.linked += lifecycle.link_representative(row.representative_enp, str(row.data.enp), actor)
        except RegistryError as error:
            report.errors.append(RowError(row.line, f"представитель: {error}"))


def export_csv(out: TextIO) -> int:
    """Every person, in the import format; the same file imports back unchanged."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    representatives = dict(
        db.session.execute(
            select(Representation.represented_id, Person.enp).join(
                Person, Representation.representative_id == Person.id
            )
        ).all()
    )
    count = 0
    for person in db.session.scalars(select(Person).order_by(Person.id)).yield_per(2000):
        writer.writerow(
            [
                person.enp,
                person.surname,
                person.given_name,
                person.patronymic,
                person.birth_date.isoformat(),
                person.sex,
                person.snils or "",
                person.insurer.code,
                person.category,
                person.right_valid_until.isoformat() if person.right_valid_until else "",
                representatives.get(person.id, ""),
            ]
        )
        count += 1
    return count


def count_lines(path: Path) -> int:
    """Data lines, for the progress bar (the header is not counted)."""
    with path.open("rb") as stream:
        return max(sum(1 for _ in stream) - 1, 0)
