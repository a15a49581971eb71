"""An outsider's attack on dates, times and time zones (2026-12-06): what the registry decides by the day.

Service calls run on the registry with a clock given (`now=`); pages go through the test client with the real
clock, as staff use them. Both on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2
import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import update

from policy_codes import Verdict
from tests.helpers.registry import person_data, register
from tests.webapp.pages import PASSWORD, csrf, logged_in, take_step
from webapp.extensions import db
from webapp.models import Category, Person, PolicyKind, Role
from webapp.registry import accounts, bulk_import, clock, codes, lifecycle, people, public_holidays, rules, verification
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore, rotation
from webapp.registry.verification import verify_scan

ROOT = Path(__file__).resolve().parents[2]
#: The insurers' keys of the small registry start on 2026-01-01 (tests/helpers/claims.py KEY_START) and live three
#: years: to 2028-12-31.
IN_THE_KEYS_LAST_YEAR = date(2028, 11, 15)


def at(day: date) -> datetime:
    """Noon in Moscow of `day`."""
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def english(message: str) -> str:
    with (ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return {entry.id: entry.string for entry in read_po(file) if entry.id}.get(message, "")


# A code may not outlive its key: a policy that would was a 500 ----------------------------------------------


def test_a_policy_that_would_outlive_its_insurers_key_is_refused_in_words(registry: Flask) -> None:
    """A permanently resident foreigner registered in the key's last year runs to the end of the next: past the
    key. The codec refused to sign with `KeyUnusable`, which nothing turned into words: a 500 on the insurer's
    page, a traceback from the CLI. Now the registry refuses, naming the key's last day, and writes nothing."""
    foreigner = person_data(category=Category.FOREIGN_PERMANENT)
    with pytest.raises(RegistryError) as refused:
        register(foreigner, at=at(IN_THE_KEYS_LAST_YEAR))
    assert "31.12.2028" in str(refused.value)
    assert re.search("ротаци", str(refused.value))
    assert english(refused.value.message), "the refusal has an English translation"
    db.session.rollback()
    with pytest.raises(RegistryError):
        people.person_by_enp(str(foreigner.enp))
    citizen = register(person_data("770000000000002"), at=at(IN_THE_KEYS_LAST_YEAR))  # no end: nothing to outlive
    assert verify_scan(citizen.text, now=at(IN_THE_KEYS_LAST_YEAR)).verdict is Verdict.VALID


def test_an_import_refuses_only_the_lines_that_would_outlive_the_key(registry: Flask, tmp_path: Path) -> None:
    """The same in a CSV: the foreigner's line is refused with its number and why, the citizen's loads. Before, the
    `KeyUnusable` of one line stopped the whole import."""
    header = ",".join(bulk_import.COLUMNS)
    lines = [
        "7700000000000016,Петров,Алексей,Николаевич,1978-01-30,M,,77001,citizen,,",
        "7700000000000057,Каримов,Ильдар,Рустамович,1995-06-17,M,,77001,foreign_permanent,,",
    ]
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    report = bulk_import.import_csv(path, "test", now=at(IN_THE_KEYS_LAST_YEAR))
    assert report.created == 1
    assert [error.line for error in report.errors] == [3]
    assert "31.12.2028" in report.errors[0].said()
    assert people.current_code(people.person_by_enp("7700000000000016")) is not None


def test_the_insurers_page_refuses_a_policy_past_the_key_with_a_400_not_a_500(world: Flask) -> None:
    """On the insurer's form, with the real clock: a key that ends in 100 days, a foreigner to the end of the year
    after this one (or this one's, from 1 November: past 100 days either way)."""
    today = clock.today_in_moscow(datetime.now(UTC))
    with world.app_context():
        rotation.rotate("77001", "test", now=datetime.now(UTC) - timedelta(days=3 * 365 - 100))
    staff = logged_in(world, "smo")
    form = {
        "csrf_token": csrf(staff, "/insurer/new"),
        "enp": "7700000000000057",
        "surname": "Каримов",
        "given_name": "Ильдар",
        "patronymic": "Рустамович",
        "birth_date": "1995-06-17",
        "sex": "M",
        "snils": "",
        "category": "foreign_permanent",
        "right_valid_until": "",
        "representative_enp": "",
    }
    response = staff.post("/insurer/new", data=form)
    assert response.status_code == 400, response.status_code
    day_the_key_ends = (today + timedelta(days=100)).strftime("%d.%m.%Y")
    page = response.get_data(as_text=True)
    assert "ротаци" in page
    assert day_the_key_ends in page or (today + timedelta(days=99)).strftime("%d.%m.%Y") in page


def test_a_live_code_in_its_keys_last_seconds_runs_out_with_the_key(registry: Flask) -> None:
    """The holder's page signs a live code every 30 s; in the key's last 90 s the code's 90 s outlived it, and the
    page's refresh was a 500. It now runs out with the key, and reads `valid` until then."""
    code = register(at=at(date(2026, 11, 2)))
    key_ends = keystore.signing_key("77001", at(date(2026, 11, 2))).public.not_after
    moment = key_ends - timedelta(seconds=30)
    live = codes.live_code(code, moment)
    assert verify_scan(live, now=moment).verdict is Verdict.VALID
    assert verify_scan(live, now=key_ends + timedelta(seconds=1)).verdict is Verdict.EXPIRED


# A newborn is covered by a representative who is insured: not by a policy that ran out ---------------------


def test_a_newborn_is_not_valid_through_a_mothers_policy_that_ran_out(registry: Flask) -> None:
    """A permanently resident mother's policy runs to 31 December; her child, registered on 20 December, was read
    `valid` at the desk to 19 January through it, and the pages said the cover lasted to 19 January. The cover ends
    with her policy: `valid` to 31 December, saying so, then `expired`, saying when the cover ended."""
    mother = person_data(category=Category.FOREIGN_PERMANENT)
    register(mother, at=at(date(2026, 3, 2)))
    born = date(2026, 12, 18)
    child = person_data("770000000000003", "Иванова", "София", "", born, birth_registered_on=date(2026, 12, 20))
    lifecycle.register_newborn(child, str(mother.enp), "test", now=at(date(2026, 12, 20)))

    covered = verify_scan(str(child.enp), now=at(date(2026, 12, 28)))
    assert covered.verdict is Verdict.VALID
    assert covered.newborn_cover_until == date(2026, 12, 31)
    assert people.newborn_cover(people.person_by_enp(str(child.enp)), date(2026, 12, 28)).last_day == date(2026, 12, 31)

    assert verify_scan(str(mother.enp), now=at(date(2027, 1, 5))).verdict is Verdict.EXPIRED
    after = verify_scan(str(child.enp), now=at(date(2027, 1, 5)))
    assert after.verdict is Verdict.EXPIRED
    assert after.notes == ("newborn_cover_ended",)
    assert after.newborn_cover_until == date(2026, 12, 31)
    assert people.newborn_cover(people.person_by_enp(str(child.enp)), date(2027, 1, 5)) is None


# The New Year holidays count in a year nobody seeded ----------------------------------------------------------


def test_a_temporary_certificate_skips_the_new_year_holidays_of_a_year_nobody_seeded(registry: Flask) -> None:
    """The small registry lists the holidays of 2026 and 2027, as `flask holidays seed` did. A certificate issued on
    1 December 2027 runs 45 working days into 2028, whose New Year holidays (art. 112 of the Labour Code: 1-8
    January, every year) nobody listed: they counted as working days, and the certificate ended on 2 February
    instead of 9 February, read `expired` at the desk for a week it was still good."""
    issued = date(2027, 12, 1)
    code = register(person_data(), at=at(issued), temporary=True)
    assert code.policy.valid_to == date(2028, 2, 9)
    assert rules.add_working_days(issued, 45, public_holidays.days()) == date(2028, 2, 9)
    assert verify_scan(code.text, now=at(date(2028, 2, 8))).verdict is Verdict.VALID
    public_holidays.seed_year(2028, "test")  # listing them changes nothing
    assert lifecycle.policy_term(
        Category.CITIZEN, None, PolicyKind.TEMPORARY_CERTIFICATE, issued, public_holidays.days()
    )[1] == date(2028, 2, 9)


#: An EAEU worker whose policy ends with the labour contract, on 30 June.
EAEU_WORKER = person_data(
    "770000000000005",
    "Каримов",
    "Ильдар",
    "Рустамович",
    date(1995, 6, 17),
    "M",
    Category.EAEU_WORKER,
    right_valid_until=date(2026, 6, 30),
)


# A policy that ran out by its dates is not «действует» on the holder's card ------------------------------------


def test_a_policy_that_ran_out_is_not_said_to_be_in_force_on_the_holders_card(world: Flask) -> None:
    """An EAEU worker's policy ends with the labour contract, here 30 June. The registry keeps its status `active`
    (nothing rewrites it when the day passes), and the desk reads `expired`; but the holder's card, the screen
    shown at reception and the printed extract said «Статус: действует», so the worker went to the clinic with
    it. They say the term ended, and when; so does the insurer's page."""
    worker = EAEU_WORKER
    with world.app_context():
        register(worker, at=at(date(2026, 3, 2)))
        accounts.create_user("karimov", PASSWORD, Role.CITIZEN, "test", enp=str(worker.enp))
    holder = logged_in(world, "karimov")
    for path in ("/me/", "/me/show"):
        page = holder.get(path).get_data(as_text=True)
        assert "badge-active" not in page, path
        assert "срок истёк" in page, path
        assert "30.06.2026" in page, path
    assert holder.get("/me/live").status_code == 404  # no live code: the page keeps the static one
    (extract,) = pypdfium2.PdfDocument(holder.get("/me/extract.pdf").data)
    printed = extract.get_textpage().get_text_range()
    assert "срок истёк" in printed
    assert "действует" not in printed
    staff = logged_in(world, "smo").get(f"/insurer/person/{worker.enp}").get_data(as_text=True)
    assert "срок истёк" in staff
    assert ", действует," not in staff


# A time-limited policy gets its next term --------------------------------------------------------------------


def test_a_permanently_resident_foreigners_policy_gets_next_years_term(registry: Flask) -> None:
    """A permanently resident foreigner's policy runs to the end of the year, every year. Nothing gave it the next
    one: a correction grants no new year (`rules.corrected_end`), a reissue of an ended policy withdraws its code,
    and a second registration is refused. So from 1 January the person read `expired` at every desk for good,
    though insured. The insurer now gives the next term: from 1 November to the end of the next year, and after
    the end, to the end of this one; a new policy and its code, the old code superseded."""
    foreigner = person_data(category=Category.FOREIGN_PERMANENT)
    first = register(foreigner, at=at(date(2026, 3, 2)))
    enp = str(foreigner.enp)
    with pytest.raises(RegistryError):  # in March, the next term would end when this one does
        lifecycle.renew_policy(enp, "test", now=at(date(2026, 3, 10)))
    db.session.rollback()
    renewed = lifecycle.renew_policy(enp, "test", now=at(date(2026, 11, 16)))
    assert (renewed.policy.valid_from, renewed.policy.valid_to) == (date(2026, 11, 16), date(2027, 12, 31))
    assert verify_scan(renewed.text, now=at(date(2027, 1, 5))).verdict is Verdict.VALID
    assert verify_scan(first.text, now=at(date(2026, 11, 17))).verdict is Verdict.SUPERSEDED
    assert verify_scan(enp, now=at(date(2027, 6, 1))).verdict is Verdict.VALID


def test_an_ended_policy_gets_this_years_term_capped_by_the_document(registry: Flask) -> None:
    """After the end, the new term runs from the day it is given; a temporary resident's is capped by the permit,
    and a permit that has ended gives none."""
    resident = person_data(category=Category.FOREIGN_TEMPORARY, right_valid_until=date(2027, 8, 31))
    register(resident, at=at(date(2026, 3, 2)))
    enp = str(resident.enp)
    assert verify_scan(enp, now=at(date(2027, 1, 11))).verdict is Verdict.EXPIRED
    renewed = lifecycle.renew_policy(enp, "test", now=at(date(2027, 1, 11)))
    assert (renewed.policy.valid_from, renewed.policy.valid_to) == (date(2027, 1, 11), date(2027, 8, 31))
    with pytest.raises(RegistryError) as refused:
        lifecycle.renew_policy(enp, "test", now=at(date(2027, 9, 1)))
    assert "истёк" in str(refused.value)


def test_a_citizens_policy_or_a_certificate_has_no_term_to_renew(registry: Flask) -> None:
    register(person_data(), at=at(date(2026, 3, 2)))
    register(person_data("770000000000002"), at=at(date(2026, 3, 2)), temporary=True)
    for enp in (str(person_data().enp), str(person_data("770000000000002").enp)):
        with pytest.raises(RegistryError):
            lifecycle.renew_policy(enp, "test", now=at(date(2026, 11, 16)))
        db.session.rollback()


def test_the_insurers_page_gives_an_ended_policy_its_next_term(world: Flask) -> None:
    """With the real clock: an EAEU worker's policy ended with a contract since extended (a data change of the
    right); the page offers the next term, and the desk then reads the number `valid`."""
    worker = EAEU_WORKER
    with world.app_context():
        register(worker, at=at(date(2026, 3, 2)))
        db.session.execute(
            update(Person).where(Person.enp == str(worker.enp)).values(right_valid_until=date(2099, 12, 31))
        )
        db.session.commit()
        assert verify_scan(str(worker.enp)).verdict is Verdict.EXPIRED
    staff = logged_in(world, "smo")
    page = staff.get(f"/insurer/person/{worker.enp}").get_data(as_text=True)
    assert f"/insurer/person/{worker.enp}/renew-policy" in page
    response = take_step(staff, str(worker.enp), "renew-policy")
    assert response.status_code == 302
    with world.app_context():
        assert verify_scan(str(worker.enp)).verdict is Verdict.VALID
        code = people.current_code(people.person_by_enp(str(worker.enp)))
        assert verify_scan(code.text).verdict is Verdict.VALID


# A live code is signed only for a policy in force ------------------------------------------------------------


def test_no_live_code_is_signed_for_a_policy_past_its_last_day(registry: Flask) -> None:
    """The holder's page signed a live code every 30 s for a policy past its last day (only a suspended or
    terminated one was refused). The desk read it `expired` as a live code, «Код устарел … попросите пациента
    обновить страницу»: the clerk asked for fresh code after fresh code, each as stale, and was never told the
    policy had ended. No live code is signed for it now: the page keeps the static code, which the desk reads as
    an ended policy."""
    code = register(person_data(category=Category.FOREIGN_PERMANENT), at=at(date(2026, 3, 2)))
    ended = at(date(2027, 1, 5))
    with pytest.raises(RegistryError):
        codes.live_code(code, ended)
    static = verify_scan(code.text, now=ended)
    assert static.verdict is Verdict.EXPIRED
    assert "90 секунд" not in verification.message(static)
    assert (
        verify_scan(codes.live_code(code, at(date(2026, 12, 31))), now=at(date(2026, 12, 31))).verdict is Verdict.VALID
    )
