"""omscode's state file (policy_codes/list_state.py): the newest lists accepted, never wound back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_codes import list_state
from policy_codes.published_lists import Held

NOON = datetime(2026, 12, 6, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_run_saving_older_lists_last_does_not_wind_the_state_back(tmp_path: Path) -> None:
    """Two omscode runs at once both load the state before either saves: the one with the older lists, saving
    last, wrote them over the newer, and a replay of lists between the two was then accepted."""
    path = tmp_path / "lists.json"
    newer, older = Held(NOON, NOON, 20), Held(NOON - HOUR, NOON - HOUR, 10)
    list_state.save(path, newer)
    list_state.save(path, older)
    assert list_state.load(path) == newer
    list_state.save(path, Held(NOON + HOUR, NOON - 2 * HOUR, 5))  # each is kept at its newest on its own
    assert list_state.load(path) == Held(NOON + HOUR, NOON, 20)
    assert (path.stat().st_mode & 0o777, (tmp_path / "lists.json.lock").stat().st_mode & 0o777) == (0o600, 0o600)
