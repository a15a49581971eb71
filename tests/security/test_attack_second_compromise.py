"""A second compromise while the first one's reissue runs (2026-12-06): the operator marks the insurer's key
compromised, and while two real job workers (`flask --app webapp worker`, on Redis) reissue its codes under the
new key, that new key is found stolen too.

The first reissue must not go on signing with the second key, nor leave a code under it that the second
reissue passed by; what it did not reach is left for the operator to resume, and in the end every holder has one
current code, under the third key, valid, and every code of the first two keys reads `key_compromised`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from policy_codes import Verdict
from tests.faults.registry import problems
from tests.webapp.conftest import queue_url  # noqa: F401 -- a fixture: skips, saying so, when Redis does not answer
from tests.webapp.queues import kill, work_off, worker
from tests.webapp.test_jobs import registry_csv, reissued, until
from webapp.extensions import db
from webapp.models import CodeStatus, IssuedCode, JobState, Person
from webapp.registry import bulk_import, clock, job_queue, mass_reissue
from webapp.registry.keys import keystore
from webapp.registry.verification import verify_scan

CODES = 300
BATCH = 10


def _current_codes() -> list[tuple[str, str]]:
    return list(db.session.execute(select(IssuedCode.kid, IssuedCode.text).where(IssuedCode.status == "current")))


def test_a_key_compromised_while_the_reissue_after_its_predecessors_compromise_runs(
    registry: Flask,
    database_url: str,
    queue_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert bulk_import.import_csv(registry_csv(CODES, seed=23), "test").created == CODES
    first = keystore.signing_key("77001", clock.now()).kid.hex()
    first_texts = [text for _, text in _current_codes()]
    settings = {"REISSUE_BATCH_SIZE": str(BATCH), "SIGNING_PROCESSES": "1"}
    log = tmp_path / "workers.log"
    workers = [worker(database_url, queue_url, log, **settings) for _ in range(2)]
    try:
        registry.config["JOB_QUEUE_URL"] = queue_url
        job = mass_reissue.compromise(first, "test")
        until(lambda: reissued(first) >= 3 * BATCH, timeout=60, step=0.005)
        second = keystore.signing_key("77001", clock.now()).kid.hex()
        assert second != first
        again = mass_reissue.compromise(second, "test")
        until(
            lambda: not any(job_queue.alive(job_queue.get(one.id)) for one in (job, again)),
            timeout=120,
            step=0.05,
        )
        db.session.rollback()
        assert job_queue.get(again.id).state == JobState.FINISHED, log.read_text()
        assert not db.session.scalar(
            select(func.count(IssuedCode.id)).where(IssuedCode.kid == second, IssuedCode.status == CodeStatus.CURRENT)
        ), "the second reissue left no code current under the second key"
        if job_queue.get(job.id).state == JobState.FAILED:  # stopped by the second compromise: the operator resumes
            (left,) = mass_reissue.unfinished()
            assert left.kid == first
            assert "сменился" in (left.failure or "")
            resumed = mass_reissue.resume(first, "test")
            assert resumed is not None
            until(lambda: not job_queue.alive(job_queue.get(resumed.id)), timeout=120, step=0.05)
            assert job_queue.get(resumed.id).state == JobState.FINISHED, log.read_text()
    finally:
        for process in workers:
            kill(process)
    work_off(registry)  # nothing left on the queue
    db.session.rollback()

    third = keystore.signing_key("77001", clock.now()).kid.hex()
    current = _current_codes()
    assert len(current) == db.session.scalar(select(func.count(Person.id))) == CODES
    assert {kid for kid, _ in current} == {third}
    assert mass_reissue.unfinished() == []
    # A mass reissue audits each batch, not each person (problems() counts the latter): the serials and the log.
    assert [problem for problem in problems(registry) if "reissues audited" not in problem] == []
    assert {verify_scan(text).verdict for _, text in current} == {Verdict.VALID}
    assert {verify_scan(text).verdict for text in first_texts} == {Verdict.KEY_COMPROMISED}
    second_texts = db.session.scalars(select(IssuedCode.text).where(IssuedCode.kid == second)).all()
    assert second_texts, "the second key signed codes before it was found stolen"
    assert {verify_scan(text).verdict for text in second_texts} == {Verdict.KEY_COMPROMISED}
