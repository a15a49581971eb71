"""What a server makes sure of before it serves: the database is this release's, and AUDIT_KEY is the audit log's.

A server started with another AUDIT_KEY (its own, generated into a new instance folder, or a mistyped one) wrote
audit entries that never verify, and the log has no key rotation to repair them; one started before `db upgrade`
failed request after request on a missing column. Commands make the same checks (webapp/cli/group.py), the key's
at their first audit entry. The server refuses to start, with one line saying why, as for a bad setting.

One started while the database does not answer starts all the same, with a warning: refusing would leave no worker
to answer while the primary is down (a worker respawned, a graceful restart), where the replicas could still serve
verification. Its schema is then not checked, and its AUDIT_KEY is checked at its first audit entry, as a
command's is: a change under another key is refused, nothing written.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from webapp.db.engines import dispose_engines
from webapp.registry import audit, schema
from webapp.registry.errors import N_, RegistryError

OTHER_AUDIT_KEY = N_(
    "AUDIT_KEY не тот, которым подписан журнал аудита: сервер не запущен, его записи в журнал не проверялись бы. "
    "Задайте AUDIT_KEY остальных серверов реестра (проверка: flask --app webapp audit verify)"
)

log = logging.getLogger(__name__)


def check(app: Flask) -> None:
    """`RegistryError` saying why `app` must not serve its database. Leaves no connection open: gunicorn forks its
    workers from the process that built the app."""
    if app.config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://"):
        log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker counts the login, one-time code and API limits alone, "
            "so with several workers an address gets that many times each limit; set redis://… (docs/operations.md)"
        )
    app.extensions[audit.CHECKS_THE_KEY] = True  # at the first entry too: a database down now is checked then
    with app.app_context():
        try:
            schema.require_current()
            if not audit.key_is_the_logs():
                raise RegistryError(OTHER_AUDIT_KEY)
        except SQLAlchemyError as error:
            log.warning(
                "the database did not answer at start (%s): serving without checking its schema; AUDIT_KEY is "
                "checked at the first audit entry",
                type(error).__name__,
            )
        finally:
            dispose_engines()
