"""Every stored value has its words on the pages: a new category or status cannot show up raw."""

from __future__ import annotations

from enum import StrEnum

import pytest

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
