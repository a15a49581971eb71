"""revocation_snapshots: the full revocation list built by a job, not read from every event per request

A snapshot holds the digests of every revocation event up to its cursor, under each heading, in event order;
the full list (`GET /api/v1/revocations`) is the newest snapshot and the events after it
(webapp/registry/keys/revocation_snapshots.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revocation_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("revoked", sa.LargeBinary(), nullable=False),
        sa.Column("terminated", sa.LargeBinary(), nullable=False),
        sa.Column("superseded", sa.LargeBinary(), nullable=False),
        sa.Column("suspended", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cursor"),
    )


def downgrade():
    op.drop_table("revocation_snapshots")
