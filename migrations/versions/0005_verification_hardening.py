"""verification hardening: a counter of key changes, low-S code texts, revocation digests over signatures

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00

Verifiers now accept only the low-S form of an ES256 signature (docs/code-format.md); about half the
codes signed before carry a high S. (r, n − s) verifies the same claims under the same key, so each
such stored text is rewritten in that form, with no private key and no new serial: the registry's
copy, the citizen's card and every new download then verify. Copies printed or saved before read
`forged` and must be downloaded again (docs/operations.md).

The revocation list's second format names a withdrawn code by a hash of its signature, not of its
ЕНП and serial (policy_codes/revocation.py says why): every digest already published is computed
again from the code's own text. Downgrading computes the first format's digests back; the texts
stay in their low-S form, which the earlier verifiers accepted too.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

from policy_codes.base45 import b45decode, b45encode
from policy_codes.codec import PREFIX
from policy_codes.revocation import digest_of_text
from signing.cose import with_low_s

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_events = sa.table("revocation_events", sa.column("id"), sa.column("code_id"), sa.column("digest"))
_codes = sa.table(
    "issued_codes",
    sa.column("id"),
    sa.column("person_id"),
    sa.column("serial"),
    sa.column("text"),
    sa.column("text_hash"),
)
_persons = sa.table("persons", sa.column("id"), sa.column("enp"))
_BATCH = 10_000


def upgrade():
    key_changes = op.create_table(
        "key_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    keys = op.get_bind().scalar(sa.text("SELECT count(*) FROM signing_keys"))
    if keys:  # a new database gets its row with its first key
        op.bulk_insert(key_changes, [{"id": 1, "count": keys}])
    _rewrite_high_s_texts()
    _rewrite_digests(lambda text, enp, serial: digest_of_text(text))


def downgrade():
    _rewrite_digests(
        lambda text, enp, serial: hashlib.sha256(b"OMS1 revocation\x00" + f"{enp}:{serial}".encode()).digest()[:6]
    )
    op.drop_table("key_changes")


def _rewrite_high_s_texts() -> None:
    """Every stored code text in the low-S form, and its hash with it, in batches."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_codes.c.id, _codes.c.text).where(_codes.c.id > last).order_by(_codes.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        changed = []
        for row in rows:
            text = PREFIX + b45encode(with_low_s(b45decode(row.text.removeprefix(PREFIX))))
            if text != row.text:
                changed.append(
                    {"code_id": row.id, "new_text": text, "new_hash": hashlib.sha256(text.encode()).hexdigest()}
                )
        if changed:
            connection.execute(
                _codes.update()
                .where(_codes.c.id == sa.bindparam("code_id"))
                .values(text=sa.bindparam("new_text"), text_hash=sa.bindparam("new_hash")),
                changed,
            )
        last = rows[-1].id


def _rewrite_digests(digest_of) -> None:
    """Every revocation event's digest, computed again from its code, in batches."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_events.c.id, _codes.c.text, _persons.c.enp, _codes.c.serial)
            .join(_codes, _codes.c.id == _events.c.code_id)
            .join(_persons, _persons.c.id == _codes.c.person_id)
            .where(_events.c.id > last)
            .order_by(_events.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            _events.update().where(_events.c.id == sa.bindparam("event_id")).values(digest=sa.bindparam("new_digest")),
            [{"event_id": row.id, "new_digest": digest_of(row.text, row.enp, row.serial)} for row in rows],
        )
        last = rows[-1].id
