"""The job queue's tests: a real Redis (db 11 of the local server, the `queue_url` fixture of conftest.py), and
real workers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from flask import Flask
from rq import SimpleWorker

from tests.helpers.registry import PASSPHRASE, SECRET_KEY, TEST_QUEUE_NAME
from tests.webapp.databases import audit_settings
from webapp.registry import job_queue

ROOT = Path(__file__).resolve().parents[2]


def queued_jobs(app: Flask) -> int:
    with app.app_context():
        return job_queue.queue().count


def work_off(app: Flask, tries: int | None = None) -> None:
    """Run what is on the queue with a real RQ worker in this process (no fork), then return; or stop after
    `tries` runs of a job (a job RQ puts back on the queue counts once for each run).

    RQ's worker sets its own SIGTERM and SIGINT handlers and leaves them: the test process's are put back, or
    the signing processes a later test forks would inherit RQ's, shrug off Pool.terminate's SIGTERM, and the
    pool's join would wait for ever (seen once in the full suite).
    """
    kept = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        with app.app_context():
            queue = job_queue.queue()
            SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=tries)
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def worker(database_url: str, queue_url: str, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    """A real `flask --app webapp worker` on the queue."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JOB_QUEUE_URL": queue_url,
        "JOB_QUEUE_NAME": TEST_QUEUE_NAME,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        "SECRET_KEY": SECRET_KEY,
        **audit_settings(database_url),
        "PYTHONUNBUFFERED": "1",  # the log says what a killed worker did
        **settings,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", "worker"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and every process under it: RQ runs each job in a process of its own session (the
    "work horse"), with the job's signing processes under that, so the worker's group alone is not all."""
    kill_tree(process.pid)
    process.wait()


def kill_work_horse(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process running the worker's job, and its signing processes, as the kernel's out-of-memory
    killer would: the worker itself lives on and sees it."""
    for horse in children(process.pid):
        kill_tree(horse)


def kill_tree(root: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(root, signal.SIGSTOP)  # no new process under it while the tree is read
        # Stopped too, until the tree stops growing: a work horse whose signing process was killed first
        # would fork a replacement, left running under no one.
        stopped: set[int] = set()
        while fresh := set(descendants(root)) - stopped:
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            stopped |= fresh
        for pid in [*stopped, root]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    return [
        int(child)
        for child in subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
        ).stdout.split()
    ]


def descendants(pid: int) -> list[int]:
    return [grandchild for child in children(pid) for grandchild in [*descendants(child), child]]
