"""Soak: mixed traffic for a long while, then check the server stayed healthy and the registry whole.

Run from the repository root: `.venv/bin/python bench/soak.py` (10 minutes on the cached
1,000,000-person registry, PostgreSQL when it answers, else SQLite); `--minutes N`, `--engine`,
`--quick` (20,000 persons, 1 minute). gunicorn runs the app with 2 workers on loopback, and at once:

- wrk posts real codes to POST /api/v1/verify with the tokens of 500 clinic systems (paced,
  bench/wrk/common.lua);
- wrk fetches citizens' QR images (GET /me/code.svg), many citizens in turn;
- two insurer staff log in through the login form and reissue codes of their own insured through
  the person page's form (CSRF token from the page, POST, redirect, the flash says done);
- a citizen logs in and opens their pages; a clinic client checks that a reissued person's old code
  now answers `superseded` and their number `valid`.

Every few seconds the resident memory of each gunicorn worker is read from /proc. At the end:
no errors anywhere, no worker restarted, memory flat, one current code per person, the reissue
counts match in codes, revocation events and audit entries, and `flask --app webapp audit verify`
finds the audit chain whole.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _server
import registry
from _server import Server, note
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEntry, CodeStatus, Insurer, IssuedCode, Person, RevocationEvent, Role
from webapp.registry import accounts

PASSWORD = "soak-bench-password"
SAMPLE_EVERY = 5.0  # seconds between memory samples
WARM_UP_SHARE = 0.1  # memory is compared from the first sample after this share of the run
GOAL_MEMORY_GROWTH = 0.10
VERIFY_CONNECTIONS, VERIFY_PAUSE_MS = 8, 20
QR_CONNECTIONS, QR_PAUSE_MS = 2, 100
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Settings:
    people: int
    minutes: float
    citizens: int


# --- a browser-like client ------------------------------------------------------


class Client:
    """Keeps the session cookie and sends what a browser would: forms with their CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def send(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of one request; the session cookie is kept from the answer."""
        headers = {"Cookie": f"session={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(_server.HOST, self.port, timeout=30)
        try:
            connection.request(method, path, body, {"User-Agent": _server.USER_AGENT, **headers})
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0].removeprefix("session=")
            return response.status, response.getheader("Location", ""), text
        finally:
            connection.close()

    def get(self, path: str, expect: int = 200) -> str:
        status, _, text = self.send("GET", path)
        if status != expect:
            raise AssertionError(f"GET {path}: {status}")
        return text

    def post_form(self, page: str, action: str, fields: dict[str, str]) -> str:
        """Open `page`, take its CSRF token, post `fields` to `action`; the Location it redirects to."""
        token = CSRF.search(self.get(page))
        if token is None:
            raise AssertionError(f"no CSRF token on {page}")
        status, location, _ = self.send("POST", action, {"csrf_token": token.group(1), **fields})
        if status != 302:
            raise AssertionError(f"POST {action}: {status}")
        return location

    def log_in(self, username: str) -> None:
        location = self.post_form("/login", "/login", {"username": username, "password": PASSWORD})
        if location.endswith("/login"):
            raise AssertionError(f"login of {username} refused")


# --- the traffic ----------------------------------------------------------------


@dataclass
class Tally:
    """What the clients did, shared between threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    reissued: dict[str, int] = field(default_factory=dict)  # ЕНП → reissues made

    def add(self, what: str, count: int = 1) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + count

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)
        note(f"  ERROR {message}")

    def reissue(self, enp: str) -> None:
        with self.lock:
            self.reissued[enp] = self.reissued.get(enp, 0) + 1
            self.counts["reissues"] = self.counts.get("reissues", 0) + 1


@dataclass(frozen=True)
class Fixture:
    tokens: list[str]  # one per clinic system; the first one for single checks
    tokens_file: str
    codes_file: str
    cookies_file: str
    own: dict[str, list[str]]  # insurer code → ЕНП of its insured in the sample
    first_code: dict[str, str]  # ЕНП → its code before the soak
    citizen: str  # a citizen's username, logging in with PASSWORD


def prepare(url: str, folder: Path, settings: Settings) -> Fixture:
    with _server.bench_app(url) as app:
        tokens = _server.clinic_tokens()
        enps, texts = registry.verification_sample(settings.people)
        insurer_of = dict(
            db.session.execute(select(Person.enp, Insurer.code).join(Insurer).where(Person.enp.in_(enps))).all()
        )
        own: dict[str, list[str]] = {code: [] for code in registry.INSURERS}
        for enp in enps:
            own[insurer_of[enp]].append(enp)
        for code in registry.INSURERS:
            accounts.create_user(f"soak-smo-{code}", PASSWORD, Role.INSURER, registry.ACTOR, insurer_code=code)
        cookies = []
        for index, enp in enumerate(enps[: settings.citizens]):
            user = accounts.create_user(f"soak-citizen-{index}", PASSWORD, Role.CITIZEN, registry.ACTOR, enp=enp)
            cookies.append(_server.session_cookie(app, user))
    return Fixture(
        tokens=tokens,
        tokens_file=_server.lines_file(folder, "tokens.txt", tokens),
        codes_file=_server.lines_file(folder, "codes.txt", texts),
        cookies_file=_server.lines_file(folder, "citizens.txt", cookies),
        own=own,
        first_code=dict(zip(enps, texts, strict=True)),
        citizen="soak-citizen-0",
    )


def until(deadline: float, tally: Tally, name: str, step: Callable[[], None], pause: float) -> None:
    """Run `step` until `deadline`; an exception is an error of this client, and it goes on."""
    while time.monotonic() < deadline:
        try:
            step()
        except Exception as error:  # every failure is reported, none stops the soak
            tally.error(f"{name}: {error}")
        time.sleep(pause)


def insurer_staff(port: int, insurer: str, people: list[str], deadline: float, tally: Tally) -> None:
    client = Client(port)
    client.log_in(f"soak-smo-{insurer}")
    rng = random.Random(insurer)

    def reissue() -> None:
        enp = rng.choice(people)
        page = f"/insurer/person/{enp}"
        location = client.post_form(page, f"{page}/reissue", {"reason": "other", "details": "нагрузочная проверка"})
        if 'class="flash ok"' not in client.get(location):
            raise AssertionError(f"reissue of a person of {insurer} not confirmed")
        tally.reissue(enp)

    until(deadline, tally, f"insurer {insurer}", reissue, 0.2)


def clinic_checks(port: int, fixture: Fixture, deadline: float, tally: Tally) -> None:
    """A reissued person's old code must answer superseded, their number valid."""
    headers = _server.verify_headers(fixture.tokens[0])

    def verdict(code: str) -> str:
        status, answer = _server.request(port, "POST", "/api/v1/verify", json.dumps({"code": code}).encode(), headers)
        if status != 200:
            raise AssertionError(f"verify answered {status}")
        return json.loads(answer)["verdict"]

    def check() -> None:
        with tally.lock:
            reissued = list(tally.reissued)
        if not reissued:
            return
        enp = random.choice(reissued)
        old, number = verdict(fixture.first_code[enp]), verdict(enp)
        if (old, number) != ("superseded", "valid"):
            raise AssertionError(f"after a reissue: old code {old}, number {number}")
        tally.add("clinic checks")

    until(deadline, tally, "clinic", check, 0.5)


def citizen_visits(port: int, username: str, deadline: float, tally: Tally) -> None:
    client = Client(port)
    client.log_in(username)

    def visit() -> None:
        for path in ("/me/", "/me/code.svg", "/me/show", "/me/live"):
            client.get(path)
        tally.add("citizen visits")

    until(deadline, tally, "citizen", visit, 1.0)


def memory_sampler(server: Server, deadline: float, samples: list[tuple[float, dict[int, float]]]) -> None:
    started = time.monotonic()
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - started, {pid: _server.rss_mib(pid) for pid in server.workers()}))
        time.sleep(SAMPLE_EVERY)
    samples.append((time.monotonic() - started, {pid: _server.rss_mib(pid) for pid in server.workers()}))


def start_wrk(server: Server, script: str, args: list[str], seconds: float, connections: int, pause_ms: int) -> Any:
    """wrk in a thread (it blocks until its duration is over); the result lands in the returned list."""
    found: list[_server.WrkResult | Exception] = []

    def run() -> None:
        try:
            found.append(_server.wrk(server, script, args, seconds, connections, pause_ms=pause_ms))
        except Exception as error:  # reported with the other errors
            found.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, found


# --- the run --------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float
    tally: Tally
    wrk: dict[str, _server.WrkResult]
    samples: list[tuple[float, dict[int, float]]]
    log_problems: list[str]
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.tally.errors and not self.log_problems and all(ok for _, ok, _ in self.checks)


def soak(server: Server, fixture: Fixture, settings: Settings) -> Outcome:
    seconds = settings.minutes * 60
    started = time.monotonic()
    deadline = started + seconds
    tally = Tally()
    samples: list[tuple[float, dict[int, float]]] = []
    loads = {
        "verify": start_wrk(
            server,
            "verify.lua",
            ["/api/v1/verify", fixture.codes_file, fixture.tokens_file],
            seconds,
            VERIFY_CONNECTIONS,
            VERIFY_PAUSE_MS,
        ),
        "QR images": start_wrk(
            server, "get.lua", ["/me/code.svg", fixture.cookies_file], seconds, QR_CONNECTIONS, QR_PAUSE_MS
        ),
    }
    clients = [
        threading.Thread(target=memory_sampler, args=(server, deadline, samples)),
        threading.Thread(target=clinic_checks, args=(server.port, fixture, deadline, tally)),
        threading.Thread(target=citizen_visits, args=(server.port, fixture.citizen, deadline, tally)),
        *(
            threading.Thread(target=insurer_staff, args=(server.port, code, people, deadline, tally))
            for code, people in fixture.own.items()
        ),
    ]
    for thread in clients:
        thread.daemon = True
        thread.start()
    while time.monotonic() < deadline:
        time.sleep(min(60.0, max(0.1, deadline - time.monotonic())))
        elapsed = time.monotonic() - started
        note(f"  {elapsed / 60:.1f} min: {dict(sorted(tally.counts.items()))}, errors {len(tally.errors)}")
    for thread in clients:
        thread.join(timeout=60)
    results: dict[str, _server.WrkResult] = {}
    for name, (thread, found) in loads.items():
        thread.join(timeout=90)
        if not found or isinstance(found[0], Exception):
            tally.error(f"wrk {name}: {found[0] if found else 'did not finish'}")
            continue
        results[name] = found[0]
        if found[0].errors:
            tally.error(f"wrk {name}: {found[0].errors} errors")
    return Outcome(time.monotonic() - started, tally, results, samples, [])


def log_problems(log: Path) -> list[str]:
    """Tracebacks, worker timeouts or restarts in gunicorn's log."""
    words = ("Traceback", "WORKER TIMEOUT", "Worker exiting", "Booting worker", "[ERROR]", "[CRITICAL]")
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if any(word in line for word in words)]


def memory_check(outcome: Outcome) -> tuple[bool, str]:
    samples = outcome.samples
    pids = [sorted(sample) for _, sample in samples]
    if any(p != pids[0] for p in pids):
        return False, f"the workers changed during the run: {pids[0]} → {pids[-1]}"
    start_at = next(t for t, _ in samples if t >= WARM_UP_SHARE * outcome.seconds)
    start = next(sample for t, sample in samples if t == start_at)
    end = samples[-1][1]
    peak = {pid: max(sample[pid] for _, sample in samples) for pid in pids[0]}
    worst = max((end[pid] - start[pid]) / start[pid] for pid in pids[0])
    detail = "; ".join(
        f"worker {pid}: {start[pid]:.1f} MiB at {start_at / 60:.1f} min → {end[pid]:.1f} MiB at the end, "
        f"max {peak[pid]:.1f} MiB (at first sample {samples[0][1][pid]:.1f})"
        for pid in pids[0]
    )
    return worst <= GOAL_MEMORY_GROWTH, f"growth {worst:+.1%} (goal ≤ {GOAL_MEMORY_GROWTH:.0%}); {detail}"


def registry_checks(url: str, outcome: Outcome) -> list[tuple[str, bool, str]]:
    reissued = outcome.tally.reissued
    made = sum(reissued.values())
    checks = []
    with _server.bench_app(url):
        persons = db.session.scalar(select(func.count(Person.id)))
        current = db.session.scalar(select(func.count(IssuedCode.id)).where(IssuedCode.status == CodeStatus.CURRENT))
        checks.append(("one current code per person", persons == current, f"{persons:,} persons, {current:,} current"))
        superseded = db.session.scalar(
            select(func.count(IssuedCode.id)).where(IssuedCode.status == CodeStatus.SUPERSEDED)
        )
        checks.append(("superseded codes = reissues made", superseded == made, f"{superseded} vs {made}"))
        events = db.session.scalar(
            select(func.count(RevocationEvent.id)).where(RevocationEvent.status == CodeStatus.SUPERSEDED)
        )
        checks.append(("revocation events = reissues made", events == made, f"{events} vs {made}"))
        audited = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reissue"))
        checks.append(("audit entries 'reissue' = reissues made", audited == made, f"{audited} vs {made}"))
        serials = dict(
            db.session.execute(
                select(Person.enp, func.max(IssuedCode.serial))
                .join(IssuedCode, IssuedCode.person_id == Person.id)
                .where(Person.enp.in_(list(reissued)))
                .group_by(Person.enp)
            ).all()
        )
        wrong = [enp for enp, count in reissued.items() if serials.get(enp) != count + 1]
        checks.append(("each reissued person's serial = 1 + their reissues", not wrong, f"{len(wrong)} differ"))
    audit = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "webapp", "audit", "verify"],
        cwd=_server.ROOT,
        env=_server.server_env(url),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    said = (audit.stdout + audit.stderr).strip().splitlines()
    checks.append(("flask --app webapp audit verify", audit.returncode == 0, said[-1] if said else ""))
    return checks


def report(outcome: Outcome, engine: str, settings: Settings) -> None:
    print(f"\n== soak: {engine}, {settings.people:,} persons, {outcome.seconds / 60:.1f} min, gunicorn 2 workers ==")
    print(f"{'traffic':<34} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
    for name, run in outcome.wrk.items():
        print(
            f"{'wrk ' + name:<34} {run.requests:>9,} {run.rate:>7.0f} {run.p50_ms:>7.1f} {run.p99_ms:>7.1f} "
            f"{run.errors:>7}"
        )
    for name, count in sorted(outcome.tally.counts.items()):
        print(f"{name:<34} {count:>9,}")
    print(f"client errors: {len(outcome.tally.errors)}")
    for message in outcome.tally.errors[:10]:
        print(f"  {message}")
    print(f"gunicorn log problems: {len(outcome.log_problems)}")
    for line in outcome.log_problems[:10]:
        print(f"  {line}")
    print(f"\n{'memory (RSS) by minute':<24}" + "".join(f"{'worker ' + str(pid):>16}" for pid in outcome.samples[0][1]))
    shown = -1
    for at, sample in outcome.samples:
        if int(at // 60) > shown or (at, sample) == outcome.samples[-1]:
            shown = int(at // 60)
            print(f"{at / 60:>6.1f} min{'':<14}" + "".join(f"{rss:>12.1f} MiB" for rss in sample.values()))
    print()
    for name, ok, detail in outcome.checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    print(f"\nsoak {'PASS' if outcome.ok else 'FAIL'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, help="how long the traffic runs (default 10; 1 with --quick)")
    parser.add_argument("--engine", choices=_server.ENGINES, help="default: postgresql if it answers, else sqlite")
    parser.add_argument("--quick", action="store_true", help="20,000 persons and 1 minute: a smoke run")
    args = parser.parse_args(argv)
    minutes = args.minutes or (1.0 if args.quick else 10.0)
    if minutes <= 0:
        parser.error("--minutes must be positive")
    settings = Settings(20_000, minutes, 50) if args.quick else Settings(1_000_000, minutes, 500)
    engine = args.engine or ("postgresql" if _server.postgres_unreachable() is None else "sqlite")
    _server.require_wrk()
    _server.stop_on_sigterm()
    print(_server.machine())
    with (
        tempfile.TemporaryDirectory(prefix="oms_soak_") as folder,
        _server.working_copy(engine, settings.people) as url,
    ):
        note(f"{engine}: {_server.CLINIC_SYSTEMS} clinic tokens, insurer staff, {settings.citizens} citizens")
        fixture = prepare(url, Path(folder), settings)
        with _server.gunicorn("_wsgi:real()", url, log_folder=Path(folder)) as server:
            note(f"{engine}: {settings.minutes:g} min of mixed traffic")
            outcome = soak(server, fixture, settings)
        outcome.log_problems = log_problems(server.log)
        ok, detail = memory_check(outcome)
        outcome.checks.append(("worker memory flat", ok, detail))
        note(f"{engine}: checking the registry and the audit chain")
        outcome.checks += registry_checks(url, outcome)
    report(outcome, engine, settings)
    print(Path("/proc/loadavg").read_text().split()[:3], "load average at the end")
    sys.exit(0 if outcome.ok else 1)


if __name__ == "__main__":
    main()
