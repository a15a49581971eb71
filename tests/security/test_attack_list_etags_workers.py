"""The published lists' ETags after a compromise, under two warm gunicorn workers (2026-12-06): a verifier that
revalidates its copy (If-None-Match, as `curl --etag-compare` or a cache does) must get the new list from every
worker at once, never a 304 for the list from before the change; and the new list's ETag is one, whichever worker
answers, so that revalidating it gets 304s.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from signing import KeyStatus, TrustList
from tests.faults.registry import prepare
from tests.faults.server import Server
from tests.security.test_attack_compromise_workers import codes_and_their_stolen_key, cpu_seconds, operator

ASKS = 16
LISTS = ("/api/v1/trust-list", "/api/v1/revocations")


def _revalidated(server: Server, path: str, etag: str) -> list[requests.Response]:
    def one(_: int) -> requests.Response:
        return requests.get(f"{server.url}{path}", headers={"If-None-Match": etag}, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(ASKS)))


def test_a_compromise_changes_both_lists_etags_in_every_warm_worker(served_database_url: str) -> None:
    registry = prepare(served_database_url, people=2)
    _codes, kid, _thief = codes_and_their_stolen_key(registry)
    server = Server(served_database_url, workers=2).start()
    try:
        workers = server.wait_for_workers(exclude=0)
        before = [cpu_seconds(pid) for pid in workers]
        etags = {path: requests.get(f"{server.url}{path}", timeout=30).headers["ETag"] for path in LISTS}
        for path, etag in etags.items():
            assert {answer.status_code for answer in _revalidated(server, path, etag)} == {304}
        assert all(cpu_seconds(pid) > spent for pid, spent in zip(workers, before, strict=True)), "both workers warm"

        operator(served_database_url, "keys", "compromised", kid)
        assert server.workers_pids() == workers, "the same warm workers serve on"
        for path, etag in etags.items():
            answers = _revalidated(server, path, etag)
            assert Counter(answer.status_code for answer in answers) == Counter({200: ASKS}), path
            (new,) = {answer.headers["ETag"] for answer in answers}
            assert new != etag
            assert {answer.status_code for answer in _revalidated(server, path, new)} == {304}
            if path == "/api/v1/trust-list":
                statuses = {str(key.kid.hex()): key.status for key in TrustList.from_jwks(answers[0].json())}
                assert statuses[kid] is KeyStatus.COMPROMISED
            else:
                assert answers[0].json()["cursor"] > 0, "the reissue's withdrawn codes are listed"
    finally:
        server.stop()
