"""Policy claims: what a code asserts, and its compact CBOR form.

The integer keys and encodings are the contract of docs/code-format.md.
Dates travel as days since 1970-01-01 and instants as seconds since the
Unix epoch, both plain CBOR integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from operator import itemgetter
from typing import Any

from policy_codes.enp import Enp
from policy_codes.errors import InvalidValue, MalformedCode
from policy_codes.names import FullName, pack_name, unpack_name
from policy_codes.words import N_

EPOCH_DAY = date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH_DAY.toordinal()
INSURER_CODE_LENGTH = 5
MAX_SERIAL = 2**32 - 1


class CodeKind(IntEnum):
    POLICY = 1
    TEMPORARY_CERTIFICATE = 2
    LIVE = 3


class Sex(IntEnum):
    MALE = 1
    FEMALE = 2


#: By value: a dict look-up costs a tenth of calling the enum (`CodeKind(3)`), and every verification asks twice.
_CODE_KINDS = {int(kind): kind for kind in CodeKind}
_SEXES = {int(sex): sex for sex in Sex}


class ClaimKey(IntEnum):
    ENP = 1
    SERIAL = 2
    KIND = 3
    INSURER = 4
    NAME = 5
    BIRTH_DATE = 6
    SEX = 7
    VALID_FROM = 8
    VALID_TO = 9
    ISSUED_AT = 10
    EXPIRES_AT = 11


# Plain ints: comparing and hashing enum members costs more on the verification path.
KNOWN_KEYS = frozenset(int(key) for key in ClaimKey)
REQUIRED_KEYS = KNOWN_KEYS - {ClaimKey.VALID_TO.value, ClaimKey.EXPIRES_AT.value}
_NAME_KEY = ClaimKey.NAME.value
_VALID_TO_KEY = ClaimKey.VALID_TO.value
_EXPIRES_AT_KEY = ClaimKey.EXPIRES_AT.value
#: The required claims' values, in ClaimKey's order, in one call.
_required_claims = itemgetter(*sorted(REQUIRED_KEYS))


def _days(day: date) -> int:
    return (day - EPOCH_DAY).days


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class PolicyClaims:
    """Everything a code carries, and nothing more (no СНИЛС, address or documents).

    `valid_to` None means no end. `expires_at` is set for live codes only.
    Instants are whole seconds in UTC.
    """

    enp: Enp
    serial: int
    kind: CodeKind
    insurer_code: str
    name: FullName
    birth_date: date
    sex: Sex
    valid_from: date
    valid_to: date | None
    issued_at: datetime
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.serial <= MAX_SERIAL:
            raise InvalidValue(N_("Серийный номер кода вне допустимого диапазона"))
        code = self.insurer_code
        if len(code) != INSURER_CODE_LENGTH or not code.isascii() or not code.isdigit():
            raise InvalidValue(N_("Код страховой компании — 5 цифр"))
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise InvalidValue(N_("Срок действия заканчивается раньше, чем начинается"))
        if (self.kind is CodeKind.LIVE) != (self.expires_at is not None):
            raise InvalidValue(N_("Срок жизни задаётся только живому коду, и ему обязательно"))
        for field in ("issued_at", "expires_at"):
            moment = getattr(self, field)
            if moment is not None and (moment.tzinfo is not UTC or moment.microsecond):  # decoded ones already are
                object.__setattr__(self, field, moment.astimezone(UTC).replace(microsecond=0))

    def ends_at(self) -> datetime | None:
        """When the code stops being good by its own claims (None: no end)."""
        candidates = [self.expires_at] if self.expires_at else []
        if self.valid_to is not None:
            candidates.append(datetime.combine(self.valid_to + timedelta(days=1), datetime.min.time(), UTC))
        return min(candidates, default=None)

    def to_wire(self) -> dict[int, Any]:
        """The claims map, keys in ascending order: so plain CBOR encoding is already canonical."""
        wire: dict[int, Any] = {
            ClaimKey.ENP: int(self.enp),
            ClaimKey.SERIAL: self.serial,
            ClaimKey.KIND: int(self.kind),
            ClaimKey.INSURER: int(self.insurer_code),
            ClaimKey.NAME: pack_name(self.name),
            ClaimKey.BIRTH_DATE: _days(self.birth_date),
            ClaimKey.SEX: int(self.sex),
            ClaimKey.VALID_FROM: _days(self.valid_from),
        }
        if self.valid_to is not None:
            wire[ClaimKey.VALID_TO] = _days(self.valid_to)
        wire[ClaimKey.ISSUED_AT] = _seconds(self.issued_at)
        if self.expires_at is not None:
            wire[ClaimKey.EXPIRES_AT] = _seconds(self.expires_at)
        return {int(key): value for key, value in wire.items()}

    @classmethod
    def from_wire(cls, wire: Any) -> PolicyClaims:
        """The reverse of `to_wire`; `MalformedCode` for anything else."""
        if not isinstance(wire, dict) or not REQUIRED_KEYS <= wire.keys() <= KNOWN_KEYS:
            raise MalformedCode("the claims are not the documented map")
        for key, value in wire.items():
            if type(key) is not int:  # 1.0 and True equal 1 in Python, not in CBOR or in the browser verifier
                raise MalformedCode("the claims are not the documented map")
            expected = bytes if key == _NAME_KEY else int
            if type(value) is not expected:
                raise MalformedCode(f"claim {key} has the wrong type")
        enp, serial, kind, insurer, name, birth_date, sex, valid_from, issued_at = _required_claims(wire)
        try:
            return cls(
                enp=Enp.from_int(enp),
                serial=serial,
                kind=_CODE_KINDS[kind],
                insurer_code=f"{insurer:0{INSURER_CODE_LENGTH}d}",
                name=unpack_name(name),
                birth_date=_day_from(birth_date),
                sex=_SEXES[sex],
                valid_from=_day_from(valid_from),
                valid_to=_optional(wire.get(_VALID_TO_KEY), _day_from),
                issued_at=_moment_from(issued_at),
                expires_at=_optional(wire.get(_EXPIRES_AT_KEY), _moment_from),
            )
        except (KeyError, ValueError, OverflowError, OSError) as error:  # InvalidValue is a ValueError too
            raise MalformedCode(f"a claim is out of range: {error}") from error


def _day_from(days: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + days)  # a third of `EPOCH_DAY + timedelta(days=days)`'s time


def _moment_from(seconds: int) -> datetime:
    if seconds < 0:
        raise ValueError("instants are after 1970")
    return datetime.fromtimestamp(seconds, UTC)


def _optional(value: int | None, convert: Any) -> Any:
    return None if value is None else convert(value)
