"""Files that hold the registry or its secrets (the SQLite database, backups, exports, the instance
folder): readable by the service's own user only, whatever the umask of the shell that made them."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def opener(path: str | os.PathLike[str], flags: int) -> int:
    """For `open(..., opener=opener)`: a new file is made 0600, and an existing one it overwrites becomes so."""
    descriptor = os.open(path, flags, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return descriptor


def create_empty(path: Path) -> None:
    """Make `path` an empty 0600 file if there is none."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def create_once(path: Path, text: str) -> None:
    """`path` holding `text` (0600), unless another process made it first. The text is written whole under a name
    of this process's own and then linked into place, which fails if the name is taken: processes starting at once
    (gunicorn's workers) all read the first one's file, never another's nor a half-written one."""
    own = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        with open(own, "x", encoding="ascii", opener=opener) as file:
            file.write(text)
        os.link(own, path)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links (vfat, some network mounts): made in place, the first one wins
        with contextlib.suppress(FileExistsError), open(path, "x", encoding="ascii", opener=opener) as file:
            file.write(text)
    finally:
        own.unlink(missing_ok=True)


def folder(path: Path) -> None:
    """Make the folder 0700, or close an existing one of ours to others."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    status = path.stat()
    if status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) != FOLDER_MODE:
        path.chmod(FOLDER_MODE)
