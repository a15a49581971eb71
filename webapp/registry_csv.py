"""The registry CSV (DESIGN.md): import with per-line errors, and export.

Import works in batches, each one transaction holding the batch's persons,
policies, signed codes and an audit entry: a killed import leaves whole
batches only, and running it again skips what is already there (importing
the same file twice changes nothing). Signing, the costly part, runs in a
pool of worker processes for large files.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from flask import current_app
from sqlalchemy import insert, select

from policy_codes import Enp, FullName, InvalidValue, PolicyClaims, Snils, encode
from signing import SigningKey
from webapp import audit, keystore, lifecycle
from webapp.codes import make_claims, text_hash
from webapp.errors import RegistryError
from webapp.extensions import db
from webapp.models import Category, CodeStatus, Insurer, IssuedCode, Person, Policy, PolicyKind, Representation
from webapp.transactions import atomic
from webapp.validity import policy_end

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
#: Below this many new persons in a batch, signing in-process beats starting workers.
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
    data: lifecycle.PersonData
    insurer_code: str
    representative_enp: str | None


def _optional_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def parse_row(line: int, raw: dict[str, str | None], insurers: dict[str, int], today: date) -> Row:
    """One CSV line to a checked Row; `ValueError` with a Russian reason otherwise."""
    missing = [column for column in COLUMNS if raw.get(column) is None]
    if missing:
        raise ValueError(f"нет столбца {', '.join(missing)}")
    values = {column: (raw[column] or "").strip() for column in COLUMNS}
    try:
        enp = Enp(values["enp"])
    except InvalidValue as error:
        raise ValueError(f"ЕНП: {error}") from None
    try:
        birth_date = date.fromisoformat(values["birth_date"])
        right_valid_until = _optional_date(values["right_valid_until"])
    except ValueError:
        raise ValueError("дата не в формате ГГГГ-ММ-ДД") from None
    if birth_date > today:
        raise ValueError("дата рождения в будущем")
    try:
        category = Category(values["category"])
    except ValueError:
        raise ValueError(f"неизвестная категория «{values['category']}»") from None
    if values["insurer_code"] not in insurers:
        raise ValueError(f"неизвестная СМО «{values['insurer_code']}»")
    try:
        data = lifecycle.PersonData(
            enp=enp,
            name=FullName(values["surname"], values["given_name"], values["patronymic"]),
            birth_date=birth_date,
            sex=values["sex"],
            snils=Snils(values["snils"]) if values["snils"] else None,
            category=category,
            right_valid_until=right_valid_until,
        )
        representative = str(Enp(values["representative_enp"])) if values["representative_enp"] else None
        policy_end(category, today, right_valid_until)
    except (InvalidValue, RegistryError) as error:
        raise ValueError(str(error)) from None
    return Row(line, data, values["insurer_code"], representative)


def read_rows(stream: TextIO, insurers: dict[str, int], today: date) -> Iterator[Row | RowError]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    absent = [column for column in COLUMNS if column not in header]
    if absent:
        raise RegistryError(f"В заголовке нет столбцов: {', '.join(absent)}")
    for raw in reader:
        line = reader.line_num
        try:
            yield parse_row(line, raw, insurers, today)
        except ValueError as error:
            yield RowError(line, str(error))


def _batches(items: Iterable[Row | RowError], size: int) -> Iterator[list[Row | RowError]]:
    batch: list[Row | RowError] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Worker processes inherit the decrypted keys by fork: nothing secret is pickled.
_WORKER_KEYS: dict[str, SigningKey] = {}


def _sign_in_worker(claims: PolicyClaims) -> str:
    return encode(claims, _WORKER_KEYS[claims.insurer_code])


class _Signer:
    """Signs claims in this process, or in a fork pool once batches are large."""

    def __init__(self, keys: dict[str, SigningKey]) -> None:
        self.keys = keys
        self.pool: ProcessPoolExecutor | None = None

    def sign(self, claims: list[PolicyClaims]) -> list[str]:
        if len(claims) < POOL_THRESHOLD:
            return [encode(item, self.keys[item.insurer_code]) for item in claims]
        if self.pool is None:
            _WORKER_KEYS.clear()
            _WORKER_KEYS.update(self.keys)
            self.pool = ProcessPoolExecutor(mp_context=multiprocessing.get_context("fork"))
        return list(self.pool.map(_sign_in_worker, claims, chunksize=250))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            _WORKER_KEYS.clear()


def import_csv(
    path: Path, actor: str, progress: Callable[[int], None] | None = None, now: datetime | None = None
) -> ImportReport:
    """Load a registry CSV. Bad lines are reported and skipped; good lines load."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    insurers = {insurer.code: insurer.id for insurer in db.session.scalars(select(Insurer))}
    keys = {code: keystore.signing_key(code, moment) for code in insurers if _has_key(code, moment)}
    report = ImportReport()
    representations: list[Row] = []
    signer = _Signer(keys)
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            parsed = read_rows(stream, insurers, lifecycle.today_in_moscow(moment))
            for batch in _batches(parsed, current_app.config.get("IMPORT_BATCH_SIZE", BATCH_SIZE)):
                rows = [item for item in batch if isinstance(item, Row)]
                report.errors.extend(item for item in batch if isinstance(item, RowError))
                _load_batch(rows, insurers, keys, signer, actor, digest, moment, report)
                representations.extend(row for row in rows if row.representative_enp)
                if progress:
                    progress(len(batch))
    finally:
        signer.close()
    _link_representatives(representations, actor, report)
    report.errors.sort(key=lambda error: error.line)
    return report


def _has_key(code: str, moment: datetime) -> bool:
    try:
        keystore.signing_key(code, moment)
    except RegistryError:
        return False
    return True


def _load_batch(
    rows: list[Row],
    insurers: dict[str, int],
    keys: dict[str, SigningKey],
    signer: _Signer,
    actor: str,
    digest: str,
    moment: datetime,
    report: ImportReport,
) -> None:
    existing = {
        person.enp: person
        for person in db.session.scalars(select(Person).where(Person.enp.in_([str(r.data.enp) for r in rows])))
    }
    new_rows: list[Row] = []
    changed: list[Row] = []
    seen: set[str] = set()
    for row in rows:
        enp = str(row.data.enp)
        person = existing.get(enp)
        if enp in seen:
            report.errors.append(RowError(row.line, "ЕНП повторяется в файле"))
        elif row.insurer_code not in keys:
            report.errors.append(RowError(row.line, f"у СМО {row.insurer_code} нет действующего ключа подписи"))
        elif person is None:
            new_rows.append(row)
        elif person.insurer.code != row.insurer_code:
            report.errors.append(RowError(row.line, "смена СМО выполняется заявлением, а не импортом"))
        elif any(
            getattr(person, column) != value
            for column, value in row.data.columns().items()
            if column != "birth_registered_on"
        ):
            changed.append(row)
        else:
            report.unchanged += 1
        seen.add(enp)
    db.session.rollback()  # end the read transaction before writing
    if new_rows:
        _insert_new(new_rows, insurers, signer, actor, digest, moment)
        report.created += len(new_rows)
    for row in changed:
        try:
            lifecycle.correct_person(str(row.data.enp), row.data, actor, "импорт реестра", now=moment)
            report.updated += 1
        except RegistryError as error:
            report.errors.append(RowError(row.line, str(error)))


@atomic
def _insert_new(
    rows: list[Row], insurers: dict[str, int], signer: _Signer, actor: str, digest: str, moment: datetime
) -> None:
    issued_on = lifecycle.today_in_moscow(moment)
    person_ids = dict(
        db.session.execute(
            insert(Person).returning(Person.enp, Person.id, sort_by_parameter_order=True),
            [{**row.data.columns(), "insurer_id": insurers[row.insurer_code]} for row in rows],
        ).all()
    )
    policy_rows = [
        {
            "person_id": person_ids[str(row.data.enp)],
            "insurer_id": insurers[row.insurer_code],
            "kind": PolicyKind.POLICY.value,
            "category": row.data.category.value,
            "valid_from": issued_on,
            "valid_to": policy_end(row.data.category, issued_on, row.data.right_valid_until),
            "status": "active",
            "status_reason": "",
            "created_at": moment,
        }
        for row in rows
    ]
    policy_ids = db.session.scalars(
        insert(Policy).returning(Policy.id, sort_by_parameter_order=True), policy_rows
    ).all()
    claims = [
        make_claims(
            row.data.enp,
            row.data.name,
            row.data.birth_date,
            row.data.sex,
            row.insurer_code,
            PolicyKind.POLICY,
            issued_on,
            policy["valid_to"],
            1,
            moment,
        )  # type: ignore[arg-type]
        for row, policy in zip(rows, policy_rows, strict=True)
    ]
    texts = signer.sign(claims)
    db.session.execute(
        insert(IssuedCode),
        [
            {
                "person_id": policy["person_id"],
                "policy_id": policy_id,
                "serial": 1,
                "kid": signer.keys[row.insurer_code].kid.hex(),
                "issued_at": moment,
                "status": CodeStatus.CURRENT.value,
                "status_reason": "",
                "text": text,
                "text_hash": text_hash(text),
            }
            for row, policy, policy_id, text in zip(rows, policy_rows, policy_ids, texts, strict=True)
        ],
    )
    audit.record(
        actor,
        "import",
        "registry",
        digest,
        "импорт реестра",
        {"lines": f"{rows[0].line}-{rows[-1].line}", "created": len(rows)},
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
