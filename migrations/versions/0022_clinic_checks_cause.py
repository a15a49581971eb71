"""clinic_checks.cause: why the registry gave a check's verdict, so the history says what the desk read

A code superseded because its holder's data changed reads «Данные изменились» at the desk (policy_codes/verdicts.py,
CAUSE_HEADLINES), yet its check kept only `superseded`, and the clinic's history said «Код заменён». A check now
keeps the verdict's cause, "" for none.

Checks already there keep no cause: whether a superseded one's holder had changed their data cannot be told now, so
they read as they did. On PostgreSQL the column added to the partitioned table is added to every region's partition
(0012), with its default: no row is rewritten.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 00:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("clinic_checks", sa.Column("cause", sa.String(length=20), nullable=False, server_default=""))


def downgrade():
    op.execute("ALTER TABLE clinic_checks DROP COLUMN cause")  # SQLite's own, as 0020's downgrade
