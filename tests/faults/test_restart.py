"""A revocation answered, the server crashes, it starts again: the next scan still says `revoked`."""

from __future__ import annotations

import signal

import requests
from flask import Flask

from policy_codes import Verdict
from policy_codes.offline import OfflineVerifier
from tests.faults.registry import INSURER_LOGIN, current_text, prepare
from tests.faults.server import Server
from webapp.extensions import db
from webapp.registry.keys import keystore


def registry_keys(app: Flask) -> list:
    with app.app_context():
        keys = [key for key in keystore.trust_list() if key.owner == "registry"]
        db.session.remove()
    return keys


def test_revoked_after_a_crash_and_restart(database_url: str) -> None:
    registry = prepare(database_url, people=1)
    enp = registry.enps[0]
    code = current_text(registry.app, enp)
    server = Server(database_url).start()
    try:
        answer = server.login(INSURER_LOGIN).post(f"/insurer/person/{enp}/revoke", {"reason": "misused"})
        assert answer.status_code == 302
    finally:
        server.stop(signal.SIGKILL)  # master and workers, right after the answer

    server.start()
    try:
        scan = requests.post(
            f"{server.url}/api/v1/verify",
            json={"code": code},
            headers={"Authorization": f"Bearer {registry.token}"},
            timeout=30,
        )
        trust = requests.get(f"{server.url}/api/v1/trust-list", timeout=30).json()
        revocations = requests.get(f"{server.url}/api/v1/revocations", timeout=30).json()
    finally:
        server.stop()
    assert scan.status_code == 200
    assert scan.json()["verdict"] == "revoked"
    offline = OfflineVerifier(trust, [revocations], registry_keys(registry.app))
    assert offline.verify(code).verdict is Verdict.REVOKED
