"""clinic look-up limits

Each clinic's daily ceiling on number look-ups (a typed ЕНП, a Code128, a legacy paper) and the Moscow day it
was last reached (so the audit log notes it once a day), and an index that counts a clinic's look-ups of a day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("daily_look_up_ceiling", sa.Integer(), nullable=False, server_default="2000"))
        batch_op.add_column(sa.Column("ceiling_reached_on", sa.Date(), nullable=True))
    op.create_index("ix_clinic_checks_clinic_shown_at", "clinic_checks", ["clinic_id", "shown", "at"], unique=False)


def downgrade():
    op.drop_index("ix_clinic_checks_clinic_shown_at", table_name="clinic_checks")
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("ceiling_reached_on")
        batch_op.drop_column("daily_look_up_ceiling")
