"""A gunicorn worker SIGKILLed under a load of reissues: nothing lost, nothing applied twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import requests

from tests.faults.registry import INSURER_LOGIN, audited_reissues, prepare, problems
from tests.faults.server import Server, Session

DRIVERS = 4


def drive(
    session: Session, enps: list[str], number: int, stop: threading.Event, log: list[tuple[str, int | None]]
) -> None:
    """Reissue round the people, each request with its own reason: the audit log then tells which were applied."""
    sent = 0
    while not stop.is_set():
        enp = enps[(number + sent) % len(enps)]
        reason = f"нагрузка {number}-{sent}"
        try:
            status: int | None = session.post(f"/insurer/person/{enp}/reissue", {"reason": reason}).status_code
        except requests.RequestException:
            status = None  # the worker died with the request: the outcome is unknown
        log.append((reason, status))
        sent += 1


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the load did not get going"
        time.sleep(0.05)


def test_worker_killed_mid_load(database_url: str) -> None:
    registry = prepare(database_url, people=4)
    server = Server(database_url).start()
    log: list[tuple[str, int | None]] = []
    try:
        insurer = server.login(INSURER_LOGIN)
        stop = threading.Event()
        drivers = [
            threading.Thread(target=drive, args=(insurer.clone(), registry.enps, number, stop, log))
            for number in range(DRIVERS)
        ]
        for driver in drivers:
            driver.start()
        wait_until(lambda: len(log) >= 2 * DRIVERS)
        victim = server.workers_pids()[0]
        os.kill(victim, signal.SIGKILL)
        answered_before_kill = len(log)
        server.wait_for_workers(exclude=victim)
        wait_until(lambda: len(log) >= answered_before_kill + 2 * DRIVERS)
        stop.set()
        for driver in drivers:
            driver.join(30)
    finally:
        stderr = server.stop()

    assert "Traceback" not in stderr
    statuses = {status for _, status in log}
    assert statuses <= {302, None}, f"every answer is the redirect after a reissue: {statuses}"
    lost = [reason for reason, status in log if status is None]
    assert len(lost) <= 1, "a sync worker dies with at most the one request it was serving"

    audited = audited_reissues(registry.app)
    assert all(audited[reason] == 1 for reason, status in log if status == 302), "an answered reissue is applied"
    assert set(audited) <= {reason for reason, _ in log}
    assert max(audited.values()) == 1, "and applied once"
    assert problems(registry.app) == []
