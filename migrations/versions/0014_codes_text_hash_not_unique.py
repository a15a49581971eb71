"""issued_codes.text_hash is not unique: no read looks a code up by it, and its index was the mass reissue's cost

Verification reads a code's row by (ЕНП, serial) and compares the scanned text's hash with the row's: the
unique (person, serial) keeps one text a serial. The unique index over the hashes kept nothing more, and it is
the one index of issued_codes whose keys come in random order: every batch of a mass reissue put 10,000 entries
into it at random places (231 MB at 1,000,000 codes). Without it the mass reissue of 1,000,000 codes took 123 s
instead of 149 s (docs/benchmarks.md, "The mass reissue at 1,000,000").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 16:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    """PostgreSQL only. SQLite keeps its unnamed constraint: dropping it means rebuilding issued_codes, which the
    revocation events' references forbid while they hold, for a speed only the PostgreSQL registry is asked for."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("issued_codes_text_hash_key", "issued_codes", type_="unique")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Unique per partition: the partition key is part of every unique constraint there (0012).
        op.create_unique_constraint("issued_codes_text_hash_key", "issued_codes", ["text_hash", "region_code"])
