"""A primary with its streaming standby, as the replication tests hold them, and the steps they repeat."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from tests.replication import servers
from tests.replication.servers import Postgres
from tests.webapp.pages import populate
from webapp.registry import accounts


@dataclass
class Cluster:
    primary: Postgres
    standby: Postgres

    def caught_up(self) -> None:
        servers.wait_for_replay(self.primary, self.standby)

    def ready(self) -> None:
        """The standby running and replaying, as each test starts."""
        if not self.standby.running():
            self.standby.start()
        self.standby.value("SELECT pg_wal_replay_resume()")
        self.caught_up()


def with_registry(app: Flask) -> str:
    """tests/webapp/pages.py's people and logins on `app`; a clinic system's API token."""
    with app.app_context():
        populate()
        return accounts.create_token("GP-001", "МИС", "test")[1]


def by_api(client: FlaskClient, token: str, text: str) -> str:
    response = client.post("/api/v1/verify", json={"code": text}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["verdict"])
