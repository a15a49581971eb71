"""activation_codes.issued_by: who issued a one-time code, so that disabling that login ends the codes it issued

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 08:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activation_codes") as batch:
        batch.add_column(sa.Column("issued_by", sa.String(length=100), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("activation_codes") as batch:
        batch.drop_column("issued_by")
