"""How long a refused login takes: an unknown login, a disabled one, a real one with a wrong password.

Run from the repository root: `.venv/bin/python bench/login_timing.py [--tries N]`. Through the app's
own login page (Flask's test client, a SQLite file, argon2id at the library's default cost, as served),
each kind is tried N times in turn; the medians should be close, so the time of a refusal does not tell
which logins exist (webapp/registry/accounts.py, `authenticate`). The tests check the work done instead
(tests/security/test_attack_sessions.py): timings belong here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from webapp import create_app
from webapp.extensions import db, limiter
from webapp.models import Role
from webapp.registry import accounts

KINDS = {"unknown": "nobody-at-all", "disabled": "gone", "wrong password": "staff"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    tries = parser.parse_args().tries
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'oms.sqlite'}",
                "SECRET_KEY": "bench",
                "SIGNING_KEY_PASSPHRASE": "bench",
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
            accounts.create_user("staff", "the-right-password", Role.ADMIN, "bench")
            gone = accounts.create_user("gone", "the-right-password", Role.ADMIN, "bench")
            accounts.set_active(gone.id, False, "bench")
            db.session.remove()
        limiter.enabled = False
        client = app.test_client()
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(tries):
            for kind, username in KINDS.items():
                started = time.perf_counter()
                answer = client.post("/login", data={"username": username, "password": "a-wrong-password"})
                times[kind].append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 401, (kind, answer.status_code)
    print(f"refused logins, median of {tries} (ms):")
    for kind, measured in times.items():
        print(f"  {kind:<15} {statistics.median(measured):7.1f}   (min {min(measured):.1f}, max {max(measured):.1f})")


if __name__ == "__main__":
    main()
