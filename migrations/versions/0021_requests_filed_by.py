"""reissue_requests.filed_by_id, data_change_requests.filed_by_id: who filed a request, the person or a representative

A request a parent filed for a child stayed open after the parent's representation ended (the child's majority,
the insurer's word, a corrected birth date): the insurer could still accept it, changing a grown person's data on
the word of someone no longer acting for them, and the person could not file their own meanwhile. A request now
names its filer, and stands only while the filer is the person or represents them (webapp/registry/open_requests.py).

Requests already there keep no filer (the audit trail names the login, not the person): they stand as before.
On PostgreSQL the reference is to `enp_directory` (person ids unique across the region partitions, as 0012 made
every reference to a person); on SQLite to `persons`.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("reissue_requests", "data_change_requests")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN filed_by_id integer "
                f"CONSTRAINT {table}_filed_by_id_fkey REFERENCES enp_directory (person_id)"
            )
        else:
            op.execute(f"ALTER TABLE {table} ADD COLUMN filed_by_id INTEGER REFERENCES persons (id)")


def downgrade():
    for table in TABLES:  # an earlier version knows no lapsed request: it reads as closed
        op.execute(f"UPDATE {table} SET status = 'declined' WHERE status = 'lapsed'")  # noqa: S608 (names of ours)
        op.execute(f"ALTER TABLE {table} DROP COLUMN filed_by_id")  # SQLite's own, as 0020's downgrade
