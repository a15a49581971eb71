"""Size and build time of the revocation list at 1,000,000 entries (issue: "fits in a few MB"), read from
every event and from a snapshot (webapp/registry/keys/revocation_snapshots.py) plus 1,000 later events.

    .venv/bin/python bench/revocations.py [--entries N]

Events are synthetic (foreign keys off: the list needs only the events), then
the real endpoint builds and signs the document and the offline verifier loads
it, all in this run.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import insert, text

from policy_codes.offline import OfflineVerifier
from webapp import create_app
from webapp.extensions import db
from webapp.models import RevocationEvent
from webapp.registry.keys import keystore, publication, revocation_snapshots


def timed(action, rounds: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    entries = parser.parse_args().entries
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/r.sqlite",
                "SECRET_KEY": "b",
                "SIGNING_KEY_PASSPHRASE": "b",
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        with app.app_context():
            upgrade()
            db.session.execute(text("PRAGMA foreign_keys = OFF"))
            now = datetime.now(UTC)
            rows = [
                {"code_id": i, "digest": os.urandom(6), "status": "revoked" if i % 10 else "superseded", "at": now}
                for i in range(1, entries + 1)
            ]
            db.session.execute(insert(RevocationEvent.__table__), rows)
            db.session.commit()
            client = app.test_client()
            build, response = timed(lambda: client.get("/api/v1/revocations"))
            body = response.get_data()
            increment = client.get(f"/api/v1/revocations?since={entries - 1000}").get_data()
            snapshot, _ = timed(revocation_snapshots.rebuild, rounds=1)
            db.session.execute(insert(RevocationEvent.__table__), rows[:1000])
            db.session.commit()
            from_snapshot, _ = timed(lambda: client.get("/api/v1/revocations"))
            trust = client.get("/api/v1/trust-list").get_json()
            keys = [key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER]
            load, _ = timed(lambda: OfflineVerifier(trust, [response.get_json()], keys))
            publication.registry_key()
    print(f"{'what':44} {'value':>14}")
    print(f"{'entries':44} {entries:>14,}")
    print(f"{'raw digests (6 bytes each), MB':44} {entries * 6 / 1e6:>14.2f}")
    print(f"{'JSON document (base64 + signature), MB':44} {len(body) / 1e6:>14.2f}")
    print(f"{'same, gzip -6, MB':44} {len(gzip.compress(body, 6)) / 1e6:>14.2f}")
    print(f"{'increment of the last 1,000, kB':44} {len(increment) / 1e3:>14.1f}")
    print(f"{'build and sign the full list (median), s':44} {build:>14.2f}")
    print(f"{'build the snapshot (one run), s':44} {snapshot:>14.2f}")
    print(f"{'full list from it + 1,000 events (median), s':44} {from_snapshot:>14.2f}")
    print(f"{'  ratio to building from every event':44} {from_snapshot / build:>14.3f}")
    print(f"{'offline verifier loads it (median), s':44} {load:>14.2f}")


if __name__ == "__main__":
    main()
