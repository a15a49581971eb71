"""reissue_requests: a partial index of the open ones, for the insurer's list and count of requests

The insurer's first page now counts open requests on every visit; without the index the count reads every
request ever made (country scale: millions), with it only the few that wait.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade():
    op.create_index(
        "ix_reissue_requests_open",
        "reissue_requests",
        ["created_at", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade():
    op.drop_index("ix_reissue_requests_open", table_name="reissue_requests")
