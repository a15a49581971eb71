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
from webapp.registry.errors import N_, RegistryError

BEHIND = N_("База данных не создана или не обновлена: выполните `flask --app webapp db upgrade`")
AHEAD = N_(
    "База данных обновлена более новой версией программы (ревизия %(revision)s): запустите эту версию "
    "или восстановите копию базы, сделанную до обновления"
)


def require_current() -> None:
    """`RegistryError` saying what to do unless the database is at this version's head."""
    script = ScriptDirectory(str(config.MIGRATIONS))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return
    known = {revision.revision for revision in script.walk_revisions()}
    if unknown := sorted(current - known):
        raise RegistryError(AHEAD, revision=", ".join(unknown))
    raise RegistryError(BEHIND)
