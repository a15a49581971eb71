"""The registry CSV (README.md, "Command line"): import with per-line errors, and export. How a file is read
(its encoding, delimiter and columns) is webapp/registry/registry_file.py's.

Import works in batches, each one transaction holding the batch's persons,
policies, signed codes and an audit entry: a killed import leaves whole
batches only, and running it again skips what is already there (importing
the same file twice changes nothing). Parsing and signing, the costly parts,
run in signing processes for large files (webapp/registry/signing_pool.py),
which hand back plain column tuples, while the main process writes them with
COPY on PostgreSQL (webapp/db/bulk.py).

A file of more than IMPORT_JOB_THRESHOLD lines is imported as a job
(webapp/registry/job_queue.py): on the queue's workers when one is configured,
with its progress in the database for the page and the command to show.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from policy_codes import Enp, InvalidValue
from signing import KeyStatus, SigningKey
from webapp.db import bulk
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import (
    EnpDirectory,
    Insurer,
    IssuedCode,
    Job,
    JobKind,
    Person,
    Policy,
    PolicyKind,
    Representation,
    SnilsDirectory,
    User,
)
from webapp.registry import (
    audit,
    clock,
    data_changes,
    job_queue,
    lifecycle,
    people,
    reasons,
    registry_file,
    signing_pool,
)
from webapp.registry.codes import make_claims, sign
from webapp.registry.data_changes import ChangeReason
from webapp.registry.errors import N_, RegistryError, quoted
from webapp.registry.keys import keystore
from webapp.registry.registry_file import COLUMNS

#: New persons from which an import refreshes the planner's row counts itself: fewer, and autovacuum's own
#: analysis keeps up (webapp/db/bulk.py refresh_statistics).
ANALYZE_AFTER = 500

BATCH_SIZE = 5000
#: What the CSV says about a person (the birth registration date is not in it).
_COMPARED = tuple(column for column in COLUMNS if column not in ("insurer_code", "representative_enp"))
#: The most of a file's name a data change records as its reason's words (an upload names it as it likes).
_FILE_NAME_MAX = 200
#: Below this many lines, working in-process beats starting worker processes.
POOL_THRESHOLD = 2000
#: Above this many lines (IMPORT_JOB_THRESHOLD), an import is a job rather than a request's or a command's work.
JOB_THRESHOLD = 10_000
#: Why an import stops when its insurer's key is marked compromised while it runs.
KEY_COMPROMISED_MIDWAY = N_(
    "Ключ подписи СМО отозван во время загрузки. Загруженные строки сохранены и получат новые коды; загрузите "
    "файл ещё раз: остальные строки подпишет новый ключ"
)
#: Why an insurer's queued import is not made: the operator disabled the login that queued it meanwhile.
SUBMITTER_DISABLED = N_(
    "Вход сотрудника, загрузившего файл, отключён оператором реестра: файл не загружен. Загрузите его снова из "
    "действующей учётной записи"
)
#: Why an insurer's import stops while it runs: the operator disabled the login that queued it.
SUBMITTER_DISABLED_MIDWAY = N_(
    "Вход сотрудника, загрузившего файл, отключён оператором реестра во время загрузки: загрузка остановлена. "
    "Строки, загруженные до этого, остаются в реестре; остальные загрузите из действующей учётной записи"
)
#: The column a refusal names when it is about the line's representative, not its person.
REPRESENTATIVE = "representative_enp"
#: The refused lines a job keeps for the page, with the count of all of them; its CSV of refused lines has all.
ERRORS_KEPT = 1000
#: The columns of that CSV: a refused line's number in the uploaded file, and why it was refused (in the reader's
#: language: webapp/web/views/insurer.py `import_refused`).
REFUSED_COLUMNS = ("line", "reason")
#: The columns a job keeps for each refused line (`Job.refused`): those two (the reason in Russian, as the command
#: says it), then what says it in another language: its catalog message, its values as JSON, whom it is about. A
#: job kept before these has the first two only.
_KEPT_COLUMNS = (*REFUSED_COLUMNS, "message", "params", "about")


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused line. Why is a catalog message (Russian) filled from `params`, so that a page and the CSV of
    refused lines say it in their reader's language (webapp/web/labels.py `refused_line`); the command in Russian."""

    line: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    #: REPRESENTATIVE when the reason is about the line's representative rather than its person.
    about: str = ""

    @classmethod
    def of(cls, line: int, error: RegistryError | InvalidValue) -> RowError:
        about = REPRESENTATIVE if getattr(error, "field", "") == REPRESENTATIVE else ""
        return cls(line, error.message, error.params, about)

    def said(self) -> str:
        """The reason in Russian, its values filled in."""
        reason = self.reason % self.params if self.params else self.reason
        return f"представитель: {reason}" if self.about else reason

    def __str__(self) -> str:
        return f"строка {self.line}: {self.said()}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Refused lines beyond those listed in `errors` (a job keeps ERRORS_KEPT of them).
    unlisted: int = 0
    #: The header's columns that are not the contract's, as quoted: their fields were not read.
    ignored: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def refused(self) -> int:
        return len(self.errors) + self.unlisted

    def as_result(self) -> dict[str, Any]:
        """What a job keeps of the report (webapp/models/jobs.py, `result`)."""
        kept = self.errors[:ERRORS_KEPT]
        counts = {name: getattr(self, name) for name in ("created", "updated", "unchanged", "linked")}
        errors = [asdict(error) for error in kept]
        return {**counts, "errors": errors, "unlisted": self.refused - len(kept), "ignored": self.ignored}

    def compressed_refused_csv(self, piece: int = 10_000) -> bytes:
        """Every refused line and why, to download (with Excel's byte order mark, as the import's template),
        zlib-compressed as it is written: a million refused lines are some 80 MB of text, never held whole."""
        compressor, out = zlib.compressobj(1), io.StringIO(registry_file.BYTE_ORDER_MARK)
        out.seek(0, io.SEEK_END)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(_KEPT_COLUMNS)
        compressed = []
        for start in range(0, len(self.errors), piece):
            writer.writerows(
                (error.line, error.said(), error.reason, json.dumps(error.params, ensure_ascii=False), error.about)
                for error in self.errors[start : start + piece]
            )
            compressed.append(compressor.compress(out.getvalue().encode()))
            out.seek(0)
            out.truncate()
        return b"".join([*compressed, compressor.compress(out.getvalue().encode()), compressor.flush()])

    @classmethod
    def of_result(cls, result: dict[str, Any]) -> ImportReport:
        errors = [RowError(**error) for error in result.get("errors", [])]
        counts = {name: result.get(name, 0) for name in ("created", "updated", "unchanged", "linked", "unlisted")}
        return cls(errors=errors, ignored=list(result.get("ignored", [])), **counts)

    @classmethod
    def of_job(cls, job: Job) -> ImportReport:
        """What a finished import job came to, with every refused line (`of_result` has the first ERRORS_KEPT)."""
        report = cls.of_result(job.result or {})
        refused = refused_lines(job)
        if refused is not None:
            report.errors, report.unlisted = list(refused), 0
        return report


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
    """One CSV line, every contract column in it (`registry_file.batches`), to a checked Row; `RegistryError` with
    the reason otherwise."""
    values = {column: (raw[column] or "").strip() for column in COLUMNS}
    if values["insurer_code"] not in insurers:
        raise RegistryError(N_("неизвестная СМО «%(insurer)s»"), insurer=quoted(values["insurer_code"]))
    data = people.person_from_fields(values, today)
    try:
        representative = str(Enp(values[REPRESENTATIVE])) if values[REPRESENTATIVE] else None
    except InvalidValue as error:
        raise RegistryError.of_value(error, REPRESENTATIVE) from None
    valid_to = lifecycle.policy_term(data.category, data.right_valid_until, PolicyKind.POLICY, today)[1]
    return Row(line, data, values["insurer_code"], representative, valid_to)


@dataclass(frozen=True)
class Lines:
    """One batch for a worker: raw lines, and the numbers already in the registry."""

    lines: list[tuple[int, dict[str, str | None]]]
    known: frozenset[str]
    #: The batch's СНИЛС (11 digits) that registered persons have.
    snils_known: frozenset[str]
    today: date
    moment: datetime
    #: The insurer whose staff import, if any: lines naming another insurer are refused.
    scope: str | None


#: A new person's columns, in this order, as a worker gives them back (no ORM objects cross the pipe).
PERSON_COLUMNS = (*people.PERSON_FIELDS, "birth_registered_on")
_SNILS = PERSON_COLUMNS.index("snils")
#: A new person's line whose ЕНП was registered between the batch's check and its writing (another import).
_REGISTERED_MEANWHILE = N_("Застрахованный с таким ЕНП уже есть в реестре: его загрузили, пока шёл этот импорт")


class Signed(NamedTuple):
    """A new person's line, checked and signed: plain columns for the writer, which only adds ids."""

    line: int
    person: tuple[Any, ...]
    insurer_code: str
    valid_to: date | None
    representative_enp: str | None
    text: str


def prepare(batch: Lines) -> list[Signed | Row | RowError]:
    """Parse and check every line; sign the codes of new persons. Runs in a signing worker.

    A person already in the registry comes back as the checked `Row`, for the writer to compare.
    """
    insurers, keys = signing_pool.shared("insurers"), signing_pool.shared("keys")
    results: list[Signed | Row | RowError] = []
    for line, raw in batch.lines:
        try:
            row = parse_row(line, raw, insurers, batch.today)
        except (RegistryError, InvalidValue) as error:
            results.append(RowError.of(line, error))
            continue
        if batch.scope is not None and row.insurer_code != batch.scope:
            results.append(
                RowError(
                    line,
                    N_("СМО %(insurer)s — не ваша: загружайте только своих застрахованных"),
                    {"insurer": row.insurer_code},
                )
            )
            continue
        data = row.data
        if str(data.enp) in batch.known:
            results.append(row)
            continue
        if data.snils and data.snils.digits in batch.snils_known:
            results.append(RowError(line, people.SNILS_REGISTERED))
            continue
        key = keys.get(row.insurer_code)
        if key is None:
            results.append(
                RowError(line, N_("у СМО %(insurer)s нет действующего ключа подписи"), {"insurer": row.insurer_code})
            )
            continue
        claims = make_claims(
            data.enp,
            data.name,
            data.birth_date,
            data.sex,
            row.insurer_code,
            PolicyKind.POLICY,
            batch.today,
            row.valid_to,
            lifecycle.FIRST_SERIAL,
            batch.moment,
        )
        try:
            text = sign(claims, key)
        except RegistryError as error:  # a policy that would outlive the insurer's key: this line, not the file
            results.append(RowError.of(line, error))
            continue
        columns = data.columns()
        person = tuple(columns[name] for name in PERSON_COLUMNS)
        results.append(Signed(line, person, row.insurer_code, row.valid_to, row.representative_enp, text))
    return results


def import_csv(
    source: Path | bytes,
    actor: str,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    *,
    scope: str | None = None,
    processes: int | None = None,
    job_id: int | None = None,
    file_name: str = "",
) -> ImportReport:
    """Load a registry CSV (a file, or its bytes). Bad lines are reported and skipped; good lines load.

    A line that changes a registered person's data is a data change with the reason «импорт реестра» and the
    file's name (`file_name`, else the file's path, else its digest) as its words (webapp/registry/data_changes.py).

    The main process reads lines and writes batches; signing workers parse, check and sign the next batch
    meanwhile (`processes` of them; by default one per core for a large file, none for a small one).
    `scope`, an insurer code, refuses lines of other insurers. A job's import records its progress.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    header = registry_file.checked_header(data)
    moment = clock.now(now)
    today = clock.today_in_moscow(moment)
    digest = file_digest(data)
    file_name = _clean_file_name(file_name) or (source.name if isinstance(source, Path) else digest)
    known_insurers = list(db.session.scalars(select(Insurer).options(joinedload(Insurer.region))))
    insurers = {insurer.code: insurer.id for insurer in known_insurers}
    regions = {insurer.code: insurer.region_code for insurer in known_insurers}
    keys = {code: key for code in insurers if (key := _signing_key(code, moment))}
    db.session.rollback()
    size = current_app.config.get("IMPORT_BATCH_SIZE", BATCH_SIZE)
    if processes is None:
        processes = signing_pool.processes() if count_lines(data) >= POOL_THRESHOLD else 1
    report = ImportReport(ignored=list(header.ignored))
    seen: dict[str, int] = {}
    in_flight: deque[tuple[signing_pool.Pending, int]] = deque()
    writer = _Writer(actor, digest, file_name, moment, insurers, regions, keys, report, job_id, progress)
    with signing_pool.SigningPool({"insurers": insurers, "keys": keys}, processes) as pool:
        for lines, refused in registry_file.batches(data, header, size):
            lines, duplicates = _drop_repeats(lines, seen)
            report.errors.extend([*(RowError.of(line, error) for line, error in refused), *duplicates])
            known, snils_known = _registered(lines)
            batch = Lines(lines, known, snils_known, today, moment, scope)
            in_flight.append((pool.submit(prepare, batch), len(lines) + len(duplicates) + len(refused)))
            if len(in_flight) > processes:  # every worker signs a batch while the oldest is written
                writer.write(*in_flight.popleft())
        while in_flight:
            writer.write(*in_flight.popleft())
    if report.created >= ANALYZE_AFTER:
        bulk.refresh_statistics(EnpDirectory.__table__, Person.__table__, Policy.__table__, IssuedCode.__table__)
    links = writer.links
    _link_representatives(links, actor, report)
    report.errors.sort(key=lambda error: error.line)
    return report


def needs_job(data: bytes) -> bool:
    """Whether the file is large enough to import as a job."""
    return count_lines(data) > current_app.config.get("IMPORT_JOB_THRESHOLD", JOB_THRESHOLD)


def start_job(
    data: bytes,
    actor: str,
    scope: str | None = None,
    processes_here: int = 1,
    progress: job_queue.Progress | None = None,
    file_name: str = "",
) -> Job:
    """Import the file as a job; the file travels with the job's row, for a worker on another machine, and its
    name (else its digest) as the job's subject, which the import's corrections give as their reason."""
    registry_file.checked_header(data)
    return job_queue.start(
        JobKind.IMPORT,
        _clean_file_name(file_name)[: Job.__table__.c.subject.type.length] or file_digest(data),
        actor,
        run_job,
        _work,
        total=count_lines(data),
        scope=scope,
        payload=data,
        processes_here=processes_here,
        progress=progress,
    )


def run_job(job_id: int) -> None:
    """What an RQ worker runs (webapp/cli/jobs.py)."""
    job_queue.execute(job_id, _work, signing_pool.processes())


def _work(job: Job, processes: int, report: job_queue.Progress | None) -> dict[str, Any]:
    actor, scope = job.actor, job.scope  # read once: the import's commits expire the job's row
    _require_live_submitter(actor, scope)
    data, total, done = job_queue.payload(job), job.total, 0

    def counted(lines: int) -> None:
        """After each batch: the progress, and a stop if the login that queued the import was disabled meanwhile."""
        nonlocal done
        done += lines
        if report:
            report(done, total)
        if done < total:
            _require_live_submitter(actor, scope, SUBMITTER_DISABLED_MIDWAY)
            db.session.rollback()  # the check's read holds no transaction open while the next batch is signed

    imported = import_csv(data, actor, counted, scope=scope, processes=processes, job_id=job.id, file_name=job.subject)
    if imported.errors:
        _keep_refused(job.id, imported)
    return imported.as_result()


def _require_live_submitter(actor: str, scope: str | None, refusal: str = SUBMITTER_DISABLED) -> None:
    """An insurer's import (one with a scope: its staff's, from the page) is made only while the login that queued
    it may still make it: enabled, and staff of that insurer. A queued job waits for a worker, and RQ runs it again
    after a failure; the operator who disables a login (a stolen password, a dismissed employee) stops what it
    queued, on its next start, and one that is running after the batch it is writing (the batches written stay)."""
    prefix, _, login = actor.partition(":")
    if scope is None or prefix != "smo":  # the operator's own, from the command line
        return
    user = db.session.scalar(select(User).where(User.username == login))
    if user is None or not user.active or user.insurer is None or user.insurer.code != scope:
        raise RegistryError(refusal)


@atomic
def _keep_refused(job_id: int, report: ImportReport) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(refused=report.compressed_refused_csv()))


def keeps_refused_csv(job_id: int) -> bool:
    """Whether the job keeps a CSV of refused lines (one finished before the registry kept them does not),
    without reading it."""
    return bool(db.session.scalar(select(Job.refused.is_not(None)).where(Job.id == job_id)))


def refused_lines(job: Job) -> Iterator[RowError] | None:
    """Every line an import job refused, once it has finished with some refused; else None. Read as they are
    decompressed: a million refused lines are some 80 MB of CSV. A job kept before the reasons' messages were
    (two columns) gives each reason as it was said, in Russian."""
    if job.refused is None:
        return None
    rows = csv.reader(_text_lines(_decompressed(job.refused)))
    next(rows)  # the header
    return (
        RowError(int(row[0]), row[2], json.loads(row[3]), row[4]) if len(row) == len(_KEPT_COLUMNS) else
        RowError(int(row[0]), row[1])
        for row in rows
    )  # fmt: skip


def _text_lines(pieces: Iterator[bytes]) -> Iterator[str]:
    """The lines of UTF-8 text that comes in pieces, each with its "\\n" (a quoted field may hold one: csv joins
    them); split there only, as csv itself writes them."""
    decoder, rest = codecs.getincrementaldecoder(registry_file.ENCODING)(), ""
    for piece in pieces:
        *lines, rest = (rest + decoder.decode(piece)).split("\n")
        yield from (line + "\n" for line in lines)
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def _decompressed(data: bytes, piece: int = 1 << 16) -> Iterator[bytes]:
    decompressor = zlib.decompressobj()
    for start in range(0, len(data), piece):
        yield decompressor.decompress(data[start : start + piece])
    yield decompressor.flush()


@atomic
def _record_progress(job_id: int, lines_done: int) -> None:
    job_queue.advance(job_id, lines_done)


def _clean_file_name(file_name: str) -> str:
    """The name an upload gives its file, as a job's subject and a correction's words: its spaces collapsed, and
    with no character nobody sees (a control character, a bidi override), which would act where it is read."""
    return " ".join("".join(char for char in file_name if char.isprintable() or char.isspace()).split())[
        :_FILE_NAME_MAX
    ]


def file_digest(data: bytes) -> str:
    """What the audit log names an imported file by."""
    return hashlib.sha256(data).hexdigest()[:16]


def _signing_key(code: str, moment: datetime) -> SigningKey | None:
    try:
        return keystore.signing_key(code, moment)
    except RegistryError:
        return None


#: The columns whose value may stand on one line of a file only (a person's numbers), and what a repeat is told.
_ONCE_PER_FILE = {
    "enp": N_("ЕНП повторяется в файле (строка %(line)d)"),
    "snils": N_("СНИЛС повторяется в файле (строка %(line)d)"),
}


def _numbers(raw: dict[str, str | None]) -> dict[str, str]:
    """A line's ЕНП and СНИЛС as they compare: without the spaces and dashes a СНИЛС may be written with."""
    return {column: (raw.get(column) or "").replace("-", "").replace(" ", "").strip() for column in _ONCE_PER_FILE}


def _drop_repeats(
    lines: list[tuple[int, dict[str, str | None]]], seen: dict[tuple[str, str], int]
) -> tuple[list[tuple[int, dict[str, str | None]]], list[RowError]]:
    """A person's ЕНП, and their СНИЛС, may stand on one line of a file only: the first line keeps them."""
    kept, repeats = [], []
    for line, raw in lines:
        numbers = [(column, value) for column, value in _numbers(raw).items() if value]
        first = next(((column, seen[column, value]) for column, value in numbers if (column, value) in seen), None)
        if first is not None:
            column, first_line = first
            repeats.append(RowError(line, _ONCE_PER_FILE[column], {"line": first_line}))
            continue
        seen.update(dict.fromkeys(numbers, line))
        kept.append((line, raw))
    return kept, repeats


def _registered(lines: list[tuple[int, dict[str, str | None]]]) -> tuple[frozenset[str], frozenset[str]]:
    """Of the lines' ЕНП and СНИЛС, those registered persons have (the directories that keep each unique)."""
    numbers = [_numbers(raw) for _, raw in lines]
    enps = [number["enp"] for number in numbers]
    snils = [number["snils"] for number in numbers if number["snils"]]
    known = frozenset(db.session.scalars(select(EnpDirectory.enp).where(bulk.among(EnpDirectory.enp, enps))))
    snils_known = frozenset(
        db.session.scalars(select(SnilsDirectory.snils).where(bulk.among(SnilsDirectory.snils, snils)))
    )
    db.session.rollback()
    return known, snils_known


@dataclass
class _Writer:
    """Writes what the workers prepared, batch by batch, into the report; moves a job's progress."""

    actor: str
    digest: str
    file_name: str
    moment: datetime
    insurers: dict[str, int]
    #: Insurer code → the region its persons' rows go to (the partition, on PostgreSQL).
    regions: dict[str, str]
    keys: dict[str, SigningKey]
    report: ImportReport
    job_id: int | None
    progress: Callable[[int], None] | None
    #: Lines naming a representative, linked when every batch is in.
    links: list[Row | Signed] = field(default_factory=list)
    lines_done: int = 0

    def write(self, pending: signing_pool.Pending, line_count: int) -> None:
        results: list[Signed | Row | RowError] = pending.get()
        self.report.errors.extend(item for item in results if isinstance(item, RowError))
        new = self._insert([item for item in results if isinstance(item, Signed)])
        known = [item for item in results if isinstance(item, Row)]
        accepted = _update_existing(known, self.actor, self.file_name, self.moment, self.report)
        # Only a line that loaded links its representative: a refused one (another insurer's insured, a refused
        # change) is refused whole, or an insurer's staff could link their own insured to anyone's record.
        self.links.extend(item for item in [*new, *accepted] if item.representative_enp)
        self.lines_done += line_count
        if self.job_id is not None:
            _record_progress(self.job_id, self.lines_done)
        if self.progress:
            self.progress(line_count)

    def _insert(self, new: list[Signed]) -> list[Signed]:
        """Write the batch's new persons; the lines written come back. A line whose ЕНП or СНИЛС another import
        (or a form) registered after the batch was checked is refused, and the rest written without it."""
        if not new:
            return []
        try:
            _insert_new(new, self.actor, self.digest, self.moment, self.insurers, self.regions, self.keys)
        except IntegrityError:
            lines = [(item.line, dict(zip(PERSON_COLUMNS, item.person, strict=True))) for item in new]
            known, snils_known = _registered(lines)
            taken = [item for item in new if item.person[0] in known or item.person[_SNILS] in snils_known]
            if not taken:
                raise
            for item in taken:
                reason = _REGISTERED_MEANWHILE if item.person[0] in known else people.SNILS_REGISTERED
                self.report.errors.append(RowError(item.line, reason))
            return self._insert([item for item in new if item not in taken])
        self.report.created += len(new)
        return new


def _update_existing(rows: list[Row], actor: str, file_name: str, moment: datetime, report: ImportReport) -> list[Row]:
    """Persons already in the registry: nothing to do, a data correction, or a refused change. The rows that
    loaded (unchanged or corrected) come back; the refused ones are in the report."""
    if not rows:
        return []
    registered = {
        person.enp: (person.insurer.code, {column: getattr(person, column) for column in _COMPARED})
        for person in db.session.scalars(
            select(Person).options(joinedload(Person.insurer)).where(Person.enp.in_([str(r.data.enp) for r in rows]))
        )
    }
    db.session.rollback()
    accepted = []
    for row in rows:
        insurer_code, stored = registered[str(row.data.enp)]
        columns = row.data.columns()
        if insurer_code != row.insurer_code:
            report.errors.append(RowError(row.line, N_("смена СМО выполняется заявлением, а не импортом")))
            continue
        if all(stored[column] == columns[column] for column in _COMPARED):
            report.unchanged += 1
        else:
            try:
                data_changes.change_person_data(
                    str(row.data.enp), row.data, ChangeReason.REGISTRY_IMPORT, file_name, None, actor, now=moment
                )
                report.updated += 1
            except RegistryError as error:
                report.errors.append(RowError.of(row.line, error))
                continue
        accepted.append(row)
    return accepted


_POLICY_COLUMNS = (
    "person_id",
    "insurer_id",
    "region_code",
    *lifecycle.policy_fields(PolicyKind.POLICY, "", (date.min, None), clock.now()),
)
_CODE_COLUMNS = ("person_id", "policy_id", "region_code", *lifecycle.code_fields(0, "", "", clock.now()))


@atomic
def _insert_new(
    items: list[Signed],
    actor: str,
    digest: str,
    moment: datetime,
    insurers: dict[str, int],
    insurer_regions: dict[str, str],
    keys: dict[str, SigningKey],
) -> None:
    """Persons, policies and codes of one batch: COPY on PostgreSQL, executemany on SQLite (webapp/db/bulk.py)."""
    # A key retired since the import began still stores what it signed: the codes say they were signed when the
    # import began, within its window. A compromised one does not.
    if KeyStatus.COMPROMISED in keystore.key_statuses({keys[item.insurer_code].kid.hex() for item in items}):
        raise RegistryError(KEY_COMPROMISED_MIDWAY)
    issued_on = clock.today_in_moscow(moment)
    insurer_ids = [insurers[item.insurer_code] for item in items]
    regions = [insurer_regions[item.insurer_code] for item in items]
    person_ids = bulk.insert_rows_with_ids(
        Person.__table__,
        (*PERSON_COLUMNS, "insurer_id", "region_code"),
        [
            (*item.person, insurer_id, region)
            for item, insurer_id, region in zip(items, insurer_ids, regions, strict=True)
        ],
    )
    policy_ids = bulk.insert_rows_with_ids(
        Policy.__table__,
        _POLICY_COLUMNS,
        [
            (
                person_id,
                insurer_id,
                region,
                *lifecycle.policy_fields(
                    PolicyKind.POLICY, item.person[PERSON_COLUMNS.index("category")], (issued_on, item.valid_to), moment
                ).values(),
            )
            for item, person_id, insurer_id, region in zip(items, person_ids, insurer_ids, regions, strict=True)
        ],
    )
    bulk.insert_rows(
        IssuedCode.__table__,
        _CODE_COLUMNS,
        [
            (
                person_id,
                policy_id,
                region,
                *lifecycle.code_fields(
                    lifecycle.FIRST_SERIAL, keys[item.insurer_code].kid.hex(), item.text, moment
                ).values(),
            )
            for item, person_id, policy_id, region in zip(items, person_ids, policy_ids, regions, strict=True)
        ],
    )
    audit.record(
        actor,
        "import",
        "registry",
        digest,
        reasons.IMPORTED,
        {"lines": f"{items[0].line}-{items[-1].line}", "created": len(items)},
        at=moment,
    )


def _link_representatives(rows: list[Row | Signed], actor: str, report: ImportReport) -> None:
    for row in rows:
        assert row.representative_enp is not None
        enp = str(row.data.enp) if isinstance(row, Row) else row.person[0]
        try:
            report.linked += lifecycle.link_representative(row.representative_enp, enp, actor)
        except RegistryError as error:
            report.errors.append(RowError(row.line, error.message, error.params, REPRESENTATIVE))


def export_csv(out: TextIO) -> int:
    """Every person, in the import format; the same file imports back unchanged. A line names one representative
    (the format's one column), the first linked: `more_representatives` counts the persons whose others it leaves
    out, for the command to say so."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    representatives: dict[int, str] = {}
    for represented_id, representative_enp in db.session.execute(_lasting_links().order_by(Representation.id)):
        representatives.setdefault(represented_id, representative_enp)
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


def _lasting_links() -> Select[tuple[int, str]]:
    """Each representation in force today (not a grown child's parents'): the represented person's id and the
    representative's ЕНП."""
    return (
        select(Representation.represented_id, Person.enp)
        .join(Person, Representation.representative_id == Person.id)
        .where(Representation.lasting_on(clock.today_in_moscow(clock.now())))
    )


def more_representatives() -> int:
    """How many persons have more than one representative in force: an export names only the first of them."""
    links = _lasting_links().subquery()
    several = select(links.c.represented_id).group_by(links.c.represented_id).having(func.count() > 1)
    return db.session.scalar(select(func.count()).select_from(several.subquery())) or 0


def count_lines(source: Path | bytes) -> int:
    """Data lines, for the progress bar and the job threshold (the header is not counted). A line ends with LF,
    CRLF, or CR alone (Excel's «CSV (Macintosh)»), as the CSV reader reads them."""
    data = source.read_bytes() if isinstance(source, Path) else source
    ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return max(ends + (0 if data.endswith((b"\n", b"\r")) or not data else 1) - 1, 0)
