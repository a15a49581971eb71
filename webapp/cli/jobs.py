"""Jobs from the command line: a worker for the queue, and a progress bar for a job wherever it runs."""

from __future__ import annotations

import sys

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker

from webapp.cli.group import RegistryCommand
from webapp.models import Job, JobState
from webapp.registry import job_queue


@click.command("worker", cls=RegistryCommand)
@click.option("--burst", is_flag=True, help="Выполнить задания из очереди и выйти.")
@with_appcontext
def worker(burst: bool) -> None:
    """Выполнять задания (массовый перевыпуск, большой импорт) из очереди JOB_QUEUE_URL.

    Задание, прерванное гибелью исполнителя, возвращается в очередь, когда истекает его пульс, и
    продолжается с того, что осталось.
    """
    queue = job_queue.queue(for_worker=True)
    maintenance = current_app.config.get("JOB_MAINTENANCE_SECONDS", 600)
    try:
        Worker(
            [queue],
            connection=queue.connection,
            job_monitoring_interval=current_app.config.get("JOB_MONITORING_SECONDS", 30),
            maintenance_interval=maintenance,
            # An idle worker waits for a job this long less 15 s before it looks again for jobs whose worker died.
            worker_ttl=maintenance + 15,
            work_horse_killed_handler=job_queue.on_work_horse_killed,
        ).work(burst=burst, with_scheduler=False)
    except redis.RedisError as error:  # RQ rides out a lost connection while it works, not one it never had
        raise click.ClickException(f"Очередь заданий (JOB_QUEUE_URL) недоступна: {type(error).__name__}") from error


class ProgressBar:
    """A progress bar on stderr fed (done, total) by a job that runs here, or by `follow`."""

    def __init__(self, label: str) -> None:
        self.bar = click.progressbar(length=1, label=label, show_pos=True, file=sys.stderr)
        self.shown = 0

    def __enter__(self) -> ProgressBar:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, done: int, total: int) -> None:
        self.bar.length = max(total, done, 1)
        self.bar.update(done - self.shown)
        self.shown = done

    def follow(self, job: Job) -> Job:
        """Show a queued job's progress until it ends (a worker runs it); the job as it ended."""
        if job.state not in job_queue.UNFINISHED:
            return job
        click.echo(f"Задание №{job.id} в очереди: его выполнит `flask --app webapp worker`", err=True)
        for state in job_queue.watch(job.id):
            self(state.done, state.total)
            job = state
        return job


def outcome(job: Job) -> Job:
    """The finished job, or a clean refusal saying why it stopped."""
    if job.state == JobState.FAILED:
        raise click.ClickException(f"Задание №{job.id} остановлено: {job.failure}")
    if job.state != JobState.FINISHED:
        raise click.ClickException(f"Задание №{job.id} потеряно очередью: запустите его снова")
    return job
