"""withheld codes listed: the codes of suspended and terminated policies on the revocation list

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00

Suspending or terminating a policy used to change the policy's row only: its code stayed current and on no
revocation list, so offline verifiers read it `valid` for ever (red team F2). The registry now gives the code
the policy's status and lists it under that heading (webapp/registry/lifecycle.py). This does the same for the
codes of policies suspended or terminated before: each current one takes its policy's status, with a
revocation event dated now, so the next list (full or increment) names it.

Downgrading puts such codes back to current, as the earlier registry kept them, and removes the events of the
two statuses, which the earlier publication would have listed as superseded. A withheld code whose person has
since got a current code of another policy becomes superseded instead (one current code per person).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from policy_codes.revocation import digest_of_text

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_WITHHELD = ("suspended", "terminated")
_BATCH = 10_000
_codes = sa.table(
    "issued_codes",
    sa.column("id"),
    sa.column("person_id"),
    sa.column("policy_id"),
    sa.column("status"),
    sa.column("status_reason"),
    sa.column("status_changed_at", sa.DateTime()),
    sa.column("text"),
)
_policies = sa.table("policies", sa.column("id"), sa.column("status"), sa.column("status_reason"))
_events = sa.table(
    "revocation_events",
    sa.column("id"),
    sa.column("code_id"),
    sa.column("digest", sa.LargeBinary()),
    sa.column("status"),
    sa.column("at", sa.DateTime()),
)


def upgrade():
    connection = op.get_bind()
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)  # stored as naive UTC (webapp/extensions.py)
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_codes.c.id, _codes.c.text, _policies.c.status, _policies.c.status_reason)
            .join(_policies, _policies.c.id == _codes.c.policy_id)
            .where(_codes.c.id > last, _codes.c.status == "current", _policies.c.status.in_(_WITHHELD))
            .order_by(_codes.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            connection.execute(
                _codes.update()
                .where(_codes.c.id == row.id)
                .values(status=row.status, status_reason=row.status_reason, status_changed_at=now)
            )
        op.bulk_insert(
            _events,
            [{"code_id": row.id, "digest": digest_of_text(row.text), "status": row.status, "at": now} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    connection = op.get_bind()
    connection.execute(_events.delete().where(_events.c.status.in_(_WITHHELD)))
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    withheld = connection.execute(
        sa.select(_codes.c.id, _codes.c.person_id, _codes.c.text).where(_codes.c.status.in_(_WITHHELD))
    ).all()
    for row in withheld:
        current = connection.scalar(
            sa.select(_codes.c.id).where(_codes.c.person_id == row.person_id, _codes.c.status == "current")
        )
        if current is None:
            connection.execute(_codes.update().where(_codes.c.id == row.id).values(status="current"))
            continue
        connection.execute(
            _codes.update().where(_codes.c.id == row.id).values(status="superseded", status_changed_at=now)
        )
        op.bulk_insert(
            _events, [{"code_id": row.id, "digest": digest_of_text(row.text), "status": "superseded", "at": now}]
        )
