"""The size budget of docs/code-format.md, measured on real QR symbols."""

from datetime import UTC, date, datetime, timedelta

from policy_codes import CodeKind, Enp, FullName, Sex, encode
from policy_codes.claims import MAX_SERIAL
from policy_codes.names import CODE_LENGTHS, MAX_PART_LENGTH, MAX_TOTAL_LENGTH, SYMBOLS
from policy_codes.render import make_qr
from policy_codes.sample_people import sample_people
from signing import SigningKey
from tests.helpers.claims import make_claims

TYPICAL_MAX_VERSION = 10
ANY_MAX_VERSION = 13


def test_a_typical_holder_fits_version_10(signing_key: SigningKey) -> None:
    """The longest names of a realistic sample (31 to 40 letters) are the hard cases."""
    checked = 0
    for person in sample_people(10_000, seed=7):
        if not 31 <= person.name.letter_count() <= 40:
            continue
        claims = make_claims(enp=person.enp, name=person.name, birth_date=person.birth_date)
        version = make_qr(encode(claims, signing_key)).version
        assert version <= TYPICAL_MAX_VERSION, f"{person.name.display()}: version {version}"
        checked += 1
    assert checked > 300


def test_a_forty_letter_name_fits_version_10(signing_key: SigningKey) -> None:
    name = FullName("Константинопольская", "Александра", "Владимировна")
    assert name.letter_count() == 41
    assert make_qr(encode(make_claims(name=name), signing_key)).version <= TYPICAL_MAX_VERSION


def test_the_longest_valid_holder_fits_version_13() -> None:
    rarest = [symbol for symbol, length in zip(SYMBOLS, CODE_LENGTHS, strict=True) if length == max(CODE_LENGTHS)]
    letters = "".join(symbol for symbol in rarest if symbol.isalpha())
    surname = (letters * 3)[:MAX_PART_LENGTH]
    given = (letters[::-1] * 3)[:MAX_PART_LENGTH]
    patronymic = (letters * 3)[: MAX_TOTAL_LENGTH - 2 * MAX_PART_LENGTH]
    issued = datetime(2026, 11, 23, tzinfo=UTC)
    key = SigningKey.generate("99999", issued - timedelta(days=1))
    claims = make_claims(
        enp=Enp("9999999999999995"),
        serial=MAX_SERIAL,
        kind=CodeKind.LIVE,
        insurer_code="99999",
        name=FullName(surname, given, patronymic),
        birth_date=date(1900, 1, 1),
        sex=Sex.FEMALE,
        valid_from=date(2026, 11, 23),
        valid_to=date(2027, 12, 31),
        issued_at=issued,
        expires_at=issued + timedelta(seconds=90),
    )
    assert claims.name.letter_count() == MAX_TOTAL_LENGTH
    assert make_qr(encode(claims, key)).version <= ANY_MAX_VERSION
