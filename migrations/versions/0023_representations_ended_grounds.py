"""representations.ended_grounds: on what grounds an insurer ended a link, so that a file does not bring it back

A link an insurer ended (a court's decision, an error in the registry) kept only its last day, and importing a file
that still named the representative made it again: the file undid the decision without a word. A link now keeps
the grounds it was ended on (webapp/registry/reasons.py END_REPRESENTATION's keys), and an import refuses to make a
link ended on grounds again; the insurer restores one ended by mistake on the person's page.

Links ended before get theirs from the audit trail, which recorded each end with its grounds in words and the link's
last day (`end_representation`): a link whose last day is still the one its latest end gave it. One a file named
again since, or whose entry's words are none of the three, keeps none, and a file may name it again, as before.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 04:10:00

"""

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


#: reasons.END_REPRESENTATION as of this revision, by the words an end was audited with (a migration does not import
#: the app's code, which moves on).
_GROUNDS_BY_WORDS = {"Решение суда": "court", "Совершеннолетие": "of_age", "Ошибка в реестре": "registry_error"}


def upgrade():
    connection = op.get_bind()
    # Read before the column is added: adding it locks the links' table until this transaction ends, and the audit
    # log has no index on its action (a whole scan, long on a country's log): no page could read the links meanwhile.
    ends = connection.execute(
        sa.text(
            "SELECT entity_key, reason, details FROM audit_log WHERE action = 'end_representation' ORDER BY id DESC"
        )
    ).all()
    op.add_column("representations", sa.Column("ended_grounds", sa.String(length=32), nullable=True))
    for represented, words, stored in ends:  # the latest first: an earlier end of a link made again has its day
        details = (json.loads(stored) if isinstance(stored, str) else stored) or {}  # SQLite gives the text
        grounds = _GROUNDS_BY_WORDS.get(words)
        if grounds is None or not details.get("representative") or not details.get("valid_to"):
            continue
        connection.execute(
            sa.text(
                "UPDATE representations SET ended_grounds = :grounds WHERE ended_grounds IS NULL AND valid_to = :day "
                "AND representative_id = (SELECT id FROM persons WHERE enp = :representative) "
                "AND represented_id = (SELECT id FROM persons WHERE enp = :represented)"
            ),
            {
                "grounds": grounds,
                "day": date.fromisoformat(details["valid_to"]),
                "representative": details["representative"],
                "represented": represented,
            },
        )


def downgrade():
    # The grounds go with the column: a file may then name again a representative whose link a court ended.
    op.execute("ALTER TABLE representations DROP COLUMN ended_grounds")  # SQLite's own, as 0020's downgrade
