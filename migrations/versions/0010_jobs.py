"""jobs: mass reissues and large imports run as jobs, their progress kept in the database

A job runs in a worker process (`flask --app webapp worker`, RQ on JOB_QUEUE_URL) or, with no queue configured,
in the process that started it; either way each batch records its progress here, so the page and the command
show it whichever process does the work (webapp/registry/job_queue.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("failure", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_kind_subject", "jobs", ["kind", "subject"])


def downgrade():
    op.drop_index("ix_jobs_kind_subject", table_name="jobs")
    op.drop_table("jobs")
