"""The audit log's checkpoint: how far the log went, kept where the database cannot reach it.

A database writer can cut the newest entries or put back an older copy of the table, and what is left
is a whole chain. The checkpoint names the newest entry the servers saw committed (its id and hash), so
`audit verify` notices a log that stops short of it or no longer holds it.

A checkpoint is a small JSON file, authenticated with HMAC-SHA256 under AUDIT_KEY (the key the database
does not hold) and naming that key by a fingerprint, so a file edited, or made under another key, is
told apart. It is written to a temporary file that is renamed over the old one, mode 0600; writers
take an exclusive lock on `<file>.lock` first, so any number of workers and commands on one machine
can move it, one at a time. The same format is the operator's copy (`flask audit checkpoint FILE`).
This module knows files and keys only; webapp/registry/audit.py decides when a checkpoint moves.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from webapp.registry.errors import RegistryError

FORMAT = "oms-audit-checkpoint/1"


class CheckpointError(RegistryError):
    """A checkpoint that cannot be read, trusted or written; the message names the file, in Russian."""


@dataclass(frozen=True)
class Checkpoint:
    """The newest entry seen committed (`entry`, `hash`), and the newest that may predate AUDIT_KEY:
    every entry after `keyed_after` must be keyed, so none can be slipped in after the old ones."""

    entry: int
    hash: str
    keyed_after: int
    written_at: datetime


def key_fingerprint(key: bytes) -> str:
    """Names the key in a checkpoint without revealing it."""
    return hmac.new(key, b"oms audit key fingerprint", hashlib.sha256).hexdigest()[:16]


def _mac(fields: dict[str, object], key: bytes) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("ascii")
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def dumps(checkpoint: Checkpoint, key: bytes) -> bytes:
    fields: dict[str, object] = {
        "format": FORMAT,
        "entry": checkpoint.entry,
        "hash": checkpoint.hash,
        "keyed_after": checkpoint.keyed_after,
        "written_at": checkpoint.written_at.isoformat(timespec="seconds"),
        "key": key_fingerprint(key),
    }
    return (json.dumps({**fields, "mac": _mac(fields, key)}, indent=1) + "\n").encode("ascii")


#: The most of a file `load` reads: a checkpoint is a few hundred bytes.
MAX_BYTES = 64 * 1024


def load(path: Path, key: bytes) -> Checkpoint | None:
    """The checkpoint in `path`, None if there is no such file."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)  # a checkpoint is a few hundred bytes: not /dev/zero read to the end
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointError(f"контрольная точка {path} не читается: {error.strerror}") from error
    try:
        if len(raw) > MAX_BYTES:
            raise ValueError("far larger than a checkpoint")
        fields = json.loads(raw)
        mac = fields.pop("mac")
        checkpoint = Checkpoint(
            int(fields["entry"]),
            str(fields["hash"]),
            int(fields["keyed_after"]),
            datetime.fromisoformat(fields["written_at"]),
        )
        foreign, fingerprint = fields["format"] != FORMAT, fields["key"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"контрольная точка {path} не читается: это не контрольная точка журнала") from error
    if foreign:
        raise CheckpointError(f"контрольная точка {path} не читается: формат {fields['format']!r} не знаком")
    if fingerprint != key_fingerprint(key):
        raise CheckpointError(
            f"контрольная точка {path} подписана ключом журнала AUDIT_KEY, но другим: "
            "ключ сменён или файл от другой установки"
        )
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(fields, key)):
        raise CheckpointError(f"контрольная точка {path} изменена или подписана не ключом журнала")
    return checkpoint


def write(path: Path, checkpoint: Checkpoint, key: bytes, *, replace: bool = True) -> None:
    """Write `checkpoint` to `path` whole or not at all, mode 0600.

    With `replace` false an existing file is left alone and refused (the operator's copies).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(dumps(checkpoint, key))
                file.flush()
                os.fsync(file.fileno())
            if replace:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)  # fails if `path` exists: no check-then-write race
        finally:
            Path(temporary).unlink(missing_ok=True)
    except FileExistsError as error:
        raise CheckpointError(f"Файл {path} уже есть: выберите другое имя") from error
    except OSError as error:
        raise CheckpointError(f"контрольная точка {path} не записана: {error.strerror}") from error


def forget(path: Path) -> None:
    """Remove the checkpoint: a log restored empty has nothing to check against."""
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        raise CheckpointError(f"контрольная точка {path} не удалена: {error.strerror}") from error


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of the checkpoint in `path` (a `.lock` file beside it, 0600)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise CheckpointError(f"контрольная точка {path} не блокируется: {error.strerror}") from error
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock
