"""Every stored value has its words on the pages: a new category or status cannot show up raw."""

from __future__ import annotations

from enum import StrEnum

import pytest

from policy_codes import Verdict
from policy_codes.verdicts import Shown
from webapp.models import Category, CodeStatus, PolicyKind, PolicyStatus
from webapp.web import labels


@pytest.mark.parametrize(
    ("words", "values"),
    [
        (labels.CATEGORIES, Category),
        (labels.POLICY_KINDS, PolicyKind),
        (labels.POLICY_STATUSES, PolicyStatus),
        (labels.CODE_STATUSES, CodeStatus),
    ],
)
def test_every_stored_value_has_words(words: dict[str, object], values: type[StrEnum]) -> None:
    assert set(words) == {value.value for value in values}


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_has_a_label_in_both_languages(verdict: Verdict) -> None:
    """A clinic's history shows each stored verdict as the desk read it, in Russian or English, never raw."""
    for shown in (None, *Shown):
        russian = labels.verdict_label(str(verdict), shown and str(shown), "ru")
        english = labels.verdict_label(str(verdict), shown and str(shown), "en")
        assert russian != str(verdict)
        assert english not in (russian, str(verdict)), "translated in policy_codes/translations"
