"""The region partitions of the registry's five big tables on PostgreSQL (migrations/versions/
0012_region_partitions.py, docs/scaling.md); SQLite's tables are flat and need nothing."""

from __future__ import annotations

from sqlalchemy import text

from webapp.db.bulk import is_postgresql
from webapp.extensions import db

#: Partitioned by `region_code` on PostgreSQL, in the order their references run.
PARTITIONED = ("persons", "policies", "issued_codes", "revocation_events", "clinic_checks")


def add_region(code: str) -> None:
    """One partition of each table for a new region, in the session's transaction.

    The DEFAULT partition holds no row of the region (a row's region is its insurer's or clinic's, and no
    insurer or clinic names a region before it exists), so PostgreSQL's check of it finds nothing to move.
    `code` is two digits (organisations.create_region checks it): it is spliced into the DDL.
    """
    if is_postgresql():
        for statement in region_ddl(code):
            db.session.execute(text(statement))


def region_ddl(code: str) -> list[str]:
    """PostgreSQL's statements for a region's partitions: also for a copy of a registry made outside the app
    (bench/_server.py)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {table}_{code} PARTITION OF {table} FOR VALUES IN ('{code}')"
        for table in PARTITIONED
    ]
