"""server-side sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:00:00

One record per browser that logged in (webapp/registry/login_sessions.py). Sessions made before this
migration carry no record: everyone logs in again once.

Logins are one whatever their case: a unique index on lower(username). Logins that differ only in
case must be renamed first; the upgrade names them and stops.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    clashes = (
        op.get_bind()
        .execute(sa.text("SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1"))
        .scalars()
        .all()
    )
    if clashes:
        raise RuntimeError(
            "Логины, которые различаются только регистром букв, станут одним логином: переименуйте "
            f"лишние и повторите обновление ({', '.join(sorted(clashes))})"
        )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_sessions_started_at"), ["started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_started_at"))
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")
    op.drop_index("uq_users_username_lower", table_name="users")
