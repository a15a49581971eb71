"""Instructions per request of the API's verify and of the floor view, counted by callgrind: a figure the
shared machine's noise does not move, for telling small changes to the verification path apart.

Run from the repository root: `.venv/bin/python bench/instructions.py [--people N] [--requests N]`
(default: the cached 20,000-person PostgreSQL registry of bench/_server.py, 1,000 requests each). It needs
valgrind (Debian's package).

For each endpoint it starts this script again under `valgrind --tool=callgrind --instr-atstart=no`. That
child builds the app with the floor view of bench/_wsgi.py (one ES256 check and one prepared point read,
issue 19's baseline), sends every code once with its clinic token to warm the caches, and waits; then this
process switches counting on (`callgrind_control`), the child sends the requests through the WSGI app
itself (no gunicorn, no sockets: their work is the same for both endpoints), and counting stops. The
PostgreSQL server runs in its own processes and is not counted: bench/load.py measures its CPU.

Under callgrind a request takes ~50 times as long, so a clinic token's trust in a worker
(API_TOKEN_TRUST_SECONDS, 10 s) would lapse between its uses, which at full speed it never does; the child
trusts tokens for the whole run.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import _wsgi
import registry

from webapp import create_app

VERIFY_PATH = "/api/v1/verify"
FLOOR_PATH = "/api/bench/verify-and-read"
ENDPOINTS = {"POST /api/v1/verify": VERIFY_PATH, "floor view (ES256 + point read)": FLOOR_PATH}
GOAL_FLOOR_SHARE = 0.85
_COLLECTED = re.compile(r"Collected : ([\d,]+)")


def _environ(path: str, body: bytes, token: str | None) -> dict[str, Any]:
    """A WSGI request as gunicorn would hand it to the app."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


def serve(url: str, fixture: Path, path: str, requests: int) -> None:
    """The child: warm up, say READY, send `requests` requests when told, say DONE."""
    sample = json.loads(fixture.read_text(encoding="utf-8"))
    app = _wsgi.add_floor(create_app({**_server.bench_config(url), "API_TOKEN_TRUST_SECONDS": 86_400}))
    bodies = [(json.dumps({"code": code}).encode(), token) for code, token in sample]
    expected = b'"verdict":"valid"' if path == VERIFY_PATH else b'"signature":"good"'

    def send(number: int) -> bytes:
        body, token = bodies[number % len(bodies)]
        answer = app(_environ(path, body, token if path == VERIFY_PATH else None), lambda *_: None)
        try:
            return b"".join(answer)
        finally:
            answer.close()  # type: ignore[attr-defined]

    for number in range(2 * len(bodies)):
        if expected not in send(number):
            raise SystemExit(f"{path} did not answer as a good code: {send(number)[:200]!r}")
    print("READY", flush=True)
    sys.stdin.readline()
    for number in range(requests):
        send(number)
    print("DONE", flush=True)
    sys.stdin.readline()


def count(url: str, fixture: Path, path: str, requests: int, folder: Path) -> float:
    """Instructions per request of `path`, counted in a child under callgrind."""
    log = folder / "valgrind.log"
    child = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={folder / 'callgrind.out'}",
            f"--log-file={log}",
            sys.executable,
            __file__,
            "--serve",
            url,
            str(fixture),
            path,
            str(requests),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        for expected in ("READY", "DONE"):
            if expected == "DONE":
                child.stdin.write("go\n")
                child.stdin.flush()
            line = child.stdout.readline().strip()
            if line != expected:
                raise RuntimeError(f"the counted child said {line!r} instead of {expected}: see {log}")
            mode = "on" if expected == "READY" else "off"
            subprocess.run(["callgrind_control", "-i", mode, str(child.pid)], check=True, capture_output=True)
        child.stdin.close()
        child.wait(timeout=600)
    finally:
        if child.poll() is None:
            child.kill()
    found = _COLLECTED.search(log.read_text(encoding="utf-8", errors="replace"))
    if found is None:
        raise RuntimeError(f"callgrind reported no count: see {log}")
    return int(found.group(1).replace(",", "")) / requests


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--serve", nargs=4, metavar=("URL", "FIXTURE", "PATH", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        url, fixture, path, requests = args.serve
        serve(url, Path(fixture), path, int(requests))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if (reason := _server.postgres_unreachable()) is not None:
        raise SystemExit(f"PostgreSQL is unreachable: {reason}")
    counted: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="oms_bench_instructions_") as temporary:
        folder = Path(temporary)
        with _server.working_copy("postgresql", args.people) as url:
            with _server.bench_app(url):
                tokens = _server.clinic_tokens()
                _, texts = registry.verification_sample(args.people)
            fixture = folder / "sample.json"
            fixture.write_text(json.dumps(_server.with_tokens(texts, tokens)), encoding="utf-8")
            for label, path in ENDPOINTS.items():
                _server.note(f"counting {args.requests:,} requests of {path} under callgrind")
                counted[label] = count(url, fixture, path, args.requests, folder)
    api, floor = counted.values()
    print(f"\npostgresql, {args.people:,} persons, {args.requests:,} requests each, callgrind")
    print(f"{'endpoint':<36}{'instructions per request':>26}")
    for label, instructions in counted.items():
        print(f"{label:<36}{instructions:>26,.0f}")
    share = floor / api
    verdict = "PASS" if share >= GOAL_FLOOR_SHARE else "MISS"
    print(
        f"floor / API: {share:.3f} (issue 19's goal for the rate, ≥ {GOAL_FLOOR_SHARE:.2f}: {verdict} by instructions)"
    )


if __name__ == "__main__":
    main()
