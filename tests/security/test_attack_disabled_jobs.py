"""An import queued by a login the operator then disables: the job worker (RQ) must not make it for them.

A large import is a job (webapp/registry/bulk_import.py): the page only queues it, and an RQ worker makes it when it
gets to it, minutes later behind other jobs, and again on each of RQ's tries. The operator disables a login whose
password was stolen, or whose holder was dismissed; until now the worker went on to load whatever that login had
queued (names, birth dates, new people, each change superseding codes), as if the login were still trusted.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from policy_codes.sample_people import sample_people
from tests.webapp.conftest import queue_url  # noqa: F401  (a fixture: skips, saying so, when Redis does not answer)
from tests.webapp.pages import csrf, logged_in
from tests.webapp.queues import work_off
from tests.webapp.test_jobs import registry_csv, upload
from webapp.extensions import db
from webapp.models import AuditEntry, Job, JobState, Person, User
from webapp.registry import accounts, bulk_import


def test_an_import_queued_by_a_login_the_operator_then_disables_is_not_made(world: Flask, queue_url: str) -> None:  # noqa: F811
    world.config.update(JOB_QUEUE_URL=queue_url, IMPORT_JOB_THRESHOLD=3, SIGNING_PROCESSES=1)
    smo = logged_in(world, "smo")
    data = registry_csv(6, seed=41)
    response = upload(smo, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    job_id = int(response.location.rsplit("/", 1)[1])
    with world.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "smo"))
        people_before = db.session.scalar(select(func.count(Person.id)))
        assert db.session.get(Job, job_id).state == JobState.QUEUED

    operator = logged_in(world, "admin")
    token = csrf(operator, "/admin/users")
    assert operator.post(f"/admin/users/{user_id}/active", data={"active": "0", "csrf_token": token}).status_code == 302

    work_off(world)
    enps = [str(person.enp) for person in sample_people(6, seed=41)]
    with world.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == JobState.FAILED, job.result
        assert "отключ" in job.failure
        assert job.payload is None, "the file, personal data, goes"
        assert db.session.scalar(select(func.count(Person.id))) == people_before
        assert not db.session.scalar(select(func.count(Person.id)).where(Person.enp.in_(enps)))
        assert not db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.actor == "smo:smo", AuditEntry.action == "register")
        )

    # Its own login enabled again, the insurer's next import is made as before.
    token = csrf(operator, "/admin/users")
    assert operator.post(f"/admin/users/{user_id}/active", data={"active": "1", "csrf_token": token}).status_code == 302
    again = upload(logged_in(world, "smo"), data)
    work_off(world)
    with world.app_context():
        assert db.session.get(Job, int(again.location.rsplit("/", 1)[1])).state == JobState.FINISHED
        assert db.session.scalar(select(func.count(Person.id)).where(Person.enp.in_(enps))) == len(enps)


def test_an_import_running_when_the_operator_disables_its_login_stops_after_the_batch_it_is_writing(
    world: Flask,
) -> None:
    """A million-line import runs for minutes: disabling a stolen login stops it there, not at its end."""
    world.config.update(IMPORT_BATCH_SIZE=2)
    data = registry_csv(6, seed=43)
    enps = [str(person.enp) for person in sample_people(6, seed=43)]
    with world.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "smo"))

        def operator_disables_the_login(done: int, total: int) -> None:
            if done == 2:  # the first batch is in
                accounts.set_active(user_id, False, "admin:admin")

        job = bulk_import.start_job(data, "smo:smo", scope="77001", progress=operator_disables_the_login)
        assert job.state == JobState.FAILED, job.result
        assert job.failure.startswith("Вход сотрудника, загрузившего файл, отключён оператором реестра во время")
        assert job.done == 2
        assert job.payload is None
        loaded = db.session.scalars(select(Person.enp).where(Person.enp.in_(enps))).all()
        assert sorted(loaded) == sorted(enps[:2]), "the batch written stays; none after it is made"
