"""Verify codes with no network, from downloaded copies of the registry's lists.

A clinic system keeps the trust list and the revocation list the registry
publishes (GET /api/v1/trust-list, GET /api/v1/revocations) and the registry's
public key, pinned at installation. Both lists are checked by the rule of
published_lists.py before anything in them is believed; a list that fails it
is refused whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from policy_codes.claims import CodeKind
from policy_codes.codec import MOSCOW, decode
from policy_codes.errors import CodeError, shown_by
from policy_codes.published_lists import STALE_AFTER, BadList, PublishedLists, read_lists
from policy_codes.revocation import revocation_digest
from policy_codes.verdicts import Shown, Verdict, offline_message
from signing import PublicKey

__all__ = ["STALE_AFTER", "BadList", "OfflineResult", "OfflineVerifier"]


#: How a message names the lists' date (Moscow time): as static/js/clinic-page.js writes it.
LISTS_DATE = "%d.%m.%Y %H:%M"


@dataclass(frozen=True)
class OfflineResult:
    verdict: Verdict
    holder_name: str | None
    birth_date: str | None
    trust_list_age: timedelta
    revocations_age: timedelta
    #: When the older of the lists was issued: what they say holds as of then.
    lists_issued_at: datetime
    #: What was shown, as far as the code tells (a live code that ran out is told to be refreshed).
    shown: Shown = Shown.STATIC_CODE

    @property
    def stale(self) -> bool:
        return max(self.trust_list_age, self.revocations_age) > STALE_AFTER

    def message(self, language: str = "ru") -> str:
        """The verdict's message as the lists support it: a `valid` is theirs, not the registry's."""
        lists_date = self.lists_issued_at.astimezone(MOSCOW).strftime(LISTS_DATE)
        return offline_message(self.verdict, language, lists_date, self.shown)


class OfflineVerifier:
    """Built from the trust list, the revocation list (a full one, then any increments in order)
    and the pinned registry key(s), by the rule of published_lists at `now` (default: the present);
    `BadList` if the lists are refused."""

    def __init__(
        self,
        trust_document: Any,
        revocation_documents: list[Any],
        registry_keys: list[PublicKey],
        now: datetime | None = None,
    ) -> None:
        self.lists: PublishedLists = read_lists(
            trust_document, revocation_documents, registry_keys, now or datetime.now(UTC)
        )

    def verify(self, text: str, now: datetime | None = None) -> OfflineResult:
        moment = now or datetime.now(UTC)
        lists = self.lists
        ages = (moment - lists.trust_list_issued_at, moment - lists.revocations_issued_at, lists.issued_at)
        try:
            verified = decode(text, lists.trust_list, moment)
        except CodeError as error:
            return OfflineResult(error.verdict, None, None, *ages, shown_by(error))
        claims = verified.claims
        # A live code's digest is on no list (policy_codes/revocation.py). Headings are verdicts' names.
        heading = lists.heading_of(revocation_digest(verified.signature))
        verdict = Verdict(heading) if heading else Verdict.VALID
        shown = Shown.LIVE_CODE if claims.kind is CodeKind.LIVE else Shown.STATIC_CODE
        return OfflineResult(verdict, claims.name.display(), claims.birth_date.isoformat(), *ages, shown)
