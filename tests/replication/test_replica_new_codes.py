"""A code the registry signed a moment ago, scanned at a desk whose verification reads a standby that has not
replayed it yet (2026-12-06): a new code after a lost phone, or a policy's next term.

Verification reads a standby within MAX_REPLICA_LAG (5 s) of the primary, and for that long a withdrawn code may
still read `valid` (docs/threat-model.md). The other side of it was not bounded by anything a holder could see: the
new code, and every live code the phone drew from it at once, read «код не найден» (`not_found`, the verdict of a
code the registry never issued) until the standby caught up. A code whose signature checks out under a registry
key and which the standby does not hold is now read again on the primary.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers.replication import Cluster, by_api, with_registry
from tests.replication.test_replicas import Build, health, on_clinic_page, proven
from tests.webapp.pages import MOTHER, code_text, logged_in
from webapp.extensions import db
from webapp.registry import lifecycle
from webapp.registry.codes import live_code


def test_a_code_signed_a_moment_ago_is_valid_through_a_standby_that_has_not_replayed_it(
    cluster: Cluster, replicated: Build
) -> None:
    app = replicated(MAX_REPLICA_LAG=60)  # the paused standby stays within the bound for this test
    token = with_registry(app)
    client, desk = app.test_client(), logged_in(app, "clinic")
    cluster.caught_up()
    assert by_api(client, token, code_text(app, MOTHER)) == "valid"
    assert proven(client)["verification_reads"] == "replica-1"

    cluster.standby.value("SELECT pg_wal_replay_pause()")
    try:
        with app.app_context():
            code = lifecycle.reissue(MOTHER, "test", "утерян телефон")
            static, live = code.text, live_code(code, datetime.now(UTC))
            db.session.remove()
        assert by_api(client, token, static) == "valid"
        assert by_api(client, token, live) == "valid"
        assert on_clinic_page(desk, live) == "valid"
        assert health(client)["verification_reads"] == "replica-1", "the standby serves the other reads on"
    finally:
        cluster.standby.value("SELECT pg_wal_replay_resume()")
        cluster.caught_up()
