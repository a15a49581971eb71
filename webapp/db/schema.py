"""Whether the database's schema is the one this version's migrations make (alembic's head).

A command or a server run against a database behind the migrations worked until it met a missing table or
column, half-way through its work; one ahead of them (a newer version upgraded it) misread what it found.
Commands (webapp/cli/group.py) and servers (webapp/startup.py) ask here once, before they start.
"""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from webapp import config
from webapp.extensions import db

BEHIND = "База данных не создана или не обновлена: выполните `flask --app webapp db upgrade`"
AHEAD = (
    "База данных обновлена более новой версией программы (ревизия {revision}): запустите эту версию "
    "или восстановите копию базы, сделанную до обновления"
)


def refusal() -> str | None:
    """Why the database cannot be worked on by this version (in Russian), or None when it is at the head."""
    script = ScriptDirectory(str(config.MIGRATIONS))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return None
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(current - known)
    return AHEAD.format(revision=", ".join(unknown)) if unknown else BEHIND
