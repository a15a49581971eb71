"""person data changes: the document behind each change, former names, the citizen's request, and why a code
was superseded

A change of surname, name, patronymic, birth date or sex signs a new code; `issued_codes.status_cause` says
the old one was superseded by a data change, so a clinic is told to ask for the new code, not that the policy
is invalid (docs/domain.md «Изменение данных»).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _document_columns() -> list[sa.Column]:
    return [
        sa.Column("document_kind", sa.String(length=30), nullable=False),
        sa.Column("document_series", sa.String(length=20), nullable=False),
        sa.Column("document_number", sa.String(length=30), nullable=False),
        sa.Column("document_issued_on", sa.Date(), nullable=True),
        sa.Column("document_issuer", sa.String(length=200), nullable=False),
    ]


def upgrade():
    with op.batch_alter_table("issued_codes") as batch:
        batch.add_column(sa.Column("status_cause", sa.String(length=20), nullable=False, server_default=""))
    op.create_table(
        "data_change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insurer_id", sa.Integer(), nullable=False),
        sa.Column("surname", sa.String(length=40), nullable=False),
        sa.Column("given_name", sa.String(length=40), nullable=False),
        sa.Column("patronymic", sa.String(length=40), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("reason_text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decline_reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        *_document_columns(),
        sa.ForeignKeyConstraint(["insurer_id"], ["insurers.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_data_change_requests_person_id", "data_change_requests", ["person_id"])
    op.create_index("ix_data_change_requests_insurer_id", "data_change_requests", ["insurer_id"])
    op.create_index(
        "uq_data_change_requests_one_open_per_person",
        "data_change_requests",
        ["person_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "person_data_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("reason_text", sa.String(length=500), nullable=False),
        sa.Column("old_values", sa.JSON(), nullable=False),
        sa.Column("new_values", sa.JSON(), nullable=False),
        sa.Column("new_serial", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        *_document_columns(),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["data_change_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_person_data_changes_person_id", "person_data_changes", ["person_id"])
    op.create_table(
        "former_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("surname", sa.String(length=40), nullable=False),
        sa.Column("given_name", sa.String(length=40), nullable=False),
        sa.Column("patronymic", sa.String(length=40), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_former_names_person_id", "former_names", ["person_id"])
    op.create_index("ix_former_names_surname_birth_date", "former_names", ["surname", "birth_date"])


def downgrade():
    op.drop_index("ix_former_names_surname_birth_date", table_name="former_names")
    op.drop_index("ix_former_names_person_id", table_name="former_names")
    op.drop_table("former_names")
    op.drop_index("ix_person_data_changes_person_id", table_name="person_data_changes")
    op.drop_table("person_data_changes")
    op.drop_index("uq_data_change_requests_one_open_per_person", table_name="data_change_requests")
    op.drop_index("ix_data_change_requests_insurer_id", table_name="data_change_requests")
    op.drop_index("ix_data_change_requests_person_id", table_name="data_change_requests")
    op.drop_table("data_change_requests")
    # Both engines' own DROP COLUMN: on SQLite a batch would copy issued_codes under revocation_events' references.
    op.execute("ALTER TABLE issued_codes DROP COLUMN status_cause")
