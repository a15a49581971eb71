"""Where a verification request's CPU time goes, against the floor view and GET /healthz of the same app.

Run from the repository root: `.venv/bin/python bench/profile_verify.py [--engine sqlite|postgresql]
[--people N]` (default: the cached 1,000,000-person registry of bench/load.py, on SQLite). It runs
the app in this process under cProfile with Flask's test client (no gunicorn, no network), sends
REQUESTS verifications of real codes, as many to the floor view of bench/_wsgi.py (one ES256 check and one
prepared point read: issue 19's baseline for the API) and as many /healthz, and sums each function's own time
into components by module. The test client's own work is shown apart: gunicorn does not pay it.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import pstats
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import _wsgi
import registry

from webapp import create_app

REQUESTS = 2_000
#: (component, substrings of "file:function" that put a function in it), first match wins.
COMPONENTS = [
    ("test client (not paid under gunicorn)", ("werkzeug/test.py", "flask/testing.py")),
    ("ES256 signature check (OpenSSL)", ("cryptography", "ECPublicKey")),
    ("decode: Base45, COSE, claims", ("policy_codes/", "signing/", "cbor2")),
    ("database driver (sqlite3, psycopg)", ("sqlite3", "psycopg", "_pq")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("rate limiter (flask_limiter, limits)", ("flask_limiter", "limits/")),
    ("threads started for limits' memory:// expiry", ("threading.py", "_thread")),
    ("Flask, Werkzeug, Jinja", ("flask/", "werkzeug", "jinja2", "itsdangerous", "markupsafe")),
    ("webapp and its extensions", ("webapp/", "flask_login", "flask_babel", "babel", "flask_wtf")),
]


def component(key: tuple[str, int, str]) -> str:
    label = f"{key[0]}:{key[2]}"
    for name, needles in COMPONENTS:
        if any(needle in label for needle in needles):
            return name
    return "other (stdlib, json, logging)"


#: Steps of a verification request, by the function that does them (cumulative time).
STEPS = [
    ("the whole request in Flask (Flask.wsgi_app)", "flask/app.py", "wsgi_app"),
    ("token check (accounts.live_token)", "webapp/registry/accounts.py", "live_token"),
    ("verify_scan (decode, ES256, registry row)", "webapp/registry/verification.py", "verify_scan"),
    ("decode alone (policy_codes.decode)", "policy_codes/codec.py", "decode"),
    ("database reads (prepared_reads.first_row)", "webapp/db/prepared_reads.py", "first_row"),
    ("the route's rate limit (limits.verify_refusal)", "webapp/web/api/limits.py", "verify_refusal"),
    ("Flask-Limiter's before-request check", "flask_limiter/_extension.py", "_check_request_limit"),
]


def profile(send: Callable[[], None]) -> tuple[dict[str, float], dict[str, float]]:
    """µs per request by component (own time) and by step (cumulative), for REQUESTS calls of `send`."""
    for _ in range(200):
        send()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(REQUESTS):
        send()
    profiler.disable()
    totals: dict[str, float] = defaultdict(float)
    steps: dict[str, float] = defaultdict(float)
    for key, (_, _, own, cumulative, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        totals[component(key)] += own
        for label, path, function in STEPS:
            if key[0].endswith(path) and key[2] == function:
                steps[label] += cumulative
    per_request = 1e6 / REQUESTS
    return (
        {name: seconds * per_request for name, seconds in totals.items()},
        {name: seconds * per_request for name, seconds in steps.items()},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=_server.ENGINES, default="sqlite")
    parser.add_argument("--people", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with _server.working_copy(args.engine, args.people) as url:
        with _server.bench_app(url):
            tokens = _server.clinic_tokens()
            _, texts = registry.verification_sample(args.people)
        app = _wsgi.add_floor(create_app(_server.bench_config(url)))
        client = app.test_client()
        # Each code with one of the clinic systems' tokens, as bench/load.py sends them.
        requests = itertools.cycle(_server.with_tokens(texts, tokens))

        def verify() -> None:
            code, token = next(requests)
            answer = client.post("/api/v1/verify", json={"code": code}, headers=_server.verify_headers(token))
            assert answer.status_code == 200
            assert json.loads(answer.data)["verdict"] == "valid"

        def floor() -> None:
            code, _token = next(requests)
            answer = client.post("/api/bench/verify-and-read", json={"code": code})
            assert json.loads(answer.data) == {"signature": "good", "key_status": "active"}

        def healthz() -> None:
            assert client.get("/healthz").status_code == 200

        profiled = {
            "POST /api/v1/verify": profile(verify),
            "floor view": profile(floor),
            "GET /healthz": profile(healthz),
        }
    results = {label: own for label, (own, _) in profiled.items()}
    verify_label = "POST /api/v1/verify"
    names = sorted({name for result in results.values() for name in result}, key=lambda n: -results[verify_label][n])
    print(f"{args.engine}, {args.people:,} persons, {REQUESTS:,} requests each; cProfile, µs per request")
    print(f"\n{'own time by component':<46}" + "".join(f"{label:>22}" for label in results))
    for name in names:
        print(f"{name:<46}" + "".join(f"{result.get(name, 0):>22.0f}" for result in results.values()))
    print(f"{'total':<46}" + "".join(f"{sum(result.values()):>22.0f}" for result in results.values()))
    print(f"\n{'cumulative time of the steps of a verification':<46}{verify_label:>22}")
    for label, _, _ in STEPS:
        print(f"{label:<46}{profiled[verify_label][1].get(label, 0):>22.0f}")


if __name__ == "__main__":
    main()
