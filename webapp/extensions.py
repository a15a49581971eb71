"""Flask extensions, created unbound and initialised in the app factory (microblog's shape)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes stored in the registry must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    registry = registry(type_annotation_map={datetime: UtcDateTime})


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
#: Every state-changing form and htmx request carries a token (htmx sends it as X-CSRFToken).
csrf = CSRFProtect()
#: Storage comes from RATELIMIT_STORAGE_URI: memory for one process, redis:// for several workers.
limiter = Limiter(key_func=get_remote_address)
