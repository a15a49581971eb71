"""jobs.refused: every line an import refused, for the insurer to download; its page lists the first 1,000

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 21:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("refused", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("refused")
