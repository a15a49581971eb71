"""What a server makes sure of before it serves: the database is this release's, and AUDIT_KEY is the audit log's.

A server started with another AUDIT_KEY (its own, generated into a new instance folder, or a mistyped one) wrote
audit entries that never verify, and the log has no key rotation to repair them; one started before `db upgrade`
failed request after request on a missing column. Commands make the same checks (webapp/cli/group.py), the key's
at their first audit entry. The server refuses to start, with one line saying why, as for a bad setting: systemd
starts it again every 2 s (docs/deploy/app/oms-web.service), so one started while the database is down serves
once the database answers.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from webapp.db.engines import dispose_engines
from webapp.registry import audit, schema
from webapp.registry.errors import N_, RegistryError

OTHER_AUDIT_KEY = N_(
    "AUDIT_KEY не тот, которым подписан журнал аудита: сервер не запущен, его записи в журнал не проверялись бы. "
    "Задайте AUDIT_KEY остальных серверов реестра (проверка: flask --app webapp audit verify)"
)
NO_DATABASE = N_(
    "База данных недоступна: сервер не запущен, пока не проверит её схему и AUDIT_KEY. Проверьте DATABASE_URL "
    "и что сервер базы данных запущен (%(error)s)"
)


def check(app: Flask) -> None:
    """`RegistryError` saying why `app` must not serve its database. Leaves no connection open: gunicorn forks its
    workers from the process that built the app."""
    with app.app_context():
        try:
            schema.require_current()
            if not audit.key_is_the_logs():
                raise RegistryError(OTHER_AUDIT_KEY)
        except SQLAlchemyError as error:
            raise RegistryError(NO_DATABASE, error=type(error).__name__) from None
        finally:
            dispose_engines()
