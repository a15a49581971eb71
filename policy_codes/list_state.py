"""What omscode remembers between runs: the newest lists it accepted, so an older copy is not taken back.

A small JSON file, written whole (a temporary file renamed over it, under a lock on `lists.json.lock` beside it)
and readable by its owner only:

    {"trust_list_issued_at": "…", "revocations_issued_at": "…", "revocations_cursor": 9}

By default `$XDG_STATE_HOME/omscode/lists.json`, else `~/.local/state/omscode/lists.json`
(the XDG Base Directory layout); `omscode verify --state PATH` chooses another.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from policy_codes.published_lists import MAX_CURSOR, Held
from signing import SigningError
from signing.trust_list import parse_instant

try:
    import fcntl
except ImportError:  # Windows: no lock, the merge alone narrows the race
    fcntl = None  # type: ignore[assignment]


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
    """Remember `held` in `path`, whole or not at all, kept at least as new as what the file holds by then: two
    omscode runs at once (a clinic system verifying in parallel) each loaded the state before the other saved, and
    the one with the older lists, saving last, wound it back, and with it the replay check. `StateError` if it
    cannot be written."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(path):
            _write(path, _newest(held, load(path)))
    except OSError as error:
        raise StateError(f"{path}: {error}") from error


def _newest(held: Held, on_disk: Held | None) -> Held:
    """Each of what is held, the newer of the two: `refuse_older` checks each on its own."""
    if on_disk is None:
        return held
    return Held(
        max(held.trust_list_issued_at, on_disk.trust_list_issued_at),
        max(held.revocations_issued_at, on_disk.revocations_issued_at),
        max(held.revocations_cursor, on_disk.revocations_cursor),
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside the state file, for reading it and writing it in one go (POSIX; elsewhere none)."""
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a", encoding="utf-8", opener=_private) as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield


def _private(name: str, flags: int) -> int:
    return os.open(name, flags, 0o600)


def _write(path: Path, held: Held) -> None:
    text = json.dumps(
        {
            "trust_list_issued_at": held.trust_list_issued_at.isoformat(),
            "revocations_issued_at": held.revocations_issued_at.isoformat(),
            "revocations_cursor": held.revocations_cursor,
        }
    )
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
