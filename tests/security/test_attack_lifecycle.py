"""The red team's findings on the policy lifecycle after issue 16 (/work/redteam-findings.md, F1, F3, F5).

- F1: a terminated or suspended policy came back `valid` through another insurer's transfer, the same
  insurer's "policy instead of the temporary certificate", or the mass reissue after a key compromise.
- F3: an insurer took over another insurer's insured from the ЕНП alone, guessing the birth date on an
  unlimited, unaudited form; `applied_on` was whatever the form said, an exception needed nothing to back
  it, and each transfer gave a temporary certificate 45 fresh working days.
- F5: a correction that ended the person's right left the policy (and the reissued code) valid to the old end.
- Observations: a newborn could never get a policy of its own, was `valid` through a terminated mother's
  policy, and the new insurer read the old insurer's audit trail of a person.

Service calls run on the registry with a clock given; pages go through the test client with CSRF on and the
real clock, as staff use them. Both on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from policy_codes import Enp, Verdict, decode
from tests.helpers.moscow_day import today
from tests.helpers.registry import KEY_START, person_data, register
from tests.security.world import MOTHER, STRANGER
from tests.webapp.pages import PASSWORD, csrf, logged_in, take_step
from webapp.extensions import db
from webapp.models import AuditEntry, Category, IssuedCode, PolicyKind, Role
from webapp.registry import (
    accounts,
    bulk_import,
    data_changes,
    lifecycle,
    mass_reissue,
    organisations,
    people,
)
from webapp.registry.data_changes import ChangeReason
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore
from webapp.registry.people import PersonData
from webapp.registry.verification import verify_scan

ROOT = Path(__file__).resolve().parents[2]
ENP = str(person_data().enp)
BORN = person_data().birth_date
REASON = "по заявлению"
#: What staff type as the document behind an exception to the once-a-year rule.
DOCUMENT = "письмо ТФОМС № 12-345 от 01.12.2026"
STATUS_WORDS = re.compile(r"\b(active|suspended|terminated|closed|temporary_certificate)\b")


def at(day: date) -> datetime:
    """Noon in Moscow of `day`."""
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def english_catalog() -> dict[str, str]:
    with (ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return {message.id: message.string for message in read_po(file) if message.id}


def assert_refused_in_russian(error: RegistryError) -> None:
    """A refusal: Russian words, a catalog id with an English translation, no internal status code."""
    assert re.search("[А-Яа-яЁё]", str(error)), str(error)
    assert not STATUS_WORDS.search(str(error)), str(error)
    assert english_catalog().get(error.message), f"not a translated catalog id: {error.message!r}"


def number_verdict(enp: str, day: date) -> Verdict:
    return verify_scan(enp, now=at(day)).verdict


@pytest.fixture
def elsewhere(registry: Flask) -> Flask:
    """A third insurer, in another region (50): a move there is a real change of region."""
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START)
    return registry


# F1: a terminated or suspended policy stays so -------------------------------------------------------------

ENDINGS = {"terminate": Verdict.TERMINATED, "suspend": Verdict.SUSPENDED}


@pytest.mark.parametrize("ending", ["terminate", "suspend"])
def test_a_transfer_does_not_bring_back_a_terminated_or_suspended_policy(elsewhere: Flask, ending: str) -> None:
    register(at=at(date(2026, 1, 12)))
    getattr(lifecycle, ending)(ENP, "test", REASON, now=at(date(2026, 2, 2)))
    with pytest.raises(RegistryError) as refused:
        lifecycle.change_insurer(ENP, "50001", date(2026, 3, 2), "test", "moved_region", now=at(date(2026, 3, 2)))
    assert_refused_in_russian(refused.value)
    assert people.person_by_enp(ENP).insurer.code == "77001"
    assert number_verdict(ENP, date(2026, 3, 2)) is ENDINGS[ending]


def test_the_same_application_moves_an_active_policy(elsewhere: Flask) -> None:
    """The control for the test above: only the policy's state made the difference."""
    register(at=at(date(2026, 1, 12)))
    moved = lifecycle.change_insurer(ENP, "50001", date(2026, 3, 2), "test", "moved_region", now=at(date(2026, 3, 2)))
    assert moved.policy.insurer.code == "50001"
    assert number_verdict(ENP, date(2026, 3, 2)) is Verdict.VALID


@pytest.mark.parametrize("ending", ["terminate", "suspend"])
@pytest.mark.parametrize("operation", ["issue_policy", "reissue"])
def test_no_new_code_or_policy_for_a_terminated_or_suspended_certificate(
    registry: Flask, ending: str, operation: str
) -> None:
    certificate = register(temporary=True, at=at(date(2026, 2, 2)))
    getattr(lifecycle, ending)(ENP, "test", REASON, now=at(date(2026, 2, 3)))
    operations = {
        "issue_policy": lambda: lifecycle.replace_certificate_with_policy(ENP, "test", now=at(date(2026, 2, 4))),
        "reissue": lambda: lifecycle.reissue(ENP, "test", REASON, now=at(date(2026, 2, 4))),
    }
    with pytest.raises(RegistryError) as refused:
        operations[operation]()
    assert_refused_in_russian(refused.value)
    assert number_verdict(ENP, date(2026, 2, 4)) is ENDINGS[ending]
    assert people.current_code(people.person_by_enp(ENP)) is None, "no code an offline verifier would take"
    listed = db.session.scalar(select(IssuedCode).where(IssuedCode.text == certificate.text))
    assert listed.status == ENDINGS[ending], "the certificate's code is listed under the policy's status"


@pytest.mark.parametrize("ending", ["terminate", "suspend"])
def test_another_insurers_transfer_page_refuses_an_ended_policy_without_saying_why(world: Flask, ending: str) -> None:
    """The red team's steps: 77002 terminates (or suspends) its insured, then staff of 77001 "accept a transfer".
    Refused, in words that do not tell them a death from military service (an outsider's finding)."""
    stranger = str(STRANGER.enp)
    with world.app_context():
        getattr(lifecycle, ending)(stranger, "smo:other", REASON, scope="77002")
    staff = logged_in(world, "smo")
    response = transfer(staff, csrf(staff, "/insurer/transfer"), stranger, STRANGER.birth_date.isoformat())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Перевод сейчас невозможен" in page
    assert not re.search("прекращ|приостанов|смерт|призыв|военн", page, re.IGNORECASE), "the cause is not told"
    assert [entry.entity_key for entry in entries(world, "transfer_refused")] == [stranger]
    with world.app_context():
        assert people.person_by_enp(stranger).insurer.code == "77002"
        assert number_verdict(stranger, today()) is ENDINGS[ending]


def test_the_issue_policy_button_refuses_a_terminated_certificate(world: Flask) -> None:
    newcomer = person_data("770000000000065", "Смирнова", "Анна", "Викторовна", date(2001, 11, 5))
    with world.app_context():
        register(newcomer, temporary=True, at=datetime.now(UTC))
        lifecycle.terminate(str(newcomer.enp), "smo:smo", "смерть", scope="77001")
    staff = logged_in(world, "smo")
    asked = staff.get(f"/insurer/person/{newcomer.enp}/issue-policy", follow_redirects=True)
    assert asked.request.path == f"/insurer/person/{newcomer.enp}", "no page asks to issue it"
    assert "прекращён" in asked.get_data(as_text=True)
    page = staff.post(
        f"/insurer/person/{newcomer.enp}/issue-policy",
        data={"csrf_token": csrf(staff, "/insurer/"), "confirmed": "yes"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "прекращён" in page
    with world.app_context():
        assert number_verdict(str(newcomer.enp), today()) is Verdict.TERMINATED
        assert people.open_policy(people.person_by_enp(str(newcomer.enp))).kind == PolicyKind.TEMPORARY_CERTIFICATE


def test_the_mass_reissue_withdraws_rather_than_re_signs_codes_of_policies_not_active(registry: Flask) -> None:
    moment = datetime.now(UTC).replace(microsecond=0)
    kid = register(at=moment).kid
    suspended, terminated = (
        str(register(person_data(enp15, "Кузнецов", "Дмитрий", sex="M"), at=moment).person.enp)
        for enp15 in ("770000000000007", "770000000000004")
    )
    active = ENP
    old = {enp: people.current_code(people.person_by_enp(enp)).text for enp in (active, suspended, terminated)}
    lifecycle.suspend(suspended, "test", "срочная военная служба", now=moment)
    lifecycle.terminate(terminated, "test", "смерть", now=moment)

    mass_reissue.compromise(kid, "test")

    reissued = people.current_code(people.person_by_enp(active))
    assert reissued.kid != kid
    assert verify_scan(reissued.text).verdict is Verdict.VALID
    for enp, verdict in ((suspended, Verdict.SUSPENDED), (terminated, Verdict.TERMINATED)):
        person = people.person_by_enp(enp)
        assert people.current_code(person) is None, "no fresh code an offline verifier would take as valid"
        withdrawn = db.session.scalar(select(IssuedCode).where(IssuedCode.text == old[enp]))
        assert withdrawn.status == str(verdict), "listed under its policy's status, and not re-signed"
        assert verify_scan(enp).verdict is verdict
    # The service ends: the suspended person gets a current code again, under the new key.
    lifecycle.resume(suspended, "test", "служба окончена")
    resumed = people.current_code(people.person_by_enp(suspended))
    assert resumed is not None
    assert resumed.kid == reissued.kid
    assert verify_scan(resumed.text).verdict is Verdict.VALID


# F3: taking over another insurer's insured ----------------------------------------------------------------


def transfer(client: FlaskClient, token: str, enp: str, birth_date: str, **changes: str) -> TestResponse:
    """The transfer form as staff fill it in today, on grounds the registry cannot check but records."""
    form = {
        "enp": enp,
        "birth_date": birth_date,
        "applied_on": today().isoformat(),
        "exception": "insurer_left",
        "document": DOCUMENT,
        "csrf_token": token,
    }
    return client.post("/insurer/transfer", data=form | changes)


#: Small limits on failed transfers, so that a test meets each in a few requests.
TRANSFER_LIMITS = {"TRANSFER_FAILURES_PER_USER": "3 per hour", "TRANSFER_FAILURES_PER_INSURER": "5 per hour"}
#: The start of an hour (2027-01-15 08:00:00 UTC).
START = 1_800_000_000.0
WRONG_DATES = [f"1985-07-{day:02d}" for day in range(1, 20)]  # STRANGER was born on 21 July 1985


@pytest.fixture
def limits_clock(world: Flask, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The world with small transfer limits, a second login at 77001, and the counts' clock stopped."""
    world.config.update(TRANSFER_LIMITS)
    with world.app_context():
        accounts.create_user("smo-2", PASSWORD, Role.INSURER, "test", insurer_code="77001")
    now = [START]
    monkeypatch.setattr("webapp.db.shared_counts.time", SimpleNamespace(time=lambda: now[0]))
    return now


def entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_birth_date_guesses_are_limited_per_login_with_a_russian_429(world: Flask, limits_clock: list[float]) -> None:
    stranger, born = str(STRANGER.enp), STRANGER.birth_date.isoformat()
    staff = logged_in(world, "smo")
    token = csrf(staff, "/insurer/transfer")
    assert [transfer(staff, token, stranger, guess).status_code for guess in WRONG_DATES[:3]] == [400] * 3
    refused = [transfer(staff, token, stranger, guess) for guess in (born, WRONG_DATES[3])]
    assert [response.status_code for response in refused] == [429, 429], "the right date too: nothing looked up"
    page = refused[0].get_data(as_text=True)
    assert "Слишком много неудачных попыток" in page
    assert int(refused[0].headers["Retry-After"]) > 0
    assert len(entries(world, "transfer_limit_reached")) == 1, "the limit is noted once a window"
    with world.app_context():
        assert people.person_by_enp(stranger).insurer.code == "77002"

    limits_clock[0] += 3600  # the next hour: the person's real application goes through
    assert transfer(staff, token, stranger, born).status_code == 302
    with world.app_context():
        assert people.person_by_enp(stranger).insurer.code == "77001"


def test_the_insurer_limit_counts_all_its_logins(world: Flask, limits_clock: list[float]) -> None:
    stranger = str(STRANGER.enp)
    first, second = logged_in(world, "smo"), logged_in(world, "smo-2")
    first_token, second_token = csrf(first, "/insurer/transfer"), csrf(second, "/insurer/transfer")
    assert [transfer(first, first_token, stranger, guess).status_code for guess in WRONG_DATES[:3]] == [400] * 3
    guesses = WRONG_DATES[3:6]
    assert [transfer(second, second_token, stranger, guess).status_code for guess in guesses] == [400, 400, 429]


def test_refusals_of_a_policy_that_cannot_move_count_against_the_limit(world: Flask, limits_clock: list[float]) -> None:
    """Matched applications of people whose policy cannot move would otherwise sort a list of ЕНП and birth dates
    into the suspended and the dead, unlimited."""
    stranger, born = str(STRANGER.enp), STRANGER.birth_date.isoformat()
    with world.app_context():
        lifecycle.suspend(stranger, "smo:other", REASON, scope="77002")
    staff = logged_in(world, "smo")
    token = csrf(staff, "/insurer/transfer")
    assert [transfer(staff, token, stranger, born).status_code for _ in range(4)] == [400, 400, 400, 429]


def test_each_refused_match_is_in_the_audit_log_with_the_typed_number_only(world: Flask) -> None:
    stranger = str(STRANGER.enp)
    nobody = str(Enp.with_check_digit("779900000000001"))
    staff = logged_in(world, "smo")
    token = csrf(staff, "/insurer/transfer")
    assert transfer(staff, token, stranger, "1985-07-22").status_code == 400
    assert transfer(staff, token, nobody, "1985-07-22").status_code == 400
    refused = entries(world, "transfer_refused")
    assert [(entry.actor, entry.entity_key) for entry in refused] == [("smo:smo", stranger), ("smo:smo", nobody)]
    for entry in refused:
        written = entry.reason + json.dumps(entry.details, ensure_ascii=False)
        for personal in ("1985-07-22", "1985-07-21", "22.07.1985", "ПЕТРОВ", "Петров"):
            assert personal not in written


def test_the_application_date_is_neither_in_the_future_nor_before_the_last_change(registry: Flask) -> None:
    register(at=at(date(2026, 1, 12)))
    with pytest.raises(RegistryError) as future:
        lifecycle.change_insurer(ENP, "77002", date(2026, 3, 10), "test", now=at(date(2026, 3, 2)))
    assert_refused_in_russian(future.value)
    with pytest.raises(RegistryError) as before_registration:
        lifecycle.change_insurer(ENP, "77002", date(2026, 1, 9), "test", now=at(date(2026, 1, 13)))
    assert_refused_in_russian(before_registration.value)
    lifecycle.change_insurer(ENP, "77002", date(2026, 3, 2), "test", now=at(date(2026, 3, 2)))
    # The red team's way round "once a year": an application dated in a year with no change yet.
    with pytest.raises(RegistryError) as before_last_change:
        lifecycle.change_insurer(ENP, "77001", date(2025, 10, 1), "test", now=at(date(2026, 3, 3)))
    assert_refused_in_russian(before_last_change.value)
    assert people.person_by_enp(ENP).insurer.code == "77002"


def test_a_backdated_application_does_not_get_round_the_1_november_deadline(registry: Flask) -> None:
    register(at=at(date(2026, 1, 12)))
    with pytest.raises(RegistryError) as late:
        lifecycle.change_insurer(ENP, "77002", date(2026, 10, 30), "test", now=at(date(2026, 12, 3)))
    assert_refused_in_russian(late.value)
    # Friday's application, entered on Monday, is still on time.
    moved = lifecycle.change_insurer(ENP, "77002", date(2026, 10, 30), "test", now=at(date(2026, 11, 2)))
    assert moved.policy.insurer.code == "77002"


def test_moving_region_needs_a_move_the_registry_can_see_or_a_document(elsewhere: Flask) -> None:
    register(at=at(date(2026, 1, 12)))
    same_region = {"applied_on": date(2026, 3, 2), "actor": "test", "exception": "moved_region"}
    with pytest.raises(RegistryError) as no_move:
        lifecycle.change_insurer(ENP, "77002", **same_region, now=at(date(2026, 3, 2)))
    assert_refused_in_russian(no_move.value)
    with pytest.raises(RegistryError):  # both insurers are in region 77: a document does not change that
        lifecycle.change_insurer(ENP, "77002", **same_region, now=at(date(2026, 3, 2)), document=DOCUMENT)
    moved = lifecycle.change_insurer(ENP, "50001", **same_region, now=at(date(2026, 3, 2)))
    assert moved.policy.insurer.code == "50001"

    organisations.create_insurer("99001", "Без региона", "test", now=KEY_START)
    later = {"applied_on": date(2026, 4, 1), "actor": "test", "exception": "moved_region", "now": at(date(2026, 4, 1))}
    with pytest.raises(RegistryError) as undecided:
        lifecycle.change_insurer(ENP, "99001", **later)
    assert_refused_in_russian(undecided.value)
    lifecycle.change_insurer(ENP, "99001", **later, document=DOCUMENT)
    recorded = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "change_insurer").order_by(AuditEntry.id.desc())
    ).first()
    assert recorded.details["document"] == DOCUMENT


def test_an_insurer_leaving_needs_a_document(registry: Flask) -> None:
    register(at=at(date(2026, 1, 12)))
    grounds = {"applied_on": date(2026, 11, 23), "actor": "test", "exception": "insurer_left"}
    with pytest.raises(RegistryError) as undocumented:
        lifecycle.change_insurer(ENP, "77002", **grounds, now=at(date(2026, 11, 23)))
    assert_refused_in_russian(undocumented.value)
    lifecycle.change_insurer(ENP, "77002", **grounds, now=at(date(2026, 11, 23)), document=DOCUMENT)
    assert people.person_by_enp(ENP).insurer.code == "77002"


def test_a_transferred_temporary_certificate_keeps_its_end(elsewhere: Flask) -> None:
    first = register(temporary=True, at=at(date(2026, 2, 2)))
    end = first.policy.valid_to
    assert end == date(2026, 4, 7)
    there = lifecycle.change_insurer(ENP, "50001", date(2026, 3, 2), "test", "moved_region", now=at(date(2026, 3, 2)))
    back = lifecycle.change_insurer(ENP, "77001", date(2026, 3, 3), "test", "moved_region", now=at(date(2026, 3, 3)))
    for code in (there, back):
        assert code.policy.kind == PolicyKind.TEMPORARY_CERTIFICATE
        assert code.policy.valid_to == end
        assert decode(code.text, keystore.trust_list(), at(date(2026, 3, 3))).claims.valid_to == end
    assert number_verdict(ENP, end + timedelta(days=1)) is Verdict.EXPIRED


# F5: a correction that ends the right ends the policy ----------------------------------------------------


WORKER = person_data(category=Category.EAEU_WORKER, right_valid_until=date(2027, 6, 21))
#: Category and right corrections come from the registry import.
IMPORT = ChangeReason.REGISTRY_IMPORT


def test_a_correction_that_shortens_the_contract_ends_the_policy_then(registry: Flask) -> None:
    register(WORKER, at=at(date(2026, 12, 3)))
    shortened = replace(WORKER, right_valid_until=date(2026, 12, 15))
    code = data_changes.change_person_data(
        ENP, shortened, IMPORT, "трудовой договор расторгнут", None, "test", now=at(date(2026, 12, 3))
    )
    assert code is not None
    assert code.policy.valid_to == date(2026, 12, 15)
    assert decode(code.text, keystore.trust_list(), at(date(2026, 12, 3))).claims.valid_to == date(2026, 12, 15)
    assert verify_scan(code.text, now=at(date(2026, 12, 15))).verdict is Verdict.VALID
    assert verify_scan(code.text, now=at(date(2027, 1, 2))).verdict is Verdict.EXPIRED
    assert number_verdict(ENP, date(2027, 1, 2)) is Verdict.EXPIRED


def test_a_change_of_category_gives_the_policy_the_new_categorys_end(registry: Flask) -> None:
    register(person_data(), at=at(date(2026, 12, 3)))
    foreign = person_data(category=Category.FOREIGN_TEMPORARY, right_valid_until=date(2026, 12, 10))
    code = data_changes.change_person_data(
        ENP, foreign, IMPORT, "не гражданин РФ", None, "test", now=at(date(2026, 12, 3))
    )
    assert code is not None
    assert (code.policy.category, code.policy.valid_to) == (Category.FOREIGN_TEMPORARY, date(2026, 12, 10))
    assert number_verdict(ENP, date(2026, 12, 11)) is Verdict.EXPIRED


def test_a_correction_to_a_right_already_ended_withdraws_the_code(registry: Flask) -> None:
    old = register(WORKER, at=at(date(2026, 12, 3)))
    ended = replace(WORKER, right_valid_until=date(2026, 12, 15))
    assert (
        data_changes.change_person_data(ENP, ended, IMPORT, "сообщили поздно", None, "test", now=at(date(2026, 12, 21)))
        is None
    )
    assert people.current_code(people.person_by_enp(ENP)) is None
    assert verify_scan(old.text, now=at(date(2026, 12, 21))).verdict is Verdict.REVOKED
    assert number_verdict(ENP, date(2026, 12, 21)) is Verdict.EXPIRED


def test_a_correction_by_csv_import_recomputes_the_end(registry: Flask, tmp_path: Path) -> None:
    header = ",".join(bulk_import.COLUMNS)
    row = "7700000000000057,Каримов,Ильдар,Рустамович,1995-06-17,M,,77001,eaeu_worker,{end},"
    path = tmp_path / "registry.csv"
    path.write_text(f"{header}\n{row.format(end='2027-06-21')}\n", encoding="utf-8")
    bulk_import.import_csv(path, "test", now=at(date(2026, 12, 3)))
    path.write_text(f"{header}\n{row.format(end='2026-12-15')}\n", encoding="utf-8")
    assert bulk_import.import_csv(path, "test", now=at(date(2026, 12, 3))).updated == 1
    code = people.current_code(people.person_by_enp("7700000000000057"))
    assert code.policy.valid_to == date(2026, 12, 15)
    assert decode(code.text, keystore.trust_list(), at(date(2026, 12, 3))).claims.valid_to == date(2026, 12, 15)


# Observations: newborns and the audit trail --------------------------------------------------------------


def newborn(registered_on: date) -> PersonData:
    born = registered_on - timedelta(days=2)
    return person_data("770000000000003", "Иванова", "София", "Сергеевна", born, birth_registered_on=registered_on)


def test_a_newborn_is_not_valid_through_a_terminated_mothers_policy(registry: Flask) -> None:
    register(at=at(date(2026, 11, 2)))
    child = newborn(date(2026, 11, 20))
    lifecycle.register_newborn(child, ENP, "test", now=at(date(2026, 11, 20)))
    assert number_verdict(str(child.enp), date(2026, 11, 23)) is Verdict.VALID
    lifecycle.terminate(ENP, "test", "смерть", now=at(date(2026, 11, 23)))
    assert number_verdict(str(child.enp), date(2026, 11, 24)) is not Verdict.VALID


def test_a_newborn_gets_a_policy_of_its_own_from_the_insurer_covering_it(world: Flask) -> None:
    child = newborn(today() - timedelta(days=3))
    with world.app_context():
        lifecycle.register_newborn(child, str(MOTHER.enp), "test")
    staff = logged_in(world, "smo")
    page = staff.get(f"/insurer/person/{child.enp}").get_data(as_text=True)
    assert "Выдать полис новорождённому" in page
    response = take_step(staff, str(child.enp), "newborn-policy")
    assert response.status_code == 302
    with world.app_context():
        result = verify_scan(str(child.enp))
        assert result.verdict is Verdict.VALID
        assert "newborn_cover" not in result.notes
        code = people.current_code(people.person_by_enp(str(child.enp)))
        assert code is not None
        assert verify_scan(code.text).verdict is Verdict.VALID


def test_the_new_insurer_does_not_read_the_old_insurers_trail(world: Flask) -> None:
    stranger = str(STRANGER.enp)
    with world.app_context():
        lifecycle.revoke(stranger, "smo:other", "причина только для 77002", scope="77002")
    staff = logged_in(world, "smo")
    taken = transfer(staff, csrf(staff, "/insurer/transfer"), stranger, STRANGER.birth_date.isoformat())
    assert taken.status_code == 302
    page = staff.get(f"/insurer/person/{stranger}").get_data(as_text=True)
    assert "смена СМО" in page, "the transfer itself is ours"
    assert "insurer_left" not in page, "its grounds in words, not a raw code"
    assert "причина только для 77002" not in page
    assert "smo:other" not in page
