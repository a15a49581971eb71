"""The app as production runs it: gunicorn workers on loopback, driven over real HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from tests.helpers.registry import PASSPHRASE, SECRET_KEY  # the keys in the tests' databases are under it
from tests.webapp.databases import audit_settings

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PASSWORD = "long-enough-pass"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_environment(database_url: str) -> dict[str, str]:
    """What production sets, for a server and for `flask --app webapp` commands alike."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
        "RATELIMIT_STORAGE_URI": "memory://",
        **audit_settings(database_url),
    }


class Server:
    """`gunicorn --workers 2 --preload 'webapp:create_app()'` in its own process group.

    Preloaded, the master imports the app once and forks workers from it, so a respawn takes
    milliseconds; the app opens no database connection while it is built.
    """

    def __init__(self, database_url: str, workers: int = 2, options: Sequence[str] = ()) -> None:
        self.database_url = database_url
        self.workers = workers
        self.options = list(options)  # more of gunicorn's, such as an access log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        command = [str(GUNICORN), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}"]
        command += [
            "--preload",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            *self.options,
            "webapp:create_app()",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=app_environment(self.database_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or the workers still importing
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start serving")

    def workers_pids(self) -> list[int]:
        """The master's children: the workers gunicorn is running right now."""
        assert self.process is not None
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return sorted(int(pid) for pid in children)

    def wait_for_workers(self, exclude: int, timeout: float = 30) -> list[int]:
        """Wait until gunicorn has a full set of workers again, none of them `exclude`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.workers_pids()
            if len(pids) == self.workers and exclude not in pids:
                return pids
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not respawn its worker: {self.workers_pids()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> str:
        """Stop the master (SIGTERM: gracefully) or the whole group (SIGKILL: a crash); return its stderr."""
        if self.process is None:
            return ""
        if sig == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(sig)
        try:
            _, stderr = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            _, stderr = self.process.communicate()
        self.process = None
        return stderr.decode(errors="replace")

    def login(self, username: str) -> Session:
        return Session.login(self.url, username)


class Session:
    """A logged-in browser: its cookie and the CSRF token its forms carry."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.csrf = ""

    @classmethod
    def login(cls, base: str, username: str) -> Session:
        session = cls(base)
        session.csrf = session.csrf_from("/login")
        answer = session.post("/login", {"username": username, "password": PASSWORD})
        assert answer.status_code == 302, answer.text
        session.csrf = session.csrf_from("/")
        return session

    def csrf_from(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=30).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, form: dict[str, str], timeout: float = 30) -> requests.Response:
        return self.http.post(
            self.base + path, data={**form, "csrf_token": self.csrf}, allow_redirects=False, timeout=timeout
        )

    def clone(self) -> Session:
        """The same login for another thread: requests.Session is not shared across threads."""
        other = Session(self.base)
        other.http.cookies.update(self.http.cookies)
        other.csrf = self.csrf
        return other
