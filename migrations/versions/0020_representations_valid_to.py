"""representations.valid_to: a parent's representation of a child ends at the child's majority

A representation had no end: a parent went on seeing a grown child's policy and code, and asking for changes to
their data, for life. A link now carries its last day: the eve of the represented person's 18th birthday where
they were a child when it was made (rules.representation_until), none for an adult's guardian.

Links already there: those of a child still under 18 end at their majority; those of an adult keep no end, as
whether they were made for a guardian or for a child since grown up cannot be told (the operations guide says so).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:00:00

"""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

#: A link's last day is set in batches of this many links.
_BATCH = 10_000


def _coming_of_age(born: date) -> date:
    """rules.coming_of_age as of this revision: a migration does not import the app's code, which moves on."""
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return date(born.year + 18, 3, 1)


def upgrade():
    op.add_column("representations", sa.Column("valid_to", sa.Date(), nullable=True))
    connection = op.get_bind()
    today = (datetime.now(UTC) + timedelta(hours=3)).date()  # Moscow's day
    children = connection.execute(
        sa.text(
            "SELECT r.id, p.birth_date FROM representations AS r JOIN persons AS p ON p.id = r.represented_id "
            "WHERE p.birth_date > :adults_born_by"
        ),
        {"adults_born_by": date(today.year - 19, 1, 1)},
    ).all()
    last_days = []
    for link, stored in children:
        born = stored if isinstance(stored, date) else date.fromisoformat(stored)  # SQLite gives the text
        if _coming_of_age(born) > today:
            last_days.append({"link": link, "valid_to": _coming_of_age(born) - timedelta(days=1)})
    for start in range(0, len(last_days), _BATCH):
        connection.execute(
            sa.text("UPDATE representations SET valid_to = :valid_to WHERE id = :link"),
            last_days[start : start + _BATCH],
        )


def downgrade():
    op.execute("ALTER TABLE representations DROP COLUMN valid_to")  # SQLite's own, as 0012's downgrade
