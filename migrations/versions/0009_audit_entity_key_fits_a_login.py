"""the audit log's entity key fits a login

A login may be 80 characters (webapp/registry/accounts.py), and the audit log names it in `entity_key`,
which held 50: PostgreSQL refused the entry, and with it the login's creation or the note of its wrong
passwords (webapp/registry/password_guesses.py). Widening a varchar rewrites no row on PostgreSQL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NARROW = 50
WIDE = 80


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("entity_key", type_=sa.String(length=WIDE), existing_type=sa.String(length=NARROW))


def downgrade():
    """Back to 50 characters, unless an entry names a longer key: the log is append-only and every entry's
    hash covers its key, so none can be cut to fit."""
    longest = op.get_bind().scalar(sa.text("SELECT max(length(entity_key)) FROM audit_log")) or 0
    if longest > NARROW:
        raise RuntimeError(
            f"audit_log.entity_key cannot go back to {NARROW} characters: an entry names a key of {longest}"
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("entity_key", type_=sa.String(length=NARROW), existing_type=sa.String(length=WIDE))
