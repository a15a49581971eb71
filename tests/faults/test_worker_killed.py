"""A gunicorn worker SIGKILLed under a load of reissues: nothing lost, nothing applied twice."""

from __future__ import annotations

import os
import signal

from tests.faults.load import Load
from tests.faults.registry import INSURER_LOGIN, audited_reissues, prepare, problems
from tests.faults.server import Server


def test_worker_killed_mid_load(database_url: str) -> None:
    registry = prepare(database_url, people=4)
    server = Server(database_url).start()
    try:
        with Load(server.login(INSURER_LOGIN), registry.enps, drivers=4) as load:
            load.wait_for(8)
            victim = server.workers_pids()[0]
            os.kill(victim, signal.SIGKILL)
            server.wait_for_workers(exclude=victim)
            load.wait_for(8)  # served by the survivor and the respawned worker
    finally:
        stderr = server.stop()

    assert "Traceback" not in stderr
    assert f"Worker (pid:{victim}) was sent SIGKILL" in stderr
    statuses = {sent.status for sent in load.log}
    assert statuses <= {302, None}, f"every answer is the redirect after a reissue: {statuses}"
    assert sum(sent.status is None for sent in load.log) <= 1, "a sync worker dies with the one request it serves"

    audited = audited_reissues(registry.app)
    assert all(audited[sent.reason] == 1 for sent in load.log if sent.status == 302), "an answered reissue is applied"
    assert set(audited) <= {sent.reason for sent in load.log}
    assert max(audited.values()) == 1, "and applied once"
    assert problems(registry.app) == []
