"""The lifecycle on a real database, with the verdicts each change leads to."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from policy_codes import CodeKind, Verdict, decode
from tests.helpers.registry import KEY_START, NOW, make_app, person_data, register
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import AuditEntry, Category, CodeStatus, Insurer, IssuedCode, Policy, PolicyKind, PolicyStatus
from webapp.registry import clock, data_changes, lifecycle, organisations, people, representations
from webapp.registry.data_changes import ChangeReason
from webapp.registry.errors import NotFound, RegistryError
from webapp.registry.keys import keystore, rotation
from webapp.registry.verification import verify_scan

ENP = str(person_data().enp)


def verdict(text: str, at: datetime = NOW) -> Verdict:
    return verify_scan(text, now=at).verdict


def current_codes(enp: str = ENP) -> list[IssuedCode]:
    person = people.person_by_enp(enp)
    return list(
        db.session.scalars(
            select(IssuedCode).where(IssuedCode.person_id == person.id, IssuedCode.status == CodeStatus.CURRENT)
        )
    )


def test_register_signs_a_code_that_verifies(registry: Flask) -> None:
    code = register()
    assert code.serial == 1
    assert verdict(code.text) is Verdict.VALID
    claims = decode(code.text, keystore.trust_list(), NOW).claims
    assert claims.name.surname == "ИВАНОВА"
    assert claims.insurer_code == "77001"
    assert claims.valid_to is None
    assert code.policy.valid_from == date(2026, 11, 23)


def test_reissue_supersedes_the_old_code(registry: Flask) -> None:
    old = register().text
    new = lifecycle.reissue(ENP, "test", "потерян телефон", now=NOW)
    assert new.serial == 2
    assert verdict(old) is Verdict.SUPERSEDED
    assert verdict(new.text) is Verdict.VALID
    assert [code.serial for code in current_codes()] == [2]


def test_revoke_with_a_reason(registry: Flask) -> None:
    code = register()
    with pytest.raises(RegistryError):
        lifecycle.revoke(ENP, "test", "  ", now=NOW)
    lifecycle.revoke(ENP, "test", "украден телефон", now=NOW)
    assert verdict(code.text) is Verdict.REVOKED
    assert current_codes() == []
    with pytest.raises(RegistryError):
        lifecycle.revoke(ENP, "test", "ещё раз", now=NOW)


def test_the_gate_says_what_each_state_allows_and_every_change_obeys_it(registry: Flask) -> None:
    """The person's page offers `allowed`; the changes themselves refuse the rest (issue 18: «Возобновить»
    was offered on an active policy)."""
    person = register().person
    certificate_holder = register(person_data("770000000000004", "Петров", "Алексей", sex="M"), temporary=True).person
    ops = lifecycle.Operation
    common = {ops.REISSUE, ops.REVOKE, ops.CHANGE_INSURER, ops.CORRECT, ops.SUSPEND, ops.TERMINATE}
    assert lifecycle.allowed(person) == common
    assert lifecycle.allowed(certificate_holder) == common | {ops.ISSUE_POLICY}
    with pytest.raises(RegistryError, match="возобновлять нечего"):
        lifecycle.resume(ENP, "test", "служба окончена", now=NOW)
    lifecycle.suspend(ENP, "test", "срочная служба", now=NOW)
    assert lifecycle.allowed(person) == {ops.CORRECT, ops.RESUME, ops.TERMINATE}
    with pytest.raises(RegistryError, match="сначала его нужно возобновить"):
        lifecycle.revoke(ENP, "test", "украден", now=NOW)
    lifecycle.terminate(ENP, "test", "смерть", now=NOW)
    assert lifecycle.allowed(person) == {ops.CORRECT}
    for operation in (ops.REISSUE, ops.REVOKE, ops.SUSPEND, ops.RESUME, ops.TERMINATE):
        with pytest.raises(RegistryError, match="прекращён"):
            lifecycle.require_allowed(person, operation)
    lifecycle.revoke(str(certificate_holder.enp), "test", "выдан по ошибке", now=NOW)
    assert ops.REVOKE not in lifecycle.allowed(certificate_holder), "no current code left to revoke"


def test_suspend_resume_terminate(registry: Flask) -> None:
    code = register()
    lifecycle.suspend(ENP, "test", "военная служба", now=NOW)
    assert verdict(code.text) is Verdict.SUSPENDED
    assert current_codes() == [], "the code is withdrawn (listed as suspended): nothing to show"
    lifecycle.resume(ENP, "test", "служба окончена", now=NOW)
    assert verdict(code.text) is Verdict.SUPERSEDED, "resuming reissues the code"
    (resumed,) = current_codes()
    assert resumed.serial == code.serial + 1
    assert verdict(resumed.text) is Verdict.VALID
    lifecycle.terminate(ENP, "test", "смерть", now=NOW)
    assert verdict(resumed.text) is Verdict.TERMINATED
    assert current_codes() == []
    with pytest.raises(RegistryError):
        lifecycle.resume(ENP, "test", "ошибка", now=NOW)


def test_data_correction_reissues_with_the_new_name(registry: Flask) -> None:
    old = register().text
    corrected = person_data(surname="Петрова")
    new = data_changes.change_person_data(
        ENP, corrected, ChangeReason.REGISTRY_IMPORT, "смена фамилии", None, "test", now=NOW
    )
    assert verdict(old) is Verdict.SUPERSEDED
    assert decode(new.text, keystore.trust_list(), NOW).claims.name.surname == "ПЕТРОВА"
    with pytest.raises(RegistryError):
        data_changes.change_person_data(ENP, corrected, ChangeReason.REGISTRY_IMPORT, "", None, "test", now=NOW)


def test_temporary_certificate_then_policy(registry: Flask) -> None:
    certificate = register(temporary=True)
    assert certificate.policy.kind == PolicyKind.TEMPORARY_CERTIFICATE
    # Monday 23 Nov 2026 + 45 working days; 31 Dec is a working day, 1-8 Jan 2027 are holidays
    assert certificate.policy.valid_to == date(2027, 2, 2)
    assert decode(certificate.text, keystore.trust_list(), NOW).claims.kind is CodeKind.TEMPORARY_CERTIFICATE
    assert verdict(certificate.text, datetime(2027, 2, 2, 12, tzinfo=NOW.tzinfo)) is Verdict.VALID
    assert verdict(certificate.text, datetime(2027, 2, 3, 12, tzinfo=NOW.tzinfo)) is Verdict.EXPIRED
    policy = lifecycle.replace_certificate_with_policy(ENP, "test", now=NOW + timedelta(days=10))
    assert policy.policy.kind == PolicyKind.POLICY
    assert policy.serial == 2
    assert verdict(certificate.text) is Verdict.SUPERSEDED


def test_foreign_worker_policy_ends_with_the_contract(registry: Flask) -> None:
    data = person_data(category=Category.EAEU_WORKER, right_valid_until=date(2027, 3, 31))
    code = register(data)
    assert code.policy.valid_to == date(2027, 3, 31)  # issued in November: next year's end, capped by contract
    assert verdict(code.text, datetime(2027, 4, 1, 12, tzinfo=NOW.tzinfo)) is Verdict.EXPIRED


def test_change_of_insurer_once_a_year(registry: Flask) -> None:
    old = register(at=datetime(2026, 2, 1, tzinfo=NOW.tzinfo)).text
    moved = lifecycle.change_insurer(
        ENP, "77002", date(2026, 3, 1), "test", now=datetime(2026, 3, 1, tzinfo=NOW.tzinfo)
    )
    assert decode(moved.text, keystore.trust_list(), NOW).claims.insurer_code == "77002"
    assert moved.kid == keystore.signing_key("77002", NOW).kid.hex()
    assert verdict(old) is Verdict.SUPERSEDED
    assert verdict(moved.text) is Verdict.VALID
    june = datetime(2026, 6, 1, tzinfo=NOW.tzinfo)
    with pytest.raises(RegistryError, match="один раз"):
        lifecycle.change_insurer(ENP, "77001", date(2026, 6, 1), "test", now=june)
    # moving to another region lifts the limit
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START)
    away = lifecycle.change_insurer(ENP, "50001", date(2026, 6, 1), "test", exception="moved_region", now=june)
    assert verdict(away.text) is Verdict.VALID
    assert verdict(moved.text) is Verdict.SUPERSEDED
    assert people.person_by_enp(ENP).insurer.code == "50001"


def test_change_of_insurer_checks_the_birth_date_on_the_locked_record(registry: Flask) -> None:
    register(at=datetime(2026, 2, 1, tzinfo=NOW.tzinfo))
    march = datetime(2026, 3, 2, tzinfo=NOW.tzinfo)
    with pytest.raises(NotFound):
        lifecycle.change_insurer(ENP, "77002", march.date(), "test", "", march, date(1991, 1, 1))
    assert people.person_by_enp(ENP).insurer.code == "77001", "nobody moved"
    moved = lifecycle.change_insurer(ENP, "77002", march.date(), "test", "", march, date(1990, 4, 12))
    assert moved.policy.insurer.code == "77002"


def test_change_of_insurer_after_1_november_is_refused(registry: Flask) -> None:
    register(at=datetime(2026, 2, 1, tzinfo=NOW.tzinfo))
    entered = datetime(2026, 11, 2, 12, tzinfo=NOW.tzinfo)
    with pytest.raises(RegistryError, match="1 ноября"):
        lifecycle.change_insurer(ENP, "77002", date(2026, 11, 2), "test", now=entered)
    lifecycle.change_insurer(ENP, "77002", date(2026, 11, 1), "test", now=entered)


def test_an_insurer_sees_only_its_own_people(registry: Flask) -> None:
    register()
    with pytest.raises(NotFound):
        lifecycle.reissue(ENP, "smo", "попытка", scope="77002", now=NOW)
    assert lifecycle.reissue(ENP, "smo", "свой", scope="77001", now=NOW).serial == 2


def test_newborn_is_covered_by_the_mother_until_day_30(registry: Flask) -> None:
    register()
    child = person_data(
        "770000000000003", "Иванова", "София", "Сергеевна", date(2026, 11, 1), birth_registered_on=date(2026, 11, 3)
    )
    lifecycle.register_newborn(child, ENP, "test", now=NOW)
    day_30 = datetime(2026, 12, 3, 12, tzinfo=NOW.tzinfo)
    result = verify_scan(str(child.enp), now=day_30)
    assert result.verdict is Verdict.VALID
    assert "newborn_cover" in result.notes
    assert result.policy is not None
    assert result.policy.insurer_code == "77001"
    assert verify_scan(str(child.enp), now=day_30 + timedelta(days=1)).verdict is Verdict.EXPIRED


def test_a_newborns_cover_ends_with_the_link_its_insurer_ended(registry: Flask) -> None:
    """An insurer ending the mother's link (here a registry error) ends the cover her policy gave the child: the
    desk no longer reads `valid` under her insurer for a child she no longer represents."""
    register()
    child = person_data(
        "770000000000003", "Иванова", "София", "Сергеевна", date(2026, 11, 1), birth_registered_on=date(2026, 11, 3)
    )
    lifecycle.register_newborn(child, ENP, "test", now=NOW)
    ended_at = datetime(2026, 11, 28, 12, tzinfo=NOW.tzinfo)
    last_day = representations.end(ENP, str(child.enp), "registry_error", "test", now=ended_at)
    assert verify_scan(str(child.enp), now=ended_at - timedelta(days=1)).verdict is Verdict.VALID
    result = verify_scan(str(child.enp), now=ended_at)
    assert result.verdict is Verdict.EXPIRED
    assert result.notes == ("newborn_cover_ended",)
    assert result.newborn_cover_until == last_day == date(2026, 11, 27)
    assert people.newborn_cover(people.person_by_enp(str(child.enp)), ended_at.date()) is None


def test_a_failed_change_leaves_the_old_state_whole(registry: Flask) -> None:
    code = register()
    audit_entries = db.session.scalar(select(func.count(AuditEntry.id)))
    keystore.retire_active("77001")  # no key left to sign with: reissue fails after superseding
    db.session.commit()
    with pytest.raises(RegistryError, match="ключа"):
        lifecycle.reissue(ENP, "test", "перевыпуск", now=NOW)
    assert [c.serial for c in current_codes()] == [1]
    assert verdict(code.text) is Verdict.VALID
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audit_entries


def test_changes_survive_a_restart(registry: Flask, database_url: str) -> None:
    revoked, reissued = register().text, register(person_data("770000000000004", "Петров", "Алексей")).text
    lifecycle.revoke(ENP, "test", "украден", now=NOW)
    lifecycle.reissue(str(person_data("770000000000004").enp), "test", "потерян", now=NOW)
    restarted = make_app(database_url)
    with restarted.app_context():
        assert verdict(revoked) is Verdict.REVOKED
        assert verdict(reissued) is Verdict.SUPERSEDED
        dispose_engines()


def test_concurrent_reissues_end_with_exactly_one_current_code(registry: Flask, database_url: str) -> None:
    register()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def reissue() -> None:
        with registry.app_context():
            try:
                barrier.wait()
                lifecycle.reissue(ENP, "test", "гонка")
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reissue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    current = current_codes()
    assert len(current) == 1
    serials = db.session.scalars(select(IssuedCode.serial).order_by(IssuedCode.serial)).all()
    assert serials == list(range(1, len(serials) + 1)), "no serial lost or duplicated"
    assert current[0].serial == serials[-1]
    assert len(serials) - 1 + len(errors) == 4, errors


def test_a_code_is_signed_under_the_key_rows_lock_a_compromise_takes(registry: Flask, database_url: str) -> None:
    """A reissue holds its insurer's key rows FOR SHARE while it signs and stores the code, so a compromise
    (which locks them FOR UPDATE) either waits for the code, which its reissue then finds, or goes first, and the
    code is signed with the new key: never a code of the compromised key stored after its reissue has passed.
    Here the compromise's lock is held by hand, and the reissue waits for it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its one writer at a time serialises the two")
    register()
    compromise = db.engine.connect()
    transaction = compromise.begin()
    compromise.execute(text("SELECT id FROM signing_keys WHERE owner = '77001' FOR UPDATE"))
    finished = threading.Event()

    def reissue() -> None:
        with registry.app_context():
            try:
                lifecycle.reissue(ENP, "test", "ключ меняется")
                finished.set()
            finally:
                db.session.remove()

    thread = threading.Thread(target=reissue)
    thread.start()
    try:
        assert not finished.wait(1.0), "the reissue waits for the key rows' lock"
    finally:
        transaction.rollback()
        compromise.close()
        thread.join(timeout=30)
    assert finished.is_set(), "and goes on once it is released"


def test_a_code_issued_while_a_rotation_commits_is_signed_with_the_new_key(registry: Flask, database_url: str) -> None:
    """A reissue waiting for the key rows a rotation holds goes on once the rotation commits, with the new key.
    PostgreSQL hands the waiting read the rows it locked as the rotation left them (the old key retired) but not
    the new key's row, added after the read began: the reissue reads again rather than refuse the clerk with
    «нет действующего ключа подписи» (it did, and a second click worked)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its one writer at a time serialises the two")
    register()
    old_kid = keystore.signing_key("77001", clock.now()).kid.hex()
    rotated, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def rotate() -> None:
        with registry.app_context():
            try:
                keystore.rotate("77001", db.session.scalar(select(Insurer).where(Insurer.code == "77001")))
                db.session.flush()
                rotated.set()
                release.wait(30)  # a rotation still writing its new key while the reissue comes
                db.session.commit()
            finally:
                db.session.remove()

    def reissue() -> None:
        with registry.app_context():
            try:
                outcome["kid"] = lifecycle.reissue(ENP, "test", "ключ меняется").kid
            except RegistryError as error:
                outcome["refused"] = str(error)
            finally:
                db.session.remove()

    rotation, reissuing = threading.Thread(target=rotate), threading.Thread(target=reissue)
    rotation.start()
    try:
        assert rotated.wait(30)
        reissuing.start()
        deadline = time.monotonic() + 30
        while not waiting_for_a_lock():
            assert time.monotonic() < deadline, "the reissue waits for the rotation's lock"
            time.sleep(0.05)
    finally:
        release.set()
        rotation.join(timeout=30)
        if reissuing.ident is not None:
            reissuing.join(timeout=30)
    db.session.rollback()
    new_kid = keystore.signing_key("77001", clock.now()).kid.hex()
    assert new_kid != old_kid
    assert outcome == {"kid": new_kid}


def test_a_code_whose_moment_was_read_before_a_rotation_began_is_not_refused_as_keyless(registry: Flask) -> None:
    """A reissue reads its moment, then waits (for the person's row, the key rows) while a rotation that began a
    second later commits: the new key starts after the reissue's moment and the old one is retired, so no key
    covered it and the clerk read «нет действующего ключа подписи: выполните ротацию ключей», after a rotation.
    The operation runs again from a fresh moment (webapp/db/transactions.py `RunAgain`); told a fixed moment, as
    here, every attempt meets the newer key, and it says the keys changed, with nothing written."""
    first_serial = register().serial
    moment = clock.now()
    rotation.rotate("77001", "test", now=moment + timedelta(seconds=2))
    db.session.remove()
    with pytest.raises(keystore.KeysChangedMeanwhile) as refused:
        lifecycle.reissue(ENP, "test", "ключ меняется", now=moment)
    assert refused.value.message.startswith("Ключи подписи СМО %(owner)s сменились, пока шла операция")
    db.session.rollback()
    assert people.current_code(people.person_by_enp(ENP)).serial == first_serial, "nothing written"


def waiting_for_a_lock() -> bool:
    """Whether a backend of this database waits for a row lock."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    with db.engine.connect() as connection:
        return bool(connection.scalar(text(waiting)))


def test_one_open_policy_per_person(registry: Flask) -> None:
    register(at=datetime(2026, 2, 1, tzinfo=NOW.tzinfo))
    lifecycle.change_insurer(ENP, "77002", date(2026, 3, 2), "test", now=datetime(2026, 3, 2, tzinfo=NOW.tzinfo))
    person = people.person_by_enp(ENP)
    statuses = db.session.scalars(select(Policy.status).where(Policy.person_id == person.id)).all()
    assert sorted(statuses) == [PolicyStatus.ACTIVE, PolicyStatus.CLOSED]


def test_key_window_starts_before_signing(registry: Flask) -> None:
    assert keystore.signing_key("77001", KEY_START).public.not_before == KEY_START
