"""The insurer's open requests are found through the partial index of open ones, not by reading every request
ever made: the insurer's first page counts them on every visit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, text

from policy_codes import Enp
from tests.helpers.registry import NOW
from webapp.extensions import db
from webapp.models import ReissueRequest
from webapp.registry import bulk_import, open_requests, people
from webapp.registry.registry_file import COLUMNS

INDEX = "ix_reissue_requests_open"
#: Enough of one insurer's insured, each with a closed request, for the planner to weigh them as it would at scale.
PEOPLE = 3000


def an_insurer_with_years_of_requests() -> int:
    """Demo-Med with PEOPLE insured, a closed request each, and two open ones; the planner's statistics made."""
    lines = [",".join(COLUMNS)] + [
        f"{Enp.with_check_digit(f'77{n:013d}')},Иванов,Иван,,1980-01-01,M,,77001,citizen,," for n in range(PEOPLE)
    ]
    assert bulk_import.import_csv("\n".join(lines).encode(), "test", now=NOW, processes=0).loaded == PEOPLE
    db.session.execute(
        text(
            "INSERT INTO reissue_requests (person_id, insurer_id, reason, status, created_at, decline_reason)"
            " SELECT id, insurer_id, 'Телефон потерян', CASE WHEN id % 1500 = 0 THEN 'open' ELSE 'done' END,"
            " :now, '' FROM persons"
        ),
        {"now": NOW},
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return people.insurer_by_code("77001").id


@contextmanager
def statements_run() -> Iterator[list[tuple[str, Any]]]:
    """Each SQL statement (and its parameters) the session runs meanwhile."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(statement: str, parameters: Any) -> str:
    """The plan of one statement as the database would run it, as text."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all())


def test_the_open_requests_of_an_insurer_are_counted_and_listed_through_the_open_ones_index(registry: Flask) -> None:
    insurer_id = an_insurer_with_years_of_requests()
    with statements_run() as seen:
        assert open_requests.count(insurer_id) == 2
        assert len(open_requests.listed(ReissueRequest, insurer_id)) == 2
    on_reissue_requests = [(sql, values) for sql, values in seen if "reissue_requests" in sql]
    assert len(on_reissue_requests) == 2
    for sql, values in on_reissue_requests:
        assert INDEX in plan(sql, values), sql
    db.session.rollback()
