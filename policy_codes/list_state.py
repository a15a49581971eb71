"""What omscode remembers between runs: the newest lists it accepted, so an older copy is not taken back.

A small JSON file, written whole (a temporary file renamed over it) and readable by its owner only:

    {"trust_list_issued_at": "…", "revocations_issued_at": "…", "revocations_cursor": 9}

By default `$XDG_STATE_HOME/omscode/lists.json`, else `~/.local/state/omscode/lists.json`
(the XDG Base Directory layout); `omscode verify --state PATH` chooses another.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from policy_codes.published_lists import MAX_CURSOR, Held
from signing import SigningError
from signing.trust_list import parse_instant


class StateError(Exception):
    """The state file is there but cannot be read, or cannot be written."""


def default_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"  # the spec ignores a relative one
    return root / "omscode" / "lists.json"


def load(path: Path) -> Held | None:
    """What was held, or None when nothing was yet; `StateError` if the file is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as error:
        raise StateError(f"{path}: {error}") from error
    try:
        cursor = data["revocations_cursor"]
        if isinstance(cursor, bool) or not isinstance(cursor, int) or not 0 <= cursor <= MAX_CURSOR:
            raise ValueError("revocations_cursor is not a cursor")
        return Held(parse_instant(data["trust_list_issued_at"]), parse_instant(data["revocations_issued_at"]), cursor)
    except (TypeError, KeyError, ValueError, SigningError) as error:
        raise StateError(f"{path}: {error}") from error


def save(path: Path, held: Held) -> None:
    """Remember `held` in `path`, whole or not at all; `StateError` if it cannot be written."""
    text = json.dumps(
        {
            "trust_list_issued_at": held.trust_list_issued_at.isoformat(),
            "revocations_issued_at": held.revocations_issued_at.isoformat(),
            "revocations_cursor": held.revocations_cursor,
        }
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".lists-", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise StateError(f"{path}: {error}") from error
