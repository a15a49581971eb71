"""A replica is proven caught up by what the server at its address answers now, never by what another server
answered there before (webapp/db/replicas.py): a replica restored from an older backup, or rebuilt, at the same
address must not serve reads on the proof of the one it replaced."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.replication import Cluster, by_api, with_registry
from tests.replication import servers
from tests.replication.test_replicas import proven
from tests.webapp.pages import MOTHER, code_text
from webapp.registry import lifecycle

Build = Callable[..., Flask]
#: More than a replica that did not answer waits to be asked again (UNREACHABLE_RETRY_SECONDS).
MAX_LAG = 10


@contextmanager
def revoked_long_ago(cluster: Cluster, replicated: Build) -> Iterator[tuple[FlaskClient, str, str, servers.Postgres]]:
    """A code revoked more than MAX_LAG ago, a client reading verification from the standby, which is proven caught
    up (after the revocation) as this starts; and a standby restored from a backup taken before the revocation, on
    the standby's address, not started. The client, a clinic token, the code, the restored standby."""
    app = replicated(MAX_REPLICA_LAG=MAX_LAG)
    token = with_registry(app)
    text = code_text(app, MOTHER)
    client = app.test_client()
    restored = servers.make_restored_standby(
        cluster.primary.data.parent, cluster.primary, "restored", cluster.standby.port
    )
    try:
        with app.app_context():
            lifecycle.revoke(MOTHER, "test", "украден")
        revoked_at = time.monotonic()
        cluster.caught_up()
        assert proven(client)["verification_reads"] == "replica-1"
        assert by_api(client, token, text) == "revoked"
        while time.monotonic() - revoked_at < MAX_LAG + 1:
            assert proven(client)["replicas"][0]["state"] == "caught_up"  # the standby's proof stays fresh
        yield client, token, text, restored
    finally:
        if restored.running():
            restored.stop()
        shutil.rmtree(restored.data, ignore_errors=True)


def replaced(cluster: Cluster, restored: servers.Postgres) -> None:
    """The standby's machine comes back restored from the older backup."""
    cluster.standby.stop()
    restored.start()


def test_a_replica_restored_from_an_older_backup_does_not_inherit_the_proof_of_the_one_it_replaced(
    cluster: Cluster, replicated: Build
) -> None:
    """Asked again after it went away, the restored server answers a replayed position from before the revocation:
    that, not the proof of the server it replaced, says how far behind it is."""
    with revoked_long_ago(cluster, replicated) as (client, token, text, restored):
        replaced(cluster, restored)
        answers = []
        deadline = time.monotonic() + MAX_LAG + 2
        while time.monotonic() < deadline:
            answers.append(by_api(client, token, text))
            time.sleep(0.1)
        assert set(answers) == {"revoked"}, "the restored replica's old copy was read as caught up"
        assert client.get("/healthz").get_json()["replicas"][0]["state"] == "lagging"
