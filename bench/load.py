"""Verification under load: gunicorn (2 workers) on loopback, driven by wrk, against the trivial endpoint.

Run from the repository root: `.venv/bin/python bench/load.py` (1,000,000 persons, SQLite then
PostgreSQL); `--quick` is a smoke run on 20,000 persons with short rounds. The registry is generated
and imported once per engine with bench/registry.py and cached (bench/_server.py); each run works on
a copy, with fresh tokens for 500 clinic systems (webapp.registry.accounts.create_token) and citizen logins.

Measured in the same run, each as the median of several rounds of wrk (one thread, fixed
connections, no pause), on the same server:

- GET /healthz, the trivial JSON endpoint: the baseline;
- POST /api/v1/verify with real codes of real persons (a rotating set of 2,000), each request with one
  of the clinic systems' tokens, under the production limit of 600 a minute per token;
- the citizen's QR (GET /me/code.svg) for one citizen over and over (the cached render), and for more
  citizens in turn than a worker's render cache holds (the first render),
  and the policy page GET /me/;
- then verification at 80% of its peak, open loop (bench/open_loop.py), for latency at that load;
- then a bare Flask app under the same gunicorn settings (bench/_wsgi.py): /healthz and a view that
  only checks the code's ES256 signature;
- last, the product app with a floor view added by bench/_wsgi.py (one ES256 check and one prepared point
  read), the API's verify and that view in turn on the one server: issue 19's ratio, goal GOAL_FLOOR_SHARE.

Each round also records the CPU time per request of gunicorn's workers and of the PostgreSQL server.

Every server and client stops by itself; Ctrl-C or an error also stops gunicorn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import open_loop
import registry
from _server import Server, WrkResult, note, verify_headers, with_tokens

from webapp.models import Role
from webapp.registry import accounts

GOAL_VERIFY_SHARE = 0.60
GOAL_P99_MS = 25.0
#: Issue 19: verify API on PostgreSQL / a bare view doing one ES256 verify and one prepared point read.
GOAL_FLOOR_SHARE = 0.85
FLOOR_PATH = "/api/bench/verify-and-read"
PACED_SHARE = 0.80
VERIFY_PATH = "/api/v1/verify"
PEAK_CONNECTIONS = 8
CITIZEN_PASSWORD = "load-bench-citizen"


@dataclass(frozen=True)
class Settings:
    people: int
    rounds: int
    seconds: float
    citizens: int


FULL = Settings(people=1_000_000, rounds=3, seconds=10, citizens=1_000)
QUICK = Settings(people=20_000, rounds=1, seconds=3, citizens=1_000)


@dataclass(frozen=True)
class Endpoint:
    label: str
    script: str
    args: list[str]


@dataclass(frozen=True)
class CpuPerRequest:
    """CPU µs per request during one run: gunicorn's workers, and the PostgreSQL server (SQLite runs inside
    the workers). Both share the machine's cores with wrk."""

    workers_us: float
    database_us: float


@dataclass
class Measured:
    label: str
    runs: list[WrkResult] = field(default_factory=list)
    cpu: list[CpuPerRequest] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(run.rate for run in self.runs)

    def latency(self, pick: Callable[[WrkResult], float]) -> float:
        return statistics.median(pick(run) for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    def cpu_us(self, pick: Callable[[CpuPerRequest], float]) -> str:
        return f"{statistics.median(pick(split) for split in self.cpu):,.0f}" if self.cpu else "–"

    @property
    def spread(self) -> str:
        rates = [run.rate for run in self.runs]
        return f"{min(rates):,.0f}–{max(rates):,.0f}"


@dataclass(frozen=True)
class Fixture:
    tokens: list[str]  # one per clinic system; the first one for single checks
    tokens_file: str
    codes_file: str
    same_cookie_file: str
    many_cookies_file: str
    citizens: int


# --- setting up ---------------------------------------------------------------


def prepare(url: str, folder: Path, settings: Settings) -> Fixture:
    """A clinic token, 2,000 current codes of random persons, and citizen logins for some of them."""
    with _server.bench_app(url) as app:
        tokens = _server.clinic_tokens()
        enps, texts = registry.verification_sample(settings.people)
        cookies = []
        for index, enp in enumerate(enps[: settings.citizens]):
            user = accounts.create_user(
                f"bench-citizen-{index}", CITIZEN_PASSWORD, Role.CITIZEN, registry.ACTOR, enp=enp
            )
            cookies.append(_server.session_cookie(app, user))
    return Fixture(
        tokens=tokens,
        tokens_file=_server.lines_file(folder, "tokens.txt", tokens),
        codes_file=_server.lines_file(folder, "codes.txt", texts),
        same_cookie_file=_server.lines_file(folder, "same-citizen.txt", cookies[:1]),
        many_cookies_file=_server.lines_file(folder, "citizens.txt", cookies),
        citizens=len(cookies),
    )


def check_answers(server: Server, fixture: Fixture) -> None:
    """Before timing: the token verifies a code as valid, and the cookies reach the citizen's pages."""
    code = Path(fixture.codes_file).read_text().split("\n", 1)[0]
    body = json.dumps({"code": code}).encode()
    status, answer = _server.request(server.port, "POST", VERIFY_PATH, body, verify_headers(fixture.tokens[0]))
    if status != 200 or json.loads(answer)["verdict"] != "valid":
        raise RuntimeError(f"verification answered {status}: {answer[:200]!r}")
    for cookie in Path(fixture.many_cookies_file).read_text().split()[:5]:
        for path, start in (("/me/code.svg", b"<svg"), ("/me/", b"<!")):
            status, answer = _server.request(server.port, "GET", path, headers={"Cookie": f"session={cookie}"})
            if status != 200 or not answer.lstrip().startswith(start):
                raise RuntimeError(f"GET {path} as a citizen answered {status}: {answer[:120]!r}")


def check_bare(server: Server, fixture: Fixture) -> None:
    code = Path(fixture.codes_file).read_text().split("\n", 1)[0]
    body = json.dumps({"code": code}).encode()
    status, answer = _server.request(server.port, "POST", "/verify", body, {"Content-Type": "application/json"})
    if status != 200 or json.loads(answer) != {"signature": "good"}:
        raise RuntimeError(f"bare verify answered {status}: {answer[:200]!r}")


def check_floor(server: Server, fixture: Fixture) -> None:
    code = Path(fixture.codes_file).read_text().split("\n", 1)[0]
    body = json.dumps({"code": code}).encode()
    status, answer = _server.request(server.port, "POST", FLOOR_PATH, body, {"Content-Type": "application/json"})
    if status != 200 or json.loads(answer) != {"signature": "good", "key_status": "active"}:
        raise RuntimeError(f"the floor view answered {status}: {answer[:200]!r}")


# --- measuring ----------------------------------------------------------------


def measure(server: Server, endpoints: list[Endpoint], settings: Settings) -> dict[str, Measured]:
    """Rounds of every endpoint in turn, so noise from other work on the machine falls on all of them."""
    for endpoint in endpoints:  # warm-up: imports, connection pools, caches
        _server.wrk(server, endpoint.script, endpoint.args, 2, PEAK_CONNECTIONS)
    results = {endpoint.label: Measured(endpoint.label) for endpoint in endpoints}
    for round_number in range(1, settings.rounds + 1):
        for endpoint in endpoints:
            workers, database = server.workers(), _server.database_server_pids()
            before = _server.cpu_seconds(workers), _server.cpu_seconds(database)
            run = _server.wrk(server, endpoint.script, endpoint.args, settings.seconds, PEAK_CONNECTIONS)
            after = _server.cpu_seconds(workers), _server.cpu_seconds(database)
            results[endpoint.label].runs.append(run)
            per_request = [(end - start) / max(run.requests, 1) * 1e6 for start, end in zip(before, after, strict=True)]
            results[endpoint.label].cpu.append(CpuPerRequest(*per_request))
            note(f"  round {round_number}: {endpoint.label}: {run.rate:,.0f}/s, p99 {run.p99_ms:.1f} ms")
    return results


@dataclass(frozen=True)
class Paced:
    target: float
    result: Measured


def paced(server: Server, fixture: Fixture, peak: float, settings: Settings) -> Paced:
    """Verification at PACED_SHARE of `peak`, open loop (bench/open_loop.py): the latency at that load.

    Requests come at random times at the target rate whatever the server does, each on its own
    connection, with the same codes and tokens as the peak runs.
    """
    target = PACED_SHARE * peak
    codes = Path(fixture.codes_file).read_text(encoding="ascii").split()
    requests = [
        open_loop.post_request(server.port, VERIFY_PATH, json.dumps({"code": code}).encode(), verify_headers(token))
        for code, token in with_tokens(codes, fixture.tokens)
    ]
    result = Measured(VERIFY + f", open loop at {PACED_SHARE:.0%} of peak")
    for round_number in range(1, settings.rounds + 1):
        run = open_loop.run(server.port, requests, target, settings.seconds)
        result.runs.append(run)
        note(f"  round {round_number}: {run.rate:,.0f}/s, p50 {run.p50_ms:.1f} p99 {run.p99_ms:.1f} ms")
    return Paced(target, result)


# --- one engine ---------------------------------------------------------------

HEALTHZ = "GET /healthz (trivial JSON)"
VERIFY = "POST /api/v1/verify"
QR_SAME = "GET /me/code.svg, one citizen (cached)"
QR_MANY = "GET /me/code.svg, citizens in turn (first)"
PAGE = "GET /me/ (policy page)"
BARE_HEALTHZ = "bare app: GET /healthz"
BARE_VERIFY = "bare app: POST /verify (ES256)"
FLOOR_API = "floor app: POST /api/v1/verify"
FLOOR_VIEW = "floor app: ES256 + point read view"


@dataclass(frozen=True)
class EngineResult:
    engine: str
    people: int
    citizens: int
    measured: dict[str, Measured]
    paced: Paced

    def rate(self, label: str) -> float:
        return self.measured[label].rate

    @property
    def verify_share(self) -> float:
        return self.rate(VERIFY) / self.rate(HEALTHZ)

    @property
    def bare_share(self) -> float:
        return self.rate(BARE_VERIFY) / self.rate(BARE_HEALTHZ)

    @property
    def floor_share(self) -> float:
        return self.rate(FLOOR_API) / self.rate(FLOOR_VIEW)

    def floor_cpu_share(self) -> str:
        """The floor view's worker CPU per request over the API's (the same ratio when CPU is what limits)."""
        cpu = [statistics.median(c.workers_us for c in self.measured[label].cpu) for label in (FLOOR_VIEW, FLOOR_API)]
        return f"{cpu[0] / cpu[1]:.2f}×"

    @property
    def paced_p99(self) -> float:
        return self.paced.result.latency(lambda run: run.p99_ms)

    @property
    def errors(self) -> int:
        return sum(m.errors for m in self.measured.values()) + self.paced.result.errors


def run_engine(engine: str, settings: Settings, folder: Path) -> EngineResult:
    with _server.working_copy(engine, settings.people) as url:
        note(f"{engine}: {_server.CLINIC_SYSTEMS} clinic tokens, {settings.citizens:,} citizen logins, 2,000 codes")
        fixture = prepare(url, folder, settings)
        verify = Endpoint(VERIFY, "verify.lua", [VERIFY_PATH, fixture.codes_file, fixture.tokens_file])
        endpoints = [
            Endpoint(HEALTHZ, "get.lua", ["/healthz"]),
            verify,
            Endpoint(QR_SAME, "get.lua", ["/me/code.svg", fixture.same_cookie_file]),
            Endpoint(QR_MANY, "get.lua", ["/me/code.svg", fixture.many_cookies_file]),
            Endpoint(PAGE, "get.lua", ["/me/", fixture.same_cookie_file]),
        ]
        with _server.gunicorn("_wsgi:real()", url, log_folder=folder) as server:
            check_answers(server, fixture)
            note(f"{engine}: the app, {settings.rounds} rounds of {settings.seconds:g} s per endpoint")
            measured = measure(server, endpoints, settings)
            note(f"{engine}: verification, open loop at {PACED_SHARE:.0%} of its peak")
            pace = paced(server, fixture, measured[VERIFY].rate, settings)
        with _server.gunicorn("_wsgi:bare()", url, log_folder=folder) as server:
            check_bare(server, fixture)
            note(f"{engine}: the bare ES256 app")
            bare = [
                Endpoint(BARE_HEALTHZ, "get.lua", ["/healthz"]),
                Endpoint(BARE_VERIFY, "verify.lua", ["/verify", fixture.codes_file]),
            ]
            measured |= measure(server, bare, settings)
        with _server.gunicorn("_wsgi:with_floor()", url, log_folder=folder) as server:
            check_floor(server, fixture)
            note(f"{engine}: the app with the floor view")
            floor = [
                Endpoint(FLOOR_API, "verify.lua", [VERIFY_PATH, fixture.codes_file, fixture.tokens_file]),
                Endpoint(FLOOR_VIEW, "verify.lua", [FLOOR_PATH, fixture.codes_file]),
            ]
            measured |= measure(server, floor, settings)
    return EngineResult(engine, settings.people, fixture.citizens, measured, pace)


# --- output -------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_engine(result: EngineResult, settings: Settings) -> None:
    r = result
    healthz = r.rate(HEALTHZ)
    print(f"\n== {r.engine}: {r.people:,} persons, gunicorn 2 sync workers, wrk {PEAK_CONNECTIONS} connections ==")
    print(
        f"{'endpoint':<40} {'req/s':>8} {'× healthz':>10} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'errors':>7} {'rounds req/s':>15} {'app CPU µs':>11} {'db CPU µs':>10}"
    )
    for measured in [*r.measured.values(), r.paced.result]:
        print(
            f"{measured.label:<40} {measured.rate:>8,.0f} {measured.rate / healthz:>10.2f} "
            f"{measured.latency(lambda run: run.p50_ms):>7.1f} {measured.latency(lambda run: run.p95_ms):>7.1f} "
            f"{measured.latency(lambda run: run.p99_ms):>7.1f} {measured.errors:>7} {measured.spread:>15} "
            f"{measured.cpu_us(lambda c: c.workers_us):>11} {measured.cpu_us(lambda c: c.database_us):>10}"
        )
    print("(CPU µs: per request, medians of the rounds; app = gunicorn's two workers, db = the PostgreSQL server)")
    same, many = r.rate(QR_SAME), r.rate(QR_MANY)
    print(
        f"\nQR for {r.citizens:,} citizens in turn / one citizen again: {many / same:.2f}× "
        "(each worker caches 512 rendered codes: one citizen is served from the cache, 1,000 in turn never are)"
    )
    print(f"bare ES256 view / bare healthz: {r.bare_share:.2f}×")
    print(f"verify / bare ES256 view: {r.rate(VERIFY) / r.rate(BARE_VERIFY):.2f}×")
    print(
        f"goal verify API / floor view (ES256 + point read, one server) ≥ {GOAL_FLOOR_SHARE:.2f}: "
        f"{r.floor_share:.2f}× {verdict(r.floor_share >= GOAL_FLOOR_SHARE)} (worker CPU: {r.floor_cpu_share()})"
    )
    print(
        f"goal verify ≥ {GOAL_VERIFY_SHARE:.0%} of healthz: {r.verify_share:.1%} "
        f"{verdict(r.verify_share >= GOAL_VERIFY_SHARE)}"
    )
    p = r.paced
    print(
        f"goal p99 < {GOAL_P99_MS:g} ms at {PACED_SHARE:.0%} of peak: target {p.target:,.0f}/s, "
        f"ran {p.result.rate:,.0f}/s ({p.result.rate / r.rate(VERIFY):.0%} of peak), open loop: "
        f"p99 {r.paced_p99:.1f} ms {verdict(r.paced_p99 < GOAL_P99_MS)}"
    )
    print(f"errors (socket errors and non-2xx/3xx answers), all runs: {r.errors}")


def print_summary(results: list[EngineResult]) -> None:
    print("\n== summary ==")
    rows: list[tuple[str, Callable[[EngineResult], str]]] = [
        ("persons", lambda r: f"{r.people:,}"),
        ("healthz req/s", lambda r: f"{r.rate(HEALTHZ):,.0f}"),
        ("verify req/s", lambda r: f"{r.rate(VERIFY):,.0f}"),
        ("verify / healthz", lambda r: f"{r.verify_share:.3f}×"),
        ("bare ES256 / bare healthz", lambda r: f"{r.bare_share:.2f}×"),
        ("verify API / floor view", lambda r: f"{r.floor_share:.2f}×"),
        ("  by worker CPU per request", lambda r: r.floor_cpu_share()),
        ("QR, one citizen req/s", lambda r: f"{r.rate(QR_SAME):,.0f}"),
        ("QR, citizens in turn req/s", lambda r: f"{r.rate(QR_MANY):,.0f}"),
        ("policy page req/s", lambda r: f"{r.rate(PAGE):,.0f}"),
        ("healthz app CPU µs/req", lambda r: r.measured[HEALTHZ].cpu_us(lambda c: c.workers_us)),
        ("verify app CPU µs/req", lambda r: r.measured[VERIFY].cpu_us(lambda c: c.workers_us)),
        ("verify db server CPU µs/req", lambda r: r.measured[VERIFY].cpu_us(lambda c: c.database_us)),
        (f"verify p99 ms at {PACED_SHARE:.0%}", lambda r: f"{r.paced_p99:.1f}"),
        (f"goal verify ≥ {GOAL_VERIFY_SHARE:.0%} healthz", lambda r: verdict(r.verify_share >= GOAL_VERIFY_SHARE)),
        (f"goal p99 < {GOAL_P99_MS:g} ms", lambda r: verdict(r.paced_p99 < GOAL_P99_MS)),
        (f"goal API / floor ≥ {GOAL_FLOOR_SHARE:.2f}", lambda r: verdict(r.floor_share >= GOAL_FLOOR_SHARE)),
        ("errors", lambda r: str(r.errors)),
    ]
    print(f"{'':<34}" + "".join(f"{r.engine:>14}" for r in results))
    for label, value in rows:
        print(f"{label:<34}" + "".join(f"{value(r):>14}" for r in results))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 persons, one short round: a smoke run")
    parser.add_argument("--engines", default=",".join(_server.ENGINES), help="comma-separated: sqlite,postgresql")
    parser.add_argument("--rounds", type=int, help="rounds per endpoint (medians are taken over them)")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if not engines or set(engines) - set(_server.ENGINES):
        parser.error(f"choose engines from {', '.join(_server.ENGINES)}")
    settings = QUICK if args.quick else FULL
    if args.rounds:
        settings = replace(settings, rounds=args.rounds)
    _server.require_wrk()
    _server.stop_on_sigterm()
    started = time.perf_counter()
    print(_server.machine())
    results = []
    with tempfile.TemporaryDirectory(prefix="oms_load_") as folder:
        for engine in engines:
            if engine == "postgresql" and (reason := _server.postgres_unreachable()):
                print(f"PostgreSQL skipped: {reason}")
                continue
            result = run_engine(engine, settings, Path(folder))
            print_engine(result, settings)
            results.append(result)
    if results:
        print_summary(results)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
