"""Keys made at once by several processes (2026-12-06): the registry operator's own, made on first use under
several gunicorn workers, and an insurer's, rotated by commands run at once.

The published lists are signed with the operator's key, which verifiers pin (`flask keys registry-jwks`). A new
registry has none: the first request for a list makes it. On the day it goes live, clinics' systems ask for both
lists at once, and each worker that found no key made one: on PostgreSQL the first burst of requests left four
active keys of the operator, against the rule of one active key an owner, and lists signed by each, so that a
verifier that pinned the key of one had the lists of the others refused. Making the key is now serialised: the
first request makes it, the others wait for it and sign with it, as of its start when their own clocks read earlier.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select

from policy_codes.offline import OfflineVerifier
from tests.faults.registry import prepare
from tests.faults.server import ROOT, Server, app_environment
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import SigningKeyRecord
from webapp.registry.keys import keystore, publication

WORKERS = 4
REQUESTS = 24


def test_the_first_requests_for_the_lists_make_one_registry_key(served_database_url: str) -> None:
    registry = prepare(served_database_url, people=1)
    server = Server(served_database_url, workers=WORKERS).start()
    try:
        server.wait_for_workers(exclude=0)
        paths = ["/api/v1/trust-list", "/api/v1/revocations"] * (REQUESTS // 2)
        with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
            answers = list(pool.map(lambda path: requests.get(server.url + path, timeout=60), paths))
    finally:
        log = server.stop()
    assert Counter(answer.status_code for answer in answers) == Counter({200: REQUESTS}), log
    with registry.app.app_context():
        keys = db.session.execute(
            select(SigningKeyRecord.kid, SigningKeyRecord.status).where(
                SigningKeyRecord.owner == keystore.REGISTRY_OWNER
            )
        ).all()
        db.session.remove()
        dispose_engines()
    assert len(keys) == 1, keys
    ((kid, status),) = keys
    assert status == "active"
    # The ETag names the key that signed the list (webapp/registry/keys/publication.py `Edition.etag`).
    assert {answer.headers["ETag"].strip('"').split("-")[-2] for answer in answers} == {kid}


def test_a_request_that_waited_for_another_workers_first_key_signs_with_it_as_of_its_start(
    served_database_url: str,
) -> None:
    """A request reads its clock, finds no key, and waits for the one another worker is making, which starts at
    that worker's moment: a second or two later (its clock read later, or on another machine). The request then
    looked for a key covering its own, earlier moment, found none, and answered 500 (one of the 24 above, once
    in a full run). It signs with that key as of the key's start, as every verifier requires."""
    registry = prepare(served_database_url, people=1)
    others_moment = datetime.now(UTC).replace(microsecond=0)
    own_moment = others_moment - timedelta(seconds=2)
    with registry.app.app_context():
        publication.registry_key(others_moment)
        _, trust = publication.trust_list(now=own_moment)
        _, revocations = publication.revocations(now=own_moment)
        pinned = [key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER]
        db.session.remove()
        dispose_engines()
    assert trust["issued_at"] == revocations["issued_at"] == others_moment.isoformat()
    OfflineVerifier(trust, [revocations], pinned, now=others_moment)  # refuses a list its signer did not cover


def test_an_expired_registry_key_is_replaced_by_the_next_request_for_a_list(served_database_url: str) -> None:
    """The operator's key lasts three years and no command rotates it: past its end every list, `keys
    registry-jwks` and the clinic desk's page (which pins the key) answered 500, since the key found active signed
    at no moment now. The next request retires it for a new key, whose lists verifiers take once they pin it."""
    registry = prepare(served_database_url, people=1)
    now = datetime.now(UTC).replace(microsecond=0)
    with registry.app.app_context():
        expired = publication.registry_key(now - keystore.KEY_LIFETIME - timedelta(days=1)).kid.hex()
        _, trust = publication.trust_list(now=now)
        _, revocations = publication.revocations(now=now)
        statuses = dict(
            db.session.execute(
                select(SigningKeyRecord.kid, SigningKeyRecord.status).where(
                    SigningKeyRecord.owner == keystore.REGISTRY_OWNER
                )
            ).all()
        )
        pinned = [key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER]
        db.session.remove()
        dispose_engines()
    assert statuses.pop(expired) == "retired"
    assert list(statuses.values()) == ["active"]
    OfflineVerifier(trust, [revocations], pinned, now=now)


def test_rotations_run_at_once_leave_the_insurer_one_active_key(served_database_url: str) -> None:
    """Three `flask keys rotate` of one insurer at once (two operators, a scheduled one and a hand's): each locked
    the keys it read, but the one that waited was given those rows as they were left, not the key the first had
    added meanwhile, so it kept that key active beside its own: two active keys of 77001 on PostgreSQL, the
    first rotation's never retired. Now the last rotation retires every key before its own."""
    registry = prepare(served_database_url, people=1)
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", "keys", "rotate", "--insurer", "77001"]
    environment = app_environment(served_database_url)
    rotations = [
        subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for rotation in rotations:
        _, stderr = rotation.communicate(timeout=120)
        assert rotation.returncode == 0, stderr.decode()
    with registry.app.app_context():
        statuses = Counter(db.session.scalars(select(SigningKeyRecord.status).where(SigningKeyRecord.owner == "77001")))
        db.session.remove()
        dispose_engines()
    assert statuses == Counter({"active": 1, "retired": 3})
