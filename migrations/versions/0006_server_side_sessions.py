"""server-side sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:00:00

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


def downgrade():
    op.drop_index("uq_users_username_lower", table_name="users")
