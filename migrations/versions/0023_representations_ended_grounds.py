"""representations.ended_grounds: on what grounds an insurer ended a link, so that a file does not bring it back

A link an insurer ended (a court's decision, an error in the registry) kept only its last day, and importing a file
that still named the representative made it again: the file undid the decision without a word. A link now keeps
the grounds it was ended on (webapp/registry/reasons.py END_REPRESENTATION's keys), and an import refuses to make a
link ended on grounds again; the insurer restores one ended by mistake on the person's page.

Links ended before keep no grounds: why they were ended cannot be told here (the audit trail says it in words), so
a file may name them again, as before.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 04:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("representations", sa.Column("ended_grounds", sa.String(length=32), nullable=True))


def downgrade():
    op.execute("ALTER TABLE representations DROP COLUMN ended_grounds")  # SQLite's own, as 0020's downgrade
