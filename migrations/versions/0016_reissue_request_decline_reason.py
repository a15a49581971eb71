"""reissue_requests.decline_reason: why staff declined a citizen's request for a new code, for the citizen to read

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reissue_requests") as batch:
        batch.add_column(sa.Column("decline_reason", sa.String(length=500), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("reissue_requests") as batch:
        batch.drop_column("decline_reason")
