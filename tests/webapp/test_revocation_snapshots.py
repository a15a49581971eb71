"""The revocation list's snapshot (webapp/registry/keys/revocation_snapshots.py): the full list built from it
says exactly what a list read from every event says; and no event is left behind a cursor, or out of a
snapshot, while another transaction still writes it (webapp/db/commit_order.py)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, insert, select, text

from policy_codes.revocation import digest_of_text
from tests.helpers.claims import NOW
from tests.helpers.registry import person_data, register
from tests.webapp.test_cli import run
from webapp.extensions import db
from webapp.models import CodeStatus, IssuedCode, RevocationEvent, RevocationSnapshot
from webapp.registry import lifecycle, mass_reissue
from webapp.registry.keys import publication, revocation_snapshots

LATER = NOW + timedelta(days=1)


def withdraw_some(first: int, count: int) -> list[str]:
    """Register `count` people, revoke the even ones' codes and reissue the odd ones': their old codes' texts."""
    withdrawn = []
    for n in range(first, first + count):
        enp15 = f"7700000000{n:05d}"
        code = register(person_data(enp15))
        person_enp = code.person.enp
        if n % 2:
            lifecycle.reissue(person_enp, "test", "потерян телефон", now=NOW)
        else:
            lifecycle.revoke(person_enp, "test", "украден", now=NOW)
        withdrawn.append(code.text)
    return withdrawn


def full_list() -> dict:
    _edition, document = publication.revocations(0, now=LATER)
    assert document is not None
    return document


def test_the_full_list_from_a_snapshot_is_the_list_read_from_every_event(registry: Flask) -> None:
    withdraw_some(1, 6)
    from_events = full_list()
    cursor = revocation_snapshots.rebuild()
    assert cursor == db.session.scalar(select(func.max(RevocationEvent.id)))
    withdraw_some(7, 3)  # after the snapshot: read as events
    with_later_events = full_list()
    assert full_list() == with_later_events
    db.session.execute(delete(RevocationSnapshot))
    db.session.commit()
    assert full_list() == with_later_events  # byte for byte what every event gives: same digests, same signature
    assert from_events["cursor"] == cursor < with_later_events["cursor"]


def test_the_full_list_reads_the_snapshot_not_the_events_before_it(registry: Flask) -> None:
    withdrawn = withdraw_some(1, 4)
    cursor = revocation_snapshots.rebuild()
    # Gone from the events (all but the newest, which dates the edition), they can only come from the snapshot.
    db.session.execute(delete(RevocationEvent).where(RevocationEvent.id < cursor))
    db.session.commit()
    document = full_list()
    listed = base64.b64decode(document["revoked"]) + base64.b64decode(document["superseded"])
    for withdrawn_text in withdrawn:
        assert digest_of_text(withdrawn_text) in listed


def test_an_increment_is_read_from_the_events(registry: Flask) -> None:
    withdraw_some(1, 2)
    cursor = revocation_snapshots.rebuild()
    later = withdraw_some(3, 2)
    increment = publication.revocations(cursor, now=LATER)[1]
    assert increment is not None
    assert increment["since"] == cursor
    listed = base64.b64decode(increment["revoked"]) + base64.b64decode(increment["superseded"])
    size = len(digest_of_text(later[0]))
    assert sorted(listed[at : at + size] for at in range(0, len(listed), size)) == sorted(map(digest_of_text, later))


def test_a_rebuild_keeps_one_snapshot_and_starts_from_the_last(registry: Flask) -> None:
    withdraw_some(1, 2)
    first = revocation_snapshots.rebuild()
    assert revocation_snapshots.rebuild() == first  # nothing new: nothing written
    withdraw_some(3, 2)
    second = revocation_snapshots.rebuild()
    assert db.session.scalars(select(RevocationSnapshot.cursor)).all() == [second]


@contextmanager
def an_event_being_written(app: Flask, code: IssuedCode) -> Iterator[None]:
    """A writer's transaction that has taken its turn and inserted an event, as lifecycle does, and commits only
    when the block ends; meanwhile another writer revokes a second code in a thread of its own."""
    slow = db.engine.connect()
    slow.begin()
    slow.execute(text("SELECT pg_advisory_xact_lock(hashtext('revocation_events'))"))
    slow.execute(
        insert(RevocationEvent).values(
            code_id=code.id,
            digest=digest_of_text(code.text),
            status="revoked",
            at=NOW,
            region_code=code.region_code,
        )
    )
    try:
        yield
    finally:
        slow.commit()
        slow.close()


def _revoke_in(app: Flask, enp: str) -> None:
    with app.app_context():
        lifecycle.revoke(enp, "test", "украден", now=NOW)


def test_an_event_committed_late_is_not_left_behind_a_cursor(registry: Flask) -> None:
    """Ids are handed out at insert and transactions commit in any order: a list read while an older event is
    still being written must not hand out a cursor past it, or a verifier asking `since` that cursor misses it
    for good (webapp/db/commit_order.py). Likewise a snapshot taken then."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: no event is written while another commits")
    code = register(person_data("770000000000001"))
    other = register(person_data("770000000000002"))
    db.session.commit()
    with an_event_being_written(registry, code):
        newer = threading.Thread(target=_revoke_in, args=(registry, other.person.enp))
        newer.start()
        newer.join(1.0)
        read_meanwhile = full_list()
        revocation_snapshots.rebuild()
    newer.join(30)
    assert not newer.is_alive()
    later = publication.revocations(read_meanwhile["cursor"], now=LATER)[1]
    assert later is not None
    seen = base64.b64decode(read_meanwhile["revoked"]) + base64.b64decode(later["revoked"])
    assert digest_of_text(code.text) in seen
    assert digest_of_text(other.text) in seen
    assert digest_of_text(code.text) in base64.b64decode(full_list()["revoked"])  # from the snapshot on


def events_dated_in_order() -> bool:
    dates = list(db.session.scalars(select(RevocationEvent.at).order_by(RevocationEvent.id)))
    return dates == sorted(dates)


def test_a_later_edition_is_never_dated_before_the_one_verifiers_hold(registry: Flask) -> None:
    """An insurer's revocation that took its moment and then waited (for the person's row, for its turn) commits
    after one begun later. Its event must not date the next edition before the one desks hold: they refuse an
    older list (`refuse_older`), and would keep missing every code withdrawn since, until the next hour's."""
    waited = register(person_data("770000000000001"))
    other = register(person_data("770000000000002"))
    lifecycle.revoke(other.person.enp, "test", "украден", now=NOW + timedelta(seconds=5))
    held = publication.revocations(0, now=NOW + timedelta(seconds=30))[1]
    began_first = NOW + timedelta(seconds=1)  # and committed last
    lifecycle.revoke(waited.person.enp, "test", "украден", now=began_first)
    newer = publication.revocations(0, now=NOW + timedelta(seconds=30))[1]
    assert held is not None
    assert newer is not None
    assert newer["cursor"] > held["cursor"]
    assert datetime.fromisoformat(newer["issued_at"]) >= datetime.fromisoformat(held["issued_at"])
    assert digest_of_text(waited.text) in base64.b64decode(newer["revoked"])
    assert events_dated_in_order()


def test_a_mass_reissue_dates_its_events_after_the_newest(registry: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """The same for a mass reissue's batches: after an event dated ahead of its moment (an app server whose clock
    runs ahead, or a revocation that began later and committed first). Far ahead, the log says so: every event
    takes that date until the clocks agree."""
    current = register(person_data("770000000000099"))
    ahead = register(person_data("770000000000098"))
    lifecycle.revoke(ahead.person.enp, "test", "украден", now=datetime.now(UTC) + timedelta(minutes=10))
    with caplog.at_level("WARNING", logger="webapp.db.commit_order"):
        mass_reissue.compromise(current.kid, "test")
    assert db.session.get(IssuedCode, current.id).status == CodeStatus.SUPERSEDED
    assert events_dated_in_order()
    assert "ahead of this server's clock" in caplog.text


def test_a_mass_reissue_leaves_its_withdrawn_codes_in_the_snapshot(registry: Flask) -> None:
    withdraw_some(1, 2)
    current = register(person_data("770000000000099"))
    kid = current.kid
    mass_reissue.compromise(kid, "test")
    snapshot = db.session.scalar(select(RevocationSnapshot))
    assert snapshot is not None
    assert snapshot.cursor == db.session.scalar(select(func.max(RevocationEvent.id)))
    assert digest_of_text(current.text) in snapshot.superseded
    assert db.session.get(IssuedCode, current.id).status == CodeStatus.SUPERSEDED


def test_the_command_builds_it(registry: Flask) -> None:
    withdraw_some(1, 2)
    code, output = run(registry, "keys", "revocation-snapshot")
    assert code == 0, output
    cursor = db.session.scalar(select(func.max(RevocationEvent.id)))
    assert f"собран до события №{cursor}" in output
    assert db.session.scalar(select(RevocationSnapshot.cursor)) == cursor
