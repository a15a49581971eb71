"""Flask extensions, created unbound and initialised in the app factory (microblog's shape)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import request
from flask_limiter import Limiter
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
#: The IPv6 prefix one client holds whole: a home line, a phone or a rented server gets a /64 at least (RFC 6177).
IPV6_CLIENT_PREFIX = 64


def client_address() -> str:
    """The client's address as the limits count it (per address): an IPv6 client by its /64, since any address in
    it is theirs to send from (a new one for each guess made the limits none); an IPv4 address written as IPv6
    (::ffff:203.0.113.7, from a dual-stack socket or proxy) as itself; without the port some proxies write after it
    in X-Forwarded-For (203.0.113.7:51234, [2001:db8::7]:443), which changes with each connection. Anything else as
    it came."""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        try:
            parsed = ipaddress.ip_address(urlsplit(f"//{address}").hostname or "")
        except ValueError:
            return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)


#: Storage comes from RATELIMIT_STORAGE_URI: memory for one process, redis:// for several workers.
limiter = Limiter(key_func=client_address)
