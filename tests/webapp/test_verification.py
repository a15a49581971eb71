"""Every verdict of docs/domain.md, reached through `verify_scan` against a real registry."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, timedelta

import cbor2
import pytest
from flask import Flask
from sqlalchemy import select, text

from policy_codes import PREFIX, CodeKind, Enp, FullName, Verdict, decode, encode
from policy_codes.base45 import b45decode, b45encode
from policy_codes.verdicts import Shown
from signing import KeyRing, sign1
from signing.pkcs8 import ScryptCost
from tests.helpers.registry import KEY_START, NOW, person_data, register
from tests.test_legacy import type_02
from webapp.db import engines, prepared_reads
from webapp.extensions import db
from webapp.models import Category, CodeStatus, IssuedCode, JobState
from webapp.registry import accounts, clock, lifecycle, mass_reissue, people
from webapp.registry.codes import live_code
from webapp.registry.keys import keystore, rotation
from webapp.registry.verification import registry_read, verify_scan

ENP = str(person_data().enp)


def test_valid_code_shows_the_holder(registry: Flask) -> None:
    result = verify_scan(register().text, now=NOW)
    assert result.verdict is Verdict.VALID
    assert result.shown == Shown.STATIC_CODE
    assert result.holder is not None
    assert result.holder.name == "Иванова Мария Петровна"
    assert result.holder.birth_date == date(1990, 4, 12)
    assert result.policy is not None
    assert result.policy.insurer_code == "77001"


def test_number_lookup(registry: Flask) -> None:
    register()
    result = verify_scan(ENP, now=NOW)
    assert (result.verdict, result.shown) == (Verdict.VALID, Shown.NUMBER)
    assert verify_scan(" " + ENP[:8] + " " + ENP[8:] + "\r\n", now=NOW).verdict is Verdict.VALID
    assert verify_scan("1234567890123452", now=NOW).verdict is Verdict.NOT_FOUND
    assert verify_scan("1234567890123458", now=NOW).verdict is Verdict.MALFORMED


def test_live_code_fresh_and_stale(registry: Flask) -> None:
    code = register()
    live = live_code(code, NOW)
    assert decode(live, keystore.trust_list(), NOW).claims.kind is CodeKind.LIVE
    fresh = verify_scan(live, now=NOW + timedelta(seconds=60))
    assert (fresh.verdict, fresh.shown) == (Verdict.VALID, Shown.LIVE_CODE)
    stale = verify_scan(live, now=NOW + timedelta(seconds=91))
    assert (stale.verdict, stale.shown) == (Verdict.EXPIRED, Shown.LIVE_CODE), "a live code that ran out"
    lifecycle.revoke(ENP, "test", "украден", now=NOW)
    assert verify_scan(live, now=NOW + timedelta(seconds=30)).verdict is Verdict.REVOKED


def test_signed_code_of_a_person_not_in_the_registry(registry: Flask) -> None:
    code = register()
    claims = decode(code.text, keystore.trust_list(), NOW).claims
    stranger = replace(claims, enp=Enp("1234567890123452"))
    text = encode(stranger, keystore.signing_key("77001", NOW))
    assert verify_scan(text, now=NOW).verdict is Verdict.NOT_FOUND


@pytest.mark.parametrize(
    "change", [{"name": FullName("Самозванова", "Мария", "Петровна")}, {"birth_date": date(1991, 4, 12)}]
)
def test_the_insurers_own_key_over_another_name_is_forged(registry: Flask, change: dict[str, object]) -> None:
    """Only a stolen key signs a current serial with a name or birth date the registry does not hold."""
    claims = decode(register().text, keystore.trust_list(), NOW).claims
    impostor = encode(replace(claims, **change), keystore.signing_key("77001", NOW))
    assert verify_scan(impostor, now=NOW).verdict is Verdict.FORGED
    assert verify_scan(encode(claims, keystore.signing_key("77001", NOW)), now=NOW).verdict is Verdict.VALID


def test_forged_unknown_key_malformed_and_other(registry: Flask) -> None:
    text = register().text
    message = b45decode(text[len(PREFIX) :])
    protected, unprotected, payload, signature = cbor2.loads(message)
    edited = cbor2.dumps([protected, unprotected, payload.replace(b"\x02\x01", b"\x02\x05", 1), signature])
    assert verify_scan(PREFIX + b45encode(edited), now=NOW).verdict is Verdict.FORGED
    stranger = KeyRing().create("77001", KEY_START)
    foreign = PREFIX + b45encode(sign1(payload, stranger, at=NOW))
    assert verify_scan(foreign, now=NOW).verdict is Verdict.UNKNOWN_KEY
    assert verify_scan(text[:-7], now=NOW).verdict in (Verdict.MALFORMED, Verdict.FORGED)
    assert verify_scan("OMS1:%%%", now=NOW).verdict is Verdict.MALFORMED
    for other in ("https://gosuslugi.ru/", "", "hello", "\x00\xff" * 80):
        assert verify_scan(other, now=NOW).verdict is Verdict.NOT_A_POLICY_CODE


def test_compromised_key_then_mass_reissue(registry: Flask) -> None:
    old = register().text
    other = register(person_data("770000000000004", "Петров", "Алексей")).text
    kid = keystore.signing_key("77001", NOW).kid.hex()
    progress: list[tuple[int, int]] = []
    job = mass_reissue.compromise(kid, "test", progress=lambda done, total: progress.append((done, total)))
    assert job.result == {"codes": 2}
    assert progress[-1] == (2, 2)
    assert verify_scan(old, now=NOW).verdict is Verdict.KEY_COMPROMISED
    assert verify_scan(other, now=NOW).verdict is Verdict.KEY_COMPROMISED
    new = people.current_code(people.person_by_enp(ENP))
    assert new is not None
    assert new.serial == 2
    assert new.kid != kid
    assert verify_scan(new.text).verdict is Verdict.VALID


def test_a_mass_reissue_signs_again_what_changed_after_its_batch_was_signed(registry: Flask) -> None:
    """The reissue signs the next batch while it writes this one; a holder whose row changes in between is
    signed again, in the writing process, from what the registry holds when the batch commits."""
    register()
    other = person_data("770000000000004", "Петров", "Алексей")
    register(other)
    registry.config["REISSUE_BATCH_SIZE"] = 1
    kid = keystore.signing_key("77001", NOW).kid.hex()
    changed: list[int] = []

    def correct_the_next_holder(done: int, total: int) -> None:
        if not changed:  # the second holder's batch is signed already, and not yet written
            changed.append(done)
            db.session.execute(
                text("UPDATE persons SET given_name = 'Алексий' WHERE enp = :enp"), {"enp": str(other.enp)}
            )
            db.session.commit()

    assert mass_reissue.compromise(kid, "test", progress=correct_the_next_holder).result == {"codes": 2}
    new = people.current_code(people.person_by_enp(str(other.enp)))
    assert new is not None
    assert new.kid != kid
    assert decode(new.text, keystore.trust_list(), NOW).claims.name.given_name == "АЛЕКСИЙ", "signed from the row now"
    assert verify_scan(new.text).verdict is Verdict.VALID


@pytest.mark.parametrize("change", ["compromise", "rotation"])
def test_a_reissue_whose_new_key_changes_while_it_runs_stops_and_resumes_under_the_next(
    registry: Flask, change: str
) -> None:
    """The key a reissue signs with is compromised in turn, or retired by a rotation, while it runs. The reissue
    stops before storing more codes under it, saying so, and resuming signs the rest with the active key. Codes a
    retired key signed after its retirement would read `forged` to every verifier that knows it retired, and a
    compromised key's own reissue may already have passed them."""
    for number in ("770000000000001", "770000000000004", "770000000000005"):
        register(person_data(number, "Петров", "Алексей"))
    registry.config["REISSUE_BATCH_SIZE"] = 1
    first = keystore.signing_key("77001", NOW).kid.hex()
    second: list[str] = []

    def change_the_new_key(done: int, total: int) -> None:
        if not second:
            second.append(keystore.signing_key("77001", clock.now()).kid.hex())
            if change == "compromise":
                assert mass_reissue.compromise(second[0], "test").state == JobState.FINISHED
            else:
                rotation.rotate("77001", "test")
                time.sleep(1.1)  # codes say when they were signed in whole seconds: the next batch signs after it

    job = mass_reissue.compromise(first, "test", progress=change_the_new_key)
    assert (job.state, job.failure) == (JobState.FAILED, mass_reissue.SIGNING_KEY_CHANGED)
    assert mass_reissue.resume(first, "test").state == JobState.FINISHED
    current = db.session.scalars(select(IssuedCode).where(IssuedCode.status == CodeStatus.CURRENT)).all()
    assert len(current) == 3
    assert not {code.kid for code in current} & {first}
    if change == "compromise":
        assert not {code.kid for code in current} & {second[0]}
    now = clock.now()
    assert all(decode(code.text, keystore.trust_list(), now) for code in current), "signed within their keys' windows"
    assert {verify_scan(code.text).verdict for code in current} == {Verdict.VALID}


def test_a_live_code_signed_while_a_rotation_is_written_reads_valid(registry: Flask) -> None:
    """A holder's screen asks for a live code while an operator's rotation is being written. The code is signed
    by the key every signer still reads as active, and must read valid, not `forged` for its 90 s. The rotation
    takes a while by design (scrypt encrypts the new key's private half: ~0.2 s at the production cost, over two
    seconds here), and it stamped the old key retired when it began, so a code signed in a later second fell
    after that retirement."""
    register()
    code = people.current_code(people.person_by_enp(ENP))
    assert code is not None
    registry.config["SIGNING_KEY_ENCRYPTION"] = ScryptCost(n=2**16, r=8, p=16)
    rotated = threading.Event()

    def rotate() -> None:
        with registry.app_context():
            try:
                rotation.rotate("77001", "test")
            finally:
                db.session.remove()
                rotated.set()

    thread = threading.Thread(target=rotate)
    thread.start()
    live = []
    try:
        while not rotated.is_set():
            live.append(live_code(code, clock.now()))
            db.session.rollback()  # a fresh snapshot for each, as each request of a holder's screen has
            time.sleep(0.05)
    finally:
        thread.join(timeout=60)
    db.session.rollback()
    assert len(live) > 20, "codes were signed all the while the rotation was written"
    assert {verify_scan(text).verdict for text in live} == {Verdict.VALID}


def test_expired_policy(registry: Flask) -> None:
    data = person_data(category=Category.FOREIGN_TEMPORARY, right_valid_until=date(2027, 1, 31))
    code = register(data)
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    assert verify_scan(code.text, now=NOW.replace(year=2027, month=2, day=1)).verdict is Verdict.EXPIRED


@pytest.mark.parametrize(("change", "expected"), [("suspend", Verdict.SUSPENDED), ("terminate", Verdict.TERMINATED)])
def test_policy_status(registry: Flask, change: str, expected: Verdict) -> None:
    code = register()
    getattr(lifecycle, change)(ENP, "test", "причина", now=NOW)
    assert verify_scan(code.text, now=NOW).verdict is expected
    assert verify_scan(ENP, now=NOW).verdict is expected


def test_legacy_paper_policy_carries_the_registry_status(registry: Flask) -> None:
    register()
    legacy = bytearray(type_02("ИВАНОВА|МАРИЯ|ПЕТРОВНА", 2, date(1990, 4, 12), None))
    legacy[1:9] = int(ENP).to_bytes(8, "big")
    result = verify_scan(bytes(legacy), now=NOW)
    assert (result.verdict, result.shown, result.registry_verdict) == (
        Verdict.LEGACY_PAPER,
        Shown.LEGACY_PAPER,
        Verdict.VALID,
    )
    assert "signature_not_checked" in result.notes
    assert verify_scan(bytes(legacy).decode("latin-1"), now=NOW).registry_verdict is Verdict.VALID
    lifecycle.terminate(ENP, "test", "смерть", now=NOW)
    assert verify_scan(bytes(legacy), now=NOW).registry_verdict is Verdict.TERMINATED
    legacy[1:9] = (1234567890123452).to_bytes(8, "big")
    assert verify_scan(bytes(legacy), now=NOW).registry_verdict is Verdict.NOT_FOUND


def test_russian_layout_scan(registry: Flask) -> None:
    text = register().text
    typed = text.translate(str.maketrans("QWERTYUIOPASDFGHJKLZXCVBNM:./$", "ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬЖЮ.;"))
    assert verify_scan(typed, now=NOW).verdict is Verdict.VALID


def test_a_number_never_claims_a_checked_signature(registry: Flask) -> None:
    from webapp.registry.verification import message

    code = register()
    by_number = verify_scan(ENP, now=NOW)
    by_code = verify_scan(code.text, now=NOW)
    assert by_number.verdict is by_code.verdict is Verdict.VALID
    assert "подпись" not in message(by_number).lower().replace("подписи у номера нет", "")
    assert "signature is good" not in message(by_number, "en")
    assert "подпись верна" in message(by_code)


def kept_connection() -> object:
    with engines.reads_connection() as connection:
        return connection.connection.driver_connection


def skip_unless_postgresql(reason: str) -> None:
    """Skip a test of what only PostgreSQL does, in the suite's SQLite run."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip(reason)


def test_reads_keep_their_connection_and_see_every_commit(registry: Flask) -> None:
    """The kept connection (webapp/engines.py) holds no transaction open: a revocation shows at once."""
    code = register()
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    kept = kept_connection()
    lifecycle.revoke(ENP, "test", "украден", now=NOW)
    assert verify_scan(code.text, now=NOW).verdict is Verdict.REVOKED
    assert kept_connection() is kept, "one connection for both reads"


def test_a_read_whose_driver_connection_failed_is_read_again_on_a_fresh_one(registry: Flask) -> None:
    """Reads run on the driver's own cursor (webapp/prepared_reads.py): its error must still drop the connection."""
    code = register()
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    broken = kept_connection()
    broken.close()  # type: ignore[attr-defined]  # as a database restart leaves it
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    assert kept_connection() is not broken


def test_other_threads_give_their_reads_connection_back(registry: Flask) -> None:
    """The development server starts a thread per request: none may keep a connection."""
    code = register()
    pool = db.engines[engines.READS_BIND].pool
    verify_scan(code.text, now=NOW)  # the main thread's kept connection
    checked_out = pool.checkedout()
    verdicts = []

    def verify_in_a_thread() -> None:
        with registry.app_context():
            verdicts.append(verify_scan(code.text, now=NOW).verdict)

    threads = [threading.Thread(target=verify_in_a_thread) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verdicts == [Verdict.VALID] * 3
    assert pool.checkedout() == checked_out


def test_reads_give_the_rows_sqlalchemy_gives(registry: Flask) -> None:
    """On PostgreSQL the reads run through libpq with psycopg's loaders (webapp/prepared_reads.py): their rows,
    types included, must be the ones SQLAlchemy's own execution gives, and on the kept connection: a read
    that failed would have been read again through SQLAlchemy on another. The reads take turns on one
    connection, so its one transformer must load each answer by that answer's own columns."""
    code = register()
    _, token = accounts.create_token("GP-001", "МИС", "test")
    db.session.commit()
    reads = [
        (registry_read("77"), {"enp": ENP, "serial": code.serial, "signer": code.kid}),
        (registry_read("77", live=True), {"enp": ENP, "serial": code.serial, "signer": code.kid}),
        (registry_read("77"), {"enp": "7700000000000027", "serial": code.serial, "signer": code.kid}),
        (accounts._LIVE_TOKEN, {"token_hash": accounts.hash_token(token)}),
        (accounts._LIVE_TOKEN, {"token_hash": accounts.hash_token("made-up")}),
    ]
    kept = kept_connection()
    for _ in range(2):  # the first read of each prepares it, the second runs it prepared
        for statement, parameters in reads:
            with engines.reads_connection() as connection:
                expected = connection.execute(statement, parameters).first()
            row = prepared_reads.first_row(statement, parameters)
            assert row == expected
            assert [type(value) for value in row or ()] == [type(value) for value in expected or ()]
            assert row is None or row._fields == expected._fields
    assert kept_connection() is kept


def test_prepared_statements_are_the_engines_sql(registry: Flask) -> None:
    """They are compiled by a dialect of their own, for libpq's `$1`: apart from that, the SQL must not differ."""
    skip_unless_postgresql("only PostgreSQL prepares statements")
    with engines.reads_connection() as connection:
        dialect = connection.dialect
    for statement in (registry_read("77"), registry_read("77", live=True), accounts._LIVE_TOKEN):
        prepared = prepared_reads._Compiled.of(statement, dialect).compiled
        expected = statement.compile(dialect=dialect).string
        for number, name in enumerate(prepared.positiontup or (), start=1):
            expected = expected.replace(f"%({name})s", f"${number}")
        assert prepared.string == expected


def test_a_read_whose_prepared_statement_is_gone_is_read_again_on_a_fresh_connection(
    registry: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A pooler or a `DISCARD ALL` can drop what a connection prepared: the read must not fail for it, the
    log must say so without the server's message, and the fresh connection prepares it again."""
    skip_unless_postgresql("only PostgreSQL prepares statements")
    code = register()
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    stale = kept_connection()
    stale.execute("DEALLOCATE ALL")  # type: ignore[attr-defined]
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    assert "InvalidSqlStatementName 26000" in caplog.text
    fresh = kept_connection()
    assert fresh is not stale
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    assert kept_connection() is fresh
    prepared = fresh.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'single_read_%'").fetchall()  # type: ignore[attr-defined]
    assert len(prepared) == 1, "the registry row's read is prepared again on the fresh connection"


def test_a_read_whose_server_process_ended_is_read_again_on_a_fresh_connection(registry: Flask) -> None:
    """A database restart ends the kept connection's server process: libpq reports it in a result, not by
    raising, and the read must still be answered."""
    skip_unless_postgresql("the server's processes are PostgreSQL's")
    code = register()
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    ended = kept_connection()
    db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended.info.backend_pid})  # type: ignore[attr-defined]
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
    assert kept_connection() is not ended
