"""A policy's next term asked for by several insurer staff at the same instant, on two warm gunicorn workers
(2026-12-06): a permanently resident foreigner's policy, which runs to the end of the year.

One renewal must be made, with one new code; every other click is told there is nothing to renew, in words, and
the codes the holder had read `superseded` at the desk, the new one `valid`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import requests
from sqlalchemy import func, select

from policy_codes import Verdict
from tests.faults.registry import INSURER_LOGIN, current_text, prepare, serials
from tests.faults.server import Server, Session
from tests.helpers.claims import KEY_START
from tests.helpers.registry import person_data
from tests.security.test_attack_state_workers import THREADS, at_once
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import AuditEntry, Category
from webapp.registry import lifecycle
from webapp.registry.verification import verify_scan


def _renew(browser: Session, enp: str) -> Callable[[], str]:
    def call() -> str:
        other = browser.clone()
        answer = other.post(f"/insurer/person/{enp}/renew-policy", {"confirmed": "yes"})  # as the step page sends it
        if answer.status_code != 302:
            return str(answer.status_code)
        page = other.http.get(other.base + answer.headers["Location"], timeout=30).text
        if "Полис выдан на новый срок" in page:
            return "renewed"
        return "nothing to renew" if "продлевать пока нечего" in page else "other"

    return call


def test_a_policys_next_term_asked_for_at_once_is_given_once(served_database_url: str) -> None:
    registry = prepare(served_database_url, people=1)
    foreigner = person_data("770000000000777", "Каримов", "Ильдар", category=Category.FOREIGN_PERMANENT, sex="M")
    enp = str(foreigner.enp)
    with registry.app.app_context():
        lifecycle.register_person(foreigner, "77001", "test", now=KEY_START + timedelta(days=14))
        db.session.remove()
        dispose_engines()
    before = current_text(registry.app, enp)
    server = Server(served_database_url, workers=2).start()
    try:
        server.wait_for_workers(exclude=0)
        staff = [Session.login(server.url, INSURER_LOGIN) for _ in range(2)]
        seen = at_once([_renew(staff[n % 2], enp) for n in range(THREADS)])
        assert seen == Counter({"renewed": 1, "nothing to renew": THREADS - 1}), seen
        assert requests.get(f"{server.url}/healthz", timeout=30).status_code == 200
    finally:
        server.stop()
    assert serials(registry.app, enp) == [(1, "superseded"), (2, "current")]
    after = current_text(registry.app, enp)
    with registry.app.app_context():
        assert verify_scan(before).verdict is Verdict.SUPERSEDED
        assert verify_scan(after).verdict is Verdict.VALID
        renewals = select(func.count(AuditEntry.id)).where(AuditEntry.action == "renew", AuditEntry.entity_key == enp)
        assert db.session.scalar(renewals) == 1
        db.session.remove()
        dispose_engines()
