"""Jobs on a real Redis with real `flask worker` processes: a worker killed mid-reissue, another resuming it,
every code reissued exactly once; an import over the threshold as a job with its progress on the page; and,
with no queue configured, the same operations completing where they were started. SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import rq
from flask import Flask
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select, text, update

from policy_codes import Verdict
from policy_codes.sample_people import sample_people
from signing import KeyStatus
from tests.helpers.logs import everything_logged
from tests.webapp.pages import MOTHER, PASSWORD, code_text, csrf, logged_in, upload
from tests.webapp.queues import kill, kill_work_horse, queued_jobs, work_off, worker
from tests.webapp.test_admin_pages import active_kid, admin_post
from tests.webapp.test_cli import run
from webapp.extensions import db
from webapp.models import AuditEntry, CodeStatus, IssuedCode, Job, JobKind, JobState, Person, RevocationEvent, Role
from webapp.registry import accounts, audit, bulk_import, clock, job_queue, mass_reissue, signing_pool
from webapp.registry.errors import N_, RegistryError
from webapp.registry.job_queue import UNEXPECTED_FAILURE
from webapp.registry.keys import keystore
from webapp.registry.verification import verify_scan

#: Codes the killed reissue works on, and the batch it takes them in.
CODES = 3000
BATCH = 100


def registry_csv(count: int, insurer: str = "77001", seed: int = 7) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(bulk_import.COLUMNS)
    for person in sample_people(count, seed=seed):
        name = person.name
        row = [person.enp, name.surname, name.given_name, name.patronymic, person.birth_date, person.sex, ""]
        writer.writerow([*row, insurer, "citizen", "", ""])
    return out.getvalue().encode()


def until(condition: object, timeout: float, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot each time (SQLite keeps a reader's)
        if condition():  # type: ignore[operator]
            return
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def reissued(kid: str) -> int:
    return db.session.scalar(
        select(func.count(IssuedCode.id)).where(IssuedCode.kid == kid, IssuedCode.status != CodeStatus.CURRENT)
    )


@pytest.mark.slow
def test_a_worker_killed_mid_reissue_is_resumed_by_another_and_every_code_is_reissued_once(
    registry: Flask, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    assert bulk_import.import_csv(registry_csv(CODES), "test").created == CODES
    kid = keystore.signing_key("77001", clock.now()).kid.hex()
    old = {code.id: code.text for code in db.session.scalars(select(IssuedCode).where(IssuedCode.kid == kid))}
    assert len(old) == CODES
    settings = {
        "REISSUE_BATCH_SIZE": str(BATCH),
        "SIGNING_PROCESSES": "2",
        "JOB_MONITORING_SECONDS": "1",
        "JOB_MAINTENANCE_SECONDS": "2",
    }
    log = tmp_path / "workers.log"
    first = worker(database_url, queue_url, log, **settings)
    second = None
    try:
        registry.config["JOB_QUEUE_URL"] = queue_url
        job = mass_reissue.compromise(kid, "test")
        assert job.state == JobState.QUEUED, "the request only queued it"
        until(lambda: reissued(kid) >= 3 * BATCH, timeout=60, step=0.005)
        kill(first)
        db.session.rollback()
        done = reissued(kid)
        assert 0 < done < CODES, "killed midway"
        assert done % BATCH == 0, "only whole batches were committed"
        assert db.session.get(Job, job.id).state == JobState.RUNNING, "the dead worker could not say it stopped"

        second = worker(database_url, queue_url, log, **settings)
        # RQ hands the job to a live worker once the dead one's heartbeat has run out (60 s past its last).
        until(lambda: db.session.get(Job, job.id, populate_existing=True).state == JobState.FINISHED, timeout=180)
    finally:
        for process in (first, second):
            if process is not None:
                kill(process)
    db.session.rollback()
    finished = db.session.get(Job, job.id)
    assert finished.result == {"codes": CODES - done}, log.read_text()
    assert finished.done == finished.total == CODES

    assert reissued(kid) == CODES
    events = db.session.execute(
        select(RevocationEvent.code_id, func.count())
        .where(RevocationEvent.code_id.in_(old))
        .group_by(RevocationEvent.code_id)
    ).all()
    assert len(events) == CODES, "every old code listed"
    assert {count for _, count in events} == {1}, "each once"
    current = db.session.execute(
        select(IssuedCode.person_id, IssuedCode.serial, IssuedCode.kid).where(IssuedCode.status == CodeStatus.CURRENT)
    ).all()
    assert len(current) == db.session.scalar(select(func.count(Person.id))) == CODES
    assert {serial for _, serial, _ in current} == {2}, "one new code each, never two"
    assert db.session.scalar(select(func.count(IssuedCode.id))) == 2 * CODES
    new_kid = keystore.signing_key("77001", clock.now()).kid.hex()
    assert {code_kid for _, _, code_kid in current} == {new_kid}
    audited = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "mass_reissue")).all()
    assert sum(details["codes"] for details in audited) == CODES
    assert list(audit.problems()) == []
    sample = next(iter(old.values()))
    assert verify_scan(sample).verdict is Verdict.KEY_COMPROMISED


def progress_of(client: object, job_id: int) -> tuple[int, int, str]:
    block = client.get(f"/insurer/import/{job_id}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)  # type: ignore[attr-defined]
    done, total = map(int, re.search(r"(\d+) / (\d+)", block).groups())  # type: ignore[union-attr]
    return done, total, block


@pytest.mark.slow
def test_an_import_over_the_threshold_is_a_job_and_its_page_shows_the_progress(
    site: Flask, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=1000)
    client = logged_in(site, "smo")
    lines = 3000
    response = upload(client, registry_csv(lines, seed=11) + registry_csv(2, "77002", seed=12).split(b"\n", 1)[1])
    assert response.status_code == 302
    job_id = int(response.location.rsplit("/", 1)[1])
    done, total, block = progress_of(client, job_id)
    assert (done, total) == (0, lines + 2)
    assert "hx-trigger" in block
    assert "в очереди" in block
    assert NO_WORKERS_FOR_AN_IMPORT in block, "no worker listens yet: the page says so rather than wait in silence"
    seen = set()
    process = worker(database_url, queue_url, tmp_path / "worker.log", IMPORT_BATCH_SIZE="100", SIGNING_PROCESSES="2")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done, total, block = progress_of(client, job_id)
            seen.add(done)
            if "hx-trigger" not in block:
                break
            time.sleep(0.01)
    finally:
        kill(process)
    assert any(0 < count < total for count in seen), f"the page showed the job midway: {sorted(seen)}"
    assert done == total
    assert "загрузка завершена" in block
    assert 'Создано: <strong class="number">3000</strong>' in block
    assert "не ваша" in block, "the other insurer's lines are refused"
    page = client.get(f"/insurer/import/{job_id}").get_data(as_text=True)
    assert 'ошибок: <strong class="number">2</strong>' in page
    assert logged_in(site, "admin").get(f"/insurer/import/{job_id}").status_code == 403
    with site.app_context():
        assert db.session.scalar(select(func.count(Person.id)).where(Person.insurer_id.is_not(None))) >= lines
        assert db.session.get(Job, job_id).payload is None, "the file is not kept once imported"


def test_without_a_queue_a_large_import_completes_in_the_request(site: Flask) -> None:
    site.config["IMPORT_JOB_THRESHOLD"] = 100
    client = logged_in(site, "smo")
    response = upload(client, registry_csv(300, seed=13))
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "300 / 300" in page
    assert "hx-trigger" not in page
    assert 'Создано: <strong class="number">300</strong>' in page


def test_an_import_jobs_page_lists_the_first_refused_lines_and_hands_out_every_one_as_a_csv(site: Flask) -> None:
    """A job keeps ERRORS_KEPT refused lines for its page; the insurer downloads all of them, with their line
    numbers and reasons, to mend the file. Only the insurer's own staff may."""
    site.config["IMPORT_JOB_THRESHOLD"] = 100
    refused = bulk_import.ERRORS_KEPT + 50
    others = registry_csv(refused, "77002", seed=41).split(b"\n", 1)[1]
    client = logged_in(site, "smo")
    response = upload(client, registry_csv(20, seed=40) + others)
    job_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).get_data(as_text=True)
    assert 'Создано: <strong class="number">20</strong>' in page
    assert page.count("не ваша") == bulk_import.ERRORS_KEPT
    assert "… и ещё ошибочных строк: 50" in page
    link = f"/insurer/import/{job_id}/refused.csv"
    assert f'href="{link}"' in page

    download = client.get(link)
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.headers["Cache-Control"] == "no-store"
    assert f'filename="import-{job_id}-refused.csv"' in download.headers["Content-Disposition"]
    text = download.get_data().decode("utf-8")
    assert text.startswith("\ufeffline,reason\r\n"), "Excel opens it as UTF-8"
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1:]
    assert [int(line) for line, _ in rows] == list(range(22, 22 + refused)), "every refused line, in order"
    assert all("СМО 77002 — не ваша" in reason for _, reason in rows)

    with site.app_context():
        accounts.create_user("other-smo", PASSWORD, Role.INSURER, "test", insurer_code="77002")
    assert logged_in(site, "other-smo").get(link).status_code == 404, "another insurer's job is not there"
    assert logged_in(site, "admin").get(link).status_code == 403
    assert logged_in(site, "clinic").get(link).status_code == 403
    with site.app_context():
        assert db.session.get(Job, job_id).payload is None, "the file itself is not kept"
    clean = int(upload(client, registry_csv(150, seed=42)).location.rsplit("/", 1)[1])
    assert "refused.csv" not in client.get(f"/insurer/import/{clean}").get_data(as_text=True)
    assert client.get(f"/insurer/import/{clean}/refused.csv").status_code == 404, "nothing refused, nothing to hand"


def test_a_small_import_loads_at_once_and_refuses_other_insurers_lines(site: Flask) -> None:
    client = logged_in(site, "smo")
    data = registry_csv(5, seed=14) + registry_csv(1, "77002", seed=15).split(b"\n", 1)[1]
    page = upload(client, data).get_data(as_text=True)
    assert 'Создано: <strong class="number">5</strong>' in page
    assert "СМО 77002 — не ваша" in page
    again = upload(client, data).get_data(as_text=True)
    assert 'без изменений: <strong class="number">5</strong>' in again


#: Lines an insurer's import refuses, each with why, in Russian and in English (the header is line 1).
#: A mistyped ЕНП's refusal, as the import's report says it in each language.
ENP_TYPO = (
    "В ЕНП опечатка: контрольная (последняя) цифра не сходится с остальными. Сверьте все 16 цифр с полисом "
    "и исправьте номер.",
    "The policy number has a typo: its check digit (the last one) does not match the others. Compare all 16 digits "
    "with the policy and correct the number.",
)

REFUSED_IN_BOTH_LANGUAGES = [
    (
        "7700000000000016,Иванова,Мария,Петровна,1990-04-12,F,,77001,citizen,,",
        None,
        None,
    ),
    (
        "7700000000000016,Иванова,Мария,Петровна,1990-04-12,F,,77001,citizen,,",
        "ЕНП повторяется в файле (строка 2)",
        "the policy number is repeated in the file (line 2)",
    ),
    (
        "7700000000000017,Петров,Пётр,,1980-01-01,M,,77001,citizen,,",
        ENP_TYPO[0],
        ENP_TYPO[1],
    ),
    (
        "7700000000000073,Кузнецов,Дмитрий,,2004-02-14,M,,99999,citizen,,",
        "неизвестная СМО «99999»",
        "unknown insurer “99999”",
    ),
    (
        "7700000000000081,Smith,John,,1985-07-21,M,,77001,citizen,,",
        "Недопустимые знаки в ФИО: S M I T H J O N (ФИО пишется русскими буквами)",
        "Characters not allowed in a name: S M I T H J O N (names are written in Russian letters)",
    ),
    (
        "7700000000000099,Орлов,Олег,,1985-07-21,M,,77001,citizen,,7700000000000017",
        f"представитель: {ENP_TYPO[0]}",
        f"representative: {ENP_TYPO[1]}",
    ),
    (
        "7700000000000057,Каримов,Ильдар,,1995-06-17,M,,77002,citizen,,",
        "СМО 77002 — не ваша",
        "insurer 77002 is not yours",
    ),
    (
        "7700000000000065,Смирнова,Анна,,1990-01-01,F,,77001,citizen,,,",
        "полей больше, чем столбцов в заголовке: ожидалось 11, в строке 12",
        "more fields than the header has columns: 11 expected, 12 in the line",
    ),
]


@pytest.mark.parametrize("as_a_job", [False, True], ids=["at-once", "job"])
def test_an_imports_refused_lines_read_in_the_pages_language(site: Flask, as_a_job: bool) -> None:
    """The reasons are kept as catalog messages with their values, so an English page says them in English (a
    job's report too, read back from its row), and the Russian page, the command and the CSV in Russian."""
    site.config["IMPORT_JOB_THRESHOLD"] = 3 if as_a_job else 100
    data = "\n".join([",".join(bulk_import.COLUMNS), *(line for line, _, _ in REFUSED_IN_BOTH_LANGUAGES)]) + "\n"
    client = logged_in(site, "smo")
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/insurer/import")})
    response = upload(client, data.encode())
    page = client.get(response.location).get_data(as_text=True) if as_a_job else response.get_data(as_text=True)
    for line, (_, russian, english) in enumerate(REFUSED_IN_BOTH_LANGUAGES, start=2):
        if english is not None:
            assert f"line {line}: {english}" in page, line
            assert russian not in page, f"line {line} in Russian"
    client.post("/language", data={"language": "ru", "csrf_token": csrf(client, "/insurer/import")})
    page = (
        client.get(response.location).get_data(as_text=True)
        if as_a_job
        else upload(client, data.encode()).get_data(as_text=True)
    )
    for line, (_, russian, _) in enumerate(REFUSED_IN_BOTH_LANGUAGES, start=2):
        if russian is not None:
            assert f"строка {line}: {russian}" in page, line


def test_the_import_page_lists_the_columns_and_its_template_fills_in_and_loads(site: Flask) -> None:
    client = logged_in(site, "smo")
    page = client.get("/insurer/import").get_data(as_text=True)
    assert all(f"<code>{column}</code>" in page for column in bulk_import.COLUMNS)
    template = client.get("/insurer/import/template.csv")
    assert template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    assert template.data == "\ufeff".encode() + ",".join(bulk_import.COLUMNS).encode() + b"\r\n"
    filled = template.data + registry_csv(2, seed=29).split(b"\n", 1)[1]
    assert 'Создано: <strong class="number">2</strong>' in upload(client, filled).get_data(as_text=True)
    assert logged_in(site, "ivanova").get("/insurer/import/template.csv").status_code == 403


def test_an_upload_without_a_file_or_over_the_limit_is_refused(site: Flask) -> None:
    client = logged_in(site, "smo")
    assert upload(client, b"").status_code == 400
    site.config["IMPORT_MAX_BYTES"] = 2048
    assert upload(client, registry_csv(100, seed=16)).status_code == 413
    assert client.get("/insurer/import").status_code == 200


def test_without_a_queue_the_commands_run_the_jobs_here(registry: Flask, tmp_path: Path) -> None:
    registry.config["IMPORT_JOB_THRESHOLD"] = 100
    path = tmp_path / "registry.csv"
    path.write_bytes(registry_csv(300, seed=17))
    code, output = run(registry, "registry", "import", str(path))
    assert code == 0, output
    assert "Создано: 300" in output
    assert db.session.scalar(select(Job.state).where(Job.kind == "import")) == JobState.FINISHED
    kid = keystore.signing_key("77001", clock.now()).kid.hex()
    code, output = run(registry, "keys", "compromised", kid)
    assert code == 0, output
    assert f"Ключ {kid} скомпрометирован, перевыпущено кодов: 300" in output
    db.session.rollback()
    assert reissued(kid) == 300


def test_the_import_command_prints_every_line_a_job_refused(registry: Flask, tmp_path: Path) -> None:
    """A job keeps ERRORS_KEPT refused lines in its result, for its page; the command prints all of them."""
    registry.config["IMPORT_JOB_THRESHOLD"] = 100
    refused = bulk_import.ERRORS_KEPT + 10
    path = tmp_path / "registry.csv"
    path.write_bytes(registry_csv(refused, "99999", seed=19))
    code, output = run(registry, "registry", "import", str(path))
    assert code == 1, "nothing loaded"
    assert output.count("неизвестная СМО «99999»") == refused
    assert f"строка {refused + 1}: " in output
    assert "и ещё" not in output
    assert f"ошибок: {refused}" in output


def test_a_web_request_starts_no_signing_processes(app: Flask) -> None:
    with app.test_request_context("/insurer/import", method="POST"), pytest.raises(RuntimeError, match="web worker"):
        signing_pool.SigningPool({}, 2)
    with app.app_context(), signing_pool.SigningPool({}, 2) as pool:  # a command or a job's worker may
        assert pool.pool is not None


def test_an_in_process_worker_leaves_the_test_processs_signal_handlers(app: Flask, queue_url: str) -> None:
    """RQ's worker installs its own SIGTERM handler; left in place, signing processes forked later inherit it and
    outlive Pool.terminate (tests/webapp/queues.py work_off puts the handlers back)."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    app.config["JOB_QUEUE_URL"] = queue_url
    work_off(app)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_job_failing_on_every_try_is_queued_again_until_rqs_tries_run_out_then_keeps_no_file(
    site: Flask, queue_url: str
) -> None:
    """A failure that is not the rules' (here a stored file that no longer decompresses, as a damaged row would)
    goes back to RQ, which runs the job again: meanwhile it reads as queued, not as stopped. Once RQ has no
    more tries the job fails, and its file, personal data, goes with it."""
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    response = upload(client, registry_csv(300, seed=23))
    job_id = int(response.location.rsplit("/", 1)[1])
    with site.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(payload=b"not a compressed file"))
        db.session.commit()
    work_off(site, tries=1)
    with site.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.failure, job.payload) == (JobState.QUEUED, UNEXPECTED_FAILURE, b"not a compressed file")
        assert queued_jobs(site) == 1, "RQ runs it again"
    assert "в очереди" in client.get(f"/insurer/import/{job_id}").get_data(as_text=True)

    work_off(site)
    with site.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.failure, job.payload) == (JobState.FAILED, UNEXPECTED_FAILURE, None)
        assert queued_jobs(site) == 0
    page = client.get(f"/insurer/import/{job_id}").get_data(as_text=True)
    assert "загрузка остановлена" in page
    assert f"Причина остановки: {UNEXPECTED_FAILURE}" in page
    assert "Загрузите файл ещё раз" in page


#: A database refusing new persons, as a constraint or a full disk would: each engine's error quotes the rows.
REFUSE_PERSONS = {
    "sqlite": ["CREATE TRIGGER refuse_persons BEFORE INSERT ON persons BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_persons() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'refused'; END $$",
        "CREATE TRIGGER refuse_persons BEFORE INSERT ON persons FOR EACH ROW EXECUTE FUNCTION refuse_persons()",
    ],
}
#: And taking it back: the module's later tests share the database.
ACCEPT_PERSONS = {
    "sqlite": ["DROP TRIGGER refuse_persons"],
    "postgresql": ["DROP TRIGGER refuse_persons ON persons", "DROP FUNCTION refuse_persons()"],
}


@contextlib.contextmanager
def refusing_new_persons(app: Flask) -> Iterator[None]:
    def run(statements: dict[str, list[str]]) -> None:
        with app.app_context():
            for statement in statements[db.engine.dialect.name]:
                db.session.execute(text(statement))
            db.session.commit()

    run(REFUSE_PERSONS)
    try:
        yield
    finally:
        run(ACCEPT_PERSONS)


def test_a_job_failing_in_the_database_gives_rq_no_personal_data_to_log_or_keep(
    site: Flask, queue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The database refuses an import's rows. Its error quotes them (SQLAlchemy's parameters, PostgreSQL's COPY
    context: names, ЕНП, birth dates), and RQ logs whatever a job raises, with its traceback, and keeps it in
    Redis. The job hands RQ the error's class alone."""
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    written = {word for person in sample_people(300, seed=29) for word in (str(person.enp), person.name.surname)}
    job_id = int(upload(client, registry_csv(300, seed=29)).location.rsplit("/", 1)[1])
    on_its_last_try(site, job_id)  # RQ keeps a job's failure in Redis once it has no more tries
    with refusing_new_persons(site), everything_logged(caplog):
        work_off(site, tries=1)
    assert job_row(site, job_id).state == JobState.FAILED
    kept = rq_job(site, job_id).latest_result()
    assert kept is not None
    told = "\n".join([kept.exc_string or "", *(logging.Formatter().format(record) for record in caplog.records)])
    assert "exception raised while executing" in told, "RQ logged the failure"
    assert {word for word in written if word in told.upper()} == set()


def rq_job(app: Flask, job_id: int) -> rq.job.Job:
    with app.app_context():
        found = job_queue.queue().fetch_job(job_queue.rq_id(job_id))
    assert found is not None
    return found


def on_its_last_try(app: Flask, job_id: int) -> None:
    """RQ's count of the job's tries left set to none, as after RETRIES runs."""
    job = rq_job(app, job_id)
    job.retries_left = 0
    job.save()


def registry_counts(app: Flask) -> tuple[int, int]:
    """Persons and issued codes."""
    with app.app_context():
        return db.session.scalar(select(func.count(Person.id))), db.session.scalar(select(func.count(IssuedCode.id)))


def job_row(app: Flask, job_id: int) -> Job:
    with app.app_context():
        job = job_queue.get(job_id)
        job.payload  # noqa: B018 -- deferred: read while its session is open
        return job


def until_midway(app: Flask, job_id: int) -> None:
    """Wait until a worker runs the job and has committed a batch of this run (a run again starts its count anew)."""
    with app.app_context():
        until(lambda: job_queue.get(job_id).state == JobState.RUNNING, timeout=60, step=0.005)
        begun = job_queue.get(job_id).done
        until(lambda: job_queue.get(job_id).done not in (begun, job_queue.get(job_id).total), timeout=120, step=0.005)


def assert_stopped_for_good_without_its_file(app: Flask, client: object, job_id: int) -> None:
    job = job_row(app, job_id)
    assert (job.state, job.failure, job.payload) == (JobState.FAILED, UNEXPECTED_FAILURE, None)
    page = client.get(f"/insurer/import/{job_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    assert "загрузка остановлена" in page
    assert "Загрузите файл ещё раз" in page


@pytest.mark.slow
def test_an_import_whose_process_is_killed_carries_on_while_rq_has_tries_then_fails_keeping_no_file(
    site: Flask, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    """The process running the job (RQ's work horse) is killed, as the out-of-memory killer would, and the worker
    lives on: RQ runs the job again, which carries on from the database. Killed on its last try, the job
    fails and its file, personal data, goes: its row said running, with the file, for good before."""
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    before = registry_counts(site)
    log = tmp_path / "worker.log"
    process = worker(database_url, queue_url, log, IMPORT_BATCH_SIZE="100", SIGNING_PROCESSES="2")
    try:
        first = int(upload(client, registry_csv(3000, seed=31)).location.rsplit("/", 1)[1])
        until_midway(site, first)
        kill_work_horse(process)
        with site.app_context():
            until(lambda: job_queue.get(first).state == JobState.FINISHED, timeout=120)
        assert "queued again" in log.read_text()
        persons, codes = registry_counts(site)
        assert (persons - before[0], codes - before[1]) == (3000, 3000), "every line imported, once"
        assert job_row(site, first).payload is None

        os.kill(process.pid, signal.SIGSTOP)  # the next job waits until it is on its last try
        last = int(upload(client, registry_csv(3000, seed=32)).location.rsplit("/", 1)[1])
        on_its_last_try(site, last)
        os.kill(process.pid, signal.SIGCONT)
        until_midway(site, last)
        kill_work_horse(process)
        with site.app_context():
            until(lambda: job_queue.get(last).state == JobState.FAILED, timeout=60)
        assert "no tries left" in log.read_text()
        # RQ's own record says failed once its worker has done its bookkeeping, which a busy machine can delay
        # past the job's row (stopping the worker first left it "started").
        with site.app_context():
            until(lambda: rq_job(site, last).get_status() == rq.job.JobStatus.FAILED, timeout=60)
    finally:
        kill(process)
    assert_stopped_for_good_without_its_file(site, client, last)


@pytest.mark.slow
def test_an_import_whose_worker_is_killed_is_queued_again_by_the_next_workers_maintenance_until_tries_run_out(
    site: Flask, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    """The whole worker is killed with its job. What the next worker's maintenance does once the dead one's
    heartbeat has run out (RQ's clean-up of its started jobs) is run here at once, a minute on: with tries left
    the job is queued again, and its page says so; on its last try it fails and keeps no file."""
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    job_id = int(upload(client, registry_csv(3000, seed=33)).location.rsplit("/", 1)[1])

    def killed_midway() -> None:
        process = worker(database_url, queue_url, tmp_path / "worker.log", IMPORT_BATCH_SIZE="100")
        try:
            until_midway(site, job_id)
        finally:
            kill(process)
        assert job_row(site, job_id).state == JobState.RUNNING, "the dead worker could not say it stopped"
        with site.app_context():
            StartedJobRegistry(queue=job_queue.queue()).cleanup(timestamp=time.time() + 3600)

    killed_midway()
    job = job_row(site, job_id)
    assert (job.state, job.failure) == (JobState.QUEUED, UNEXPECTED_FAILURE)
    assert job.payload is not None, "kept for the next try"
    with site.app_context():
        assert job_queue.alive(job)
    assert "в очереди" in client.get(f"/insurer/import/{job_id}").get_data(as_text=True)

    on_its_last_try(site, job_id)
    killed_midway()
    assert_stopped_for_good_without_its_file(site, client, job_id)


NO_WORKERS_FOR_AN_IMPORT = "Исполнители заданий сейчас не запущены"
NO_WORKERS_FOR_A_REISSUE = "Исполнители заданий не запущены"


@pytest.mark.slow
def test_a_job_queued_while_a_worker_listens_does_not_say_none_is_running(
    site: Flask, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    """The worker is stopped (SIGSTOP) once it listens, so the job stays queued while a worker is registered."""
    process = worker(database_url, queue_url, tmp_path / "worker.log")
    try:
        with site.app_context():
            site.config["JOB_QUEUE_URL"] = queue_url
            deadline = time.monotonic() + 60
            while rq.Worker.count(queue=job_queue.queue()) == 0:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.1)
        os.kill(process.pid, signal.SIGSTOP)
        client = logged_in(site, "admin")
        kid = active_kid(site)
        admin_post(client, f"/admin/keys/{kid}/compromise", {}, f"/admin/keys/{kid}/compromise")
        page = client.get(f"/admin/keys/{kid}").get_data(as_text=True)
        assert "в очереди" in page
        assert NO_WORKERS_FOR_A_REISSUE not in page
    finally:
        kill(process)


#: Nothing listens on port 1: a queue that refuses every connection, as a Redis that is down does.
QUEUE_DOWN = "redis://127.0.0.1:1/0"


def test_a_compromise_while_the_queue_is_down_distrusts_the_key_and_the_reissue_can_be_started_later(
    site: Flask, queue_url: str
) -> None:
    """The key must stop being trusted at once whatever the queue does; the reissue, refused with a clear
    message, must not be left as a job 'in the queue' that no queue holds, which would refuse every resume."""
    site.config["JOB_QUEUE_URL"] = QUEUE_DOWN
    client = logged_in(site, "admin")
    kid = active_kid(site)
    response = admin_post(client, f"/admin/keys/{kid}/compromise", {}, f"/admin/keys/{kid}/compromise")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Очередь заданий недоступна" in page
    assert "Продолжить перевыпуск" in page
    with site.app_context():
        assert keystore.record_for(kid).status == KeyStatus.COMPROMISED
        assert verify_scan(code_text(site, MOTHER)).verdict is Verdict.KEY_COMPROMISED
        assert job_queue.latest(JobKind.MASS_REISSUE, kid).state == JobState.FAILED

    assert admin_post(client, f"/admin/keys/{kid}/resume", {}, f"/admin/keys/{kid}").status_code == 302
    assert "Очередь заданий недоступна" in client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    client.post("/language", data={"language": "en", "next": "/admin/", "csrf_token": csrf(client, "/admin/")})
    english = client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert "Why it stopped: The job queue is unavailable" in english, "the stored reason in the page's language"
    client.post("/language", data={"language": "ru", "next": "/admin/", "csrf_token": csrf(client, "/admin/")})

    site.config["JOB_QUEUE_URL"] = queue_url
    assert admin_post(client, f"/admin/keys/{kid}/resume", {}, f"/admin/keys/{kid}").status_code == 302
    resumed = client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert "Перевыпуск продолжен" in resumed
    assert NO_WORKERS_FOR_A_REISSUE in resumed
    assert queued_jobs(site) == 1
    site.config["SIGNING_PROCESSES"] = 2  # forked under RQ's in-process handlers: they end once their work is done
    work_off(site)
    with site.app_context():
        assert mass_reissue.progress(keystore.record_for(kid)).finished
        assert verify_scan(code_text(site, MOTHER)).verdict is Verdict.VALID


def test_a_job_the_queue_lost_is_not_taken_for_queued(site: Flask, queue_url: str) -> None:
    """Redis restarted without its data (or was flushed): the job's row still says queued, but nothing will
    run it. Its page stops waiting, and the reissue can be started again."""
    site.config["JOB_QUEUE_URL"] = queue_url
    kid = active_kid(site)
    with site.app_context():
        job = mass_reissue.compromise(kid, "test")
        assert job.state == JobState.QUEUED
        assert job_queue.alive(job)
        assert mass_reissue.resume(kid, "test") is None, "one is on the queue already"
        job_queue.queue().empty()  # the queue and its jobs' keys, as a Redis restarted without its data
        assert not job_queue.alive(job)
        assert mass_reissue.resume(kid, "test") is not None
    assert queued_jobs(site) == 1


def test_an_import_the_queue_lost_fails_where_it_is_found_and_keeps_no_file(site: Flask, queue_url: str) -> None:
    """Redis restarted without its data: nothing will run the queued import, and its file, personal data, stayed
    in its row for good. Found so by its page (or anything asking whether it is alive) once it has been queued
    longer than a hand-over to RQ takes, it fails, saying why, and the file goes; found sooner, it waits."""
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    job_id = int(upload(client, registry_csv(300, seed=27)).location.rsplit("/", 1)[1])
    with site.app_context():
        job_queue.queue().empty()  # the queue and its jobs' keys, as a Redis restarted without its data
    client.get(f"/insurer/import/{job_id}")
    job = job_row(site, job_id)
    assert (job.state, job.payload is not None) == (JobState.QUEUED, True), "it may still be on its way to RQ"

    with site.app_context():  # queued before the restart, longer ago than a hand-over takes
        queued_at = clock.now() - job_queue.HANDOVER - timedelta(seconds=1)
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=queued_at))
        db.session.commit()
    page = client.get(f"/insurer/import/{job_id}").get_data(as_text=True)
    assert "загрузка остановлена" in page
    assert f"Причина остановки: {job_queue.LOST_BY_THE_QUEUE}" in page
    assert "hx-trigger" not in page, "the page stops polling"
    job = job_row(site, job_id)
    assert (job.state, job.payload) == (JobState.FAILED, None)


def test_an_import_while_the_queue_is_down_is_refused_and_keeps_no_file(site: Flask) -> None:
    site.config.update(JOB_QUEUE_URL=QUEUE_DOWN, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    response = upload(client, registry_csv(300, seed=18))
    assert response.status_code == 503
    assert "Очередь заданий недоступна" in response.get_data(as_text=True)
    with site.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "import"))
        assert job.state == JobState.FAILED
        assert job.payload is None, "the registry file is personal data: not kept for a job that will not run"


def test_a_command_while_the_queue_is_down_says_so_and_fails(registry: Flask) -> None:
    registry.config["JOB_QUEUE_URL"] = QUEUE_DOWN
    kid = keystore.signing_key("77001", clock.now()).kid.hex()
    code, output = run(registry, "keys", "compromised", kid)
    assert code != 0
    assert "Очередь заданий недоступна" in output
    assert keystore.record_for(kid).status == KeyStatus.COMPROMISED


def test_a_command_following_a_job_the_queue_loses_stops_and_says_so(registry: Flask, queue_url: str) -> None:
    registry.config["JOB_QUEUE_URL"] = queue_url
    kid = keystore.signing_key("77001", clock.now()).kid.hex()

    def lose_the_job() -> None:
        with registry.app_context():
            queue = job_queue.queue()
            deadline = time.monotonic() + 30
            while queue.count == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            queue.empty()

    loser = threading.Thread(target=lose_the_job)
    loser.start()
    try:
        code, output = run(registry, "keys", "compromised", kid)
    finally:
        loser.join()
    assert code != 0
    assert "потеряно очередью: запустите его снова" in output
    assert mass_reissue.resume(kid, "test") is not None, "the lost job is not taken for one still queued"


def test_a_worker_whose_queue_is_down_says_so(registry: Flask) -> None:
    registry.config["JOB_QUEUE_URL"] = QUEUE_DOWN
    code, output = run(registry, "worker", "--burst")
    assert code != 0
    assert "Очередь заданий (JOB_QUEUE_URL) недоступна" in output


def flashed(page: str) -> list[str]:
    return re.findall(r'<p class="flash error" role="alert">(.*?)</p>', page, re.S)


@pytest.mark.parametrize(
    ("data", "refusal", "in_english"),
    [
        (
            registry_csv(300, seed=19).decode().encode("cp1251"),
            "Файл не в кодировке UTF-8 (строка 2): сохраните его как «CSV UTF-8»",
            "The file is not in UTF-8 (line 2): save it as “CSV UTF-8”",
        ),
        (
            b"\n".join(registry_csv(300, seed=19).split(b"\n")[1:]),  # no header
            "В заголовке нет столбцов: enp, surname",
            "The header lacks the columns: enp, surname",
        ),
    ],
    ids=["windows-1251", "no-header"],
)
def test_a_large_file_the_import_cannot_read_is_refused_at_once_and_no_job_keeps_it(
    site: Flask, queue_url: str, data: bytes, refusal: str, in_english: str
) -> None:
    """Refused on the upload's page, before a job is queued: the insurer fixes the file now, not after a wait."""
    site.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=100)
    client = logged_in(site, "smo")
    response = upload(client, data)
    assert response.status_code == 400
    assert refusal in flashed(response.get_data(as_text=True))[0]
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf(client, "/insurer/import")})
    assert in_english in flashed(upload(client, data).get_data(as_text=True))[0]
    with site.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 0, "no job, so no copy of the file"


def test_an_import_job_that_fails_for_good_keeps_no_file(site: Flask) -> None:
    """A job the rules refuse as a whole keeps no copy of the registry file. Its work raises a `RegistryError`, as
    the import's does for a file it cannot read that was queued before uploads were checked."""

    def refused(job: Job, processes: int, progress: object) -> dict[str, object]:
        raise RegistryError(N_("Файл пуст"))

    with site.test_request_context():
        job = job_queue.start(
            JobKind.IMPORT, "registry.csv", "test", bulk_import.run_job, refused, payload=registry_csv(3), scope="77001"
        )
    client = logged_in(site, "smo")
    page = client.get(f"/insurer/import/{job.id}").get_data(as_text=True)
    assert "Причина остановки: Файл пуст" in page
    assert "Загрузите файл ещё раз" in page
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf(client, "/insurer/import")})
    assert "The file is empty" in client.get(f"/insurer/import/{job.id}").get_data(as_text=True)
    with site.app_context():
        job = db.session.get(Job, job.id)
        assert job.state == JobState.FAILED
        assert job.payload is None, "the registry file is personal data: not kept for a job that will not run again"


def test_a_compromise_while_the_queues_redis_is_frozen_is_answered(site: Flask, frozen_redis: str) -> None:
    """A Redis that takes connections and answers nothing (its machine hung) is waited for a few seconds, then
    taken for down: the key is distrusted, and the page says the reissue waits."""
    site.config["JOB_QUEUE_URL"] = frozen_redis
    client = logged_in(site, "admin")
    kid = active_kid(site)
    started = time.monotonic()
    response = admin_post(client, f"/admin/keys/{kid}/compromise", {}, f"/admin/keys/{kid}/compromise")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert time.monotonic() - started < 4 * job_queue.WAIT_SECONDS
    assert "Очередь заданий недоступна" in page
    with site.app_context():
        assert keystore.record_for(kid).status == KeyStatus.COMPROMISED
