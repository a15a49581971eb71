"""Signed codes: throughput against raw ES256, and the QR versions real holders get.

Run from the repository root: `python bench/codes.py` (or `make bench`);
`--quick` runs much smaller counts as a smoke test. Every timing is the median
of several rounds, because the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import base45
import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from policy_codes import CodeKind, Enp, PolicyClaims, Sex, decode, encode
from policy_codes.names import CODE_LENGTHS, MAX_PART_LENGTH, MAX_TOTAL_LENGTH, SYMBOLS, FullName
from policy_codes.render import code128_png, code128_svg, make_qr, qr_png, qr_svg
from policy_codes.sample_people import SamplePerson, sample_people
from signing import KeyRing, SigningKey
from signing.cose import read_kid

INSURER = "77008"
#: Characters of QR alphanumeric mode; Base45 uses exactly these.
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
TYPICAL_LETTERS = 40
GOAL_DECODE_RATIO = 2.0
GOAL_TYPICAL_VERSION = 10
GOAL_ANY_VERSION = 13


@dataclass(frozen=True)
class Settings:
    people: int
    other_kinds: int
    rounds: int
    round_seconds: float


FULL = Settings(people=20_000, other_kinds=2_000, rounds=7, round_seconds=0.25)
QUICK = Settings(people=1_000, other_kinds=200, rounds=3, round_seconds=0.03)


# --- claims -----------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    """One insurer key, its trust list and the moment codes are issued."""

    key: SigningKey
    ring: KeyRing
    now: datetime
    today: date


def make_scene() -> Scene:
    now = datetime.now(UTC).replace(microsecond=0)
    ring = KeyRing()
    key = ring.create(INSURER, not_before=now - timedelta(days=30))
    return Scene(key=key, ring=ring, now=now, today=now.date())


def claims_for(person: SamplePerson, scene: Scene, kind: CodeKind = CodeKind.POLICY) -> PolicyClaims:
    valid_from = scene.today - timedelta(days=10)
    valid_to = None
    expires_at = None
    if kind is CodeKind.TEMPORARY_CERTIFICATE:
        valid_from = scene.today
        valid_to = scene.today + timedelta(days=45)
    elif kind is CodeKind.LIVE:
        expires_at = scene.now + timedelta(seconds=90)
    return PolicyClaims(
        enp=person.enp,
        serial=1,
        kind=kind,
        insurer_code=INSURER,
        name=person.name,
        birth_date=person.birth_date,
        sex=Sex.MALE if person.sex == "M" else Sex.FEMALE,
        valid_from=valid_from,
        valid_to=valid_to,
        issued_at=scene.now,
        expires_at=expires_at,
    )


# --- throughput -------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    name: str
    median: float  # seconds per op, median round
    fastest: float
    slowest: float
    ops_per_round: int


def measure(name: str, op: Callable[[int], object], settings: Settings) -> Timing:
    """Median of `settings.rounds` rounds, each about `round_seconds` long."""
    count, elapsed = 1, 0.0
    while elapsed < settings.round_seconds / 10:  # calibrate (doubles as warm-up)
        count *= 2
        elapsed = _run(op, count)
    per_round = max(3, round(count * settings.round_seconds / elapsed))
    per_op = [_run(op, per_round) / per_round for _ in range(settings.rounds)]
    return Timing(name, statistics.median(per_op), min(per_op), max(per_op), per_round)


def _run(op: Callable[[int], object], count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        op(i)
    return time.perf_counter() - start


def throughput(people: Sequence[SamplePerson], scene: Scene, settings: Settings) -> list[Timing]:
    pool = list(people[:256])
    texts = [encode(claims_for(person, scene), scene.key) for person in pool]
    trust_list = scene.ring.trust_list()
    # The raw baseline signs and verifies the very bytes the codes sign (the COSE Sig_structure).
    messages = [_signed_bytes(text) for text in texts]
    private_key = scene.key.private_key
    public_key = private_key.public_key()
    sign_algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)  # as signing.keys signs
    verify_algorithm = ec.ECDSA(hashes.SHA256())
    signatures = [private_key.sign(message, sign_algorithm) for message in messages]
    n = len(pool)
    print(
        f"{n} distinct codes, {len(texts[0])}–{max(map(len, texts))} characters; "
        f"raw messages {min(map(len, messages))}–{max(map(len, messages))} bytes\n"
    )
    ops: list[tuple[str, Callable[[int], object]]] = [
        (
            "raw ES256 verify",
            lambda i: public_key.verify(signatures[i % n], messages[i % n], verify_algorithm),
        ),
        ("raw ES256 sign", lambda i: private_key.sign(messages[i % n], sign_algorithm)),
        ("encode (claims+sign)", lambda i: encode(claims_for(pool[i % n], scene), scene.key)),
        ("decode+verify", lambda i: decode(texts[i % n], trust_list)),
        ("QR matrix (make_qr)", lambda i: make_qr(texts[i % n])),
        ("QR PNG", lambda i: qr_png(texts[i % n])),
        ("QR SVG", lambda i: qr_svg(texts[i % n])),
        ("Code128 PNG", lambda i: code128_png(pool[i % n].enp)),
        ("Code128 SVG", lambda i: code128_svg(pool[i % n].enp)),
    ]
    return [measure(name, op, settings) for name, op in ops]


def _signed_bytes(text: str) -> bytes:
    _, protected, payload, _ = read_kid(base45.b45decode(text.removeprefix("OMS1:")))
    return cbor2.dumps(["Signature1", protected, b"", payload])


def print_throughput(timings: list[Timing]) -> None:
    by_name = {timing.name: timing for timing in timings}
    verify = by_name["raw ES256 verify"].median
    print(
        f"{'operation':<22} {'median µs/op':>13} {'ops/s':>9} {'× raw verify':>13} "
        f"{'rounds min–max µs':>19} {'ops/round':>10}"
    )
    for t in timings:
        spread = f"{t.fastest * 1e6:.0f}–{t.slowest * 1e6:.0f}"
        print(
            f"{t.name:<22} {t.median * 1e6:>13.1f} {1 / t.median:>9,.0f} {t.median / verify:>13.2f} "
            f"{spread:>19} {t.ops_per_round:>10}"
        )
    ratio = by_name["decode+verify"].median / verify
    verdict = "PASS" if ratio <= GOAL_DECODE_RATIO else "MISS"
    print(f"\ngoal decode+verify ≤ {GOAL_DECODE_RATIO:g}× raw verify: {ratio:.2f}× {verdict}")
    sign_ratio = by_name["encode (claims+sign)"].median / by_name["raw ES256 sign"].median
    print(f"encode / raw sign: {sign_ratio:.2f}× (no goal)")


# --- QR versions ------------------------------------------------------------


class QrVersions:
    """`make_qr(text).version`, remembered by length.

    make_qr spends most of its time choosing a mask. All-alphanumeric text is
    one alphanumeric segment in segno, so its version depends on length alone.
    """

    def __init__(self) -> None:
        self._by_length: dict[int, int] = {}

    def __call__(self, text: str) -> int:
        if not set(text) <= QR_ALPHANUMERIC:
            return make_qr(text).version
        if len(text) not in self._by_length:
            self._by_length[len(text)] = make_qr(text).version
        return self._by_length[len(text)]


@dataclass(frozen=True)
class Sized:
    letters: int
    length: int
    version: int


def sizes(people: Sequence[SamplePerson], scene: Scene, kind: CodeKind, versions: QrVersions) -> list[Sized]:
    result = []
    for person in people:
        text = encode(claims_for(person, scene, kind), scene.key)
        result.append(Sized(person.name.letter_count(), len(text), versions(text)))
    return result


def print_versions(title: str, samples: list[Sized]) -> None:
    groups = {
        f"≤ {TYPICAL_LETTERS} letters": [s for s in samples if s.letters <= TYPICAL_LETTERS],
        f"> {TYPICAL_LETTERS} letters": [s for s in samples if s.letters > TYPICAL_LETTERS],
    }
    counts = {label: Counter(s.version for s in group) for label, group in groups.items()}
    print(f"\n{title}: {len(samples):,} codes")
    print(f"{'QR version (Q)':<16}" + "".join(f"{label:>24}" for label in groups))
    for version in sorted({s.version for s in samples}):
        cells = ""
        for label, group in groups.items():
            count = counts[label][version]
            share = 100 * count / len(group) if group else 0.0
            cells += f"{count:>14,} {share:>8.2f}%"
        print(f"{version:<16}{cells}")
    rows: list[tuple[str, Callable[[list[Sized]], object]]] = [
        ("holders", lambda g: f"{len(g):,}"),
        ("median length", lambda g: f"{statistics.median(s.length for s in g):g}"),
        ("max length", lambda g: max(s.length for s in g)),
        ("max version", lambda g: max(s.version for s in g)),
    ]
    for row, value in rows:
        print(f"{row:<16}" + "".join(f"{value(g) if g else '–':>24}" for g in groups.values()))


def worst_case_text(scene: Scene) -> str:
    """The longest code a valid holder can get.

    100 letters of the costliest code word, and every other claim at its widest.
    """
    letter = max(
        (symbol for symbol in SYMBOLS if symbol.isalpha() and len(symbol) == 1),
        key=lambda symbol: CODE_LENGTHS[SYMBOLS.index(symbol)],
    )
    rest = MAX_TOTAL_LENGTH - 2 * MAX_PART_LENGTH
    name = FullName(letter * MAX_PART_LENGTH, letter * MAX_PART_LENGTH, letter * rest)
    widest = PolicyClaims(
        enp=Enp.with_check_digit("9" * 15),  # any ЕНП ≥ 2**32 is as wide in CBOR
        serial=2**32 - 1,
        kind=CodeKind.LIVE,
        insurer_code=INSURER,
        name=name,
        birth_date=date(1900, 1, 1),
        sex=Sex.FEMALE,
        valid_from=scene.today,
        valid_to=scene.today + timedelta(days=365),
        issued_at=scene.now,
        expires_at=scene.now + timedelta(seconds=90),
    )
    return encode(widest, scene.key)


def check_memo(texts: list[str], versions: QrVersions) -> None:
    """Spot-check the memo against make_qr itself on a few codes of every length."""
    for text in texts:
        assert make_qr(text).version == versions(text), text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="much smaller counts, for a smoke test")
    settings = QUICK if parser.parse_args(argv).quick else FULL
    started = time.perf_counter()
    scene = make_scene()
    people = list(sample_people(settings.people))
    print(f"Python {sys.version.split()[0]}, {settings.rounds} rounds of ~{settings.round_seconds}s each\n")

    print_throughput(throughput(people, scene, settings))

    versions = QrVersions()
    policies = sizes(people, scene, CodeKind.POLICY, versions)
    print_versions("Policies (kind POLICY, no end date)", policies)
    others = people[: settings.other_kinds]
    temporary = sizes(others, scene, CodeKind.TEMPORARY_CERTIFICATE, versions)
    print_versions("Temporary certificates (valid 45 days)", temporary)
    live = sizes(others, scene, CodeKind.LIVE, versions)
    print_versions("Live codes (expire after 90 s)", live)

    spot = people[:: max(1, len(people) // 20)]
    check_memo([encode(claims_for(person, scene), scene.key) for person in spot], versions)
    worst = worst_case_text(scene)
    worst_version = make_qr(worst).version

    print(f"\ngoal typical holder (≤ {TYPICAL_LETTERS} letters) at version ≤ {GOAL_TYPICAL_VERSION}:")
    for kind, samples in (("policies", policies), ("temporary", temporary), ("live", live)):
        typical = [s for s in samples if s.letters <= TYPICAL_LETTERS]
        share = sum(s.version <= GOAL_TYPICAL_VERSION for s in typical) / len(typical)
        print(f"  {kind:<10} {100 * share:>7.2f}% {'PASS' if share == 1 else 'MISS'}")
    sample_max = max(s.version for s in policies + temporary + live)
    any_ok = max(sample_max, worst_version) <= GOAL_ANY_VERSION
    print(
        f"goal any valid holder at version ≤ {GOAL_ANY_VERSION}: sample max {sample_max}, "
        f"constructed worst case {worst_version} ({len(worst)} characters) {'PASS' if any_ok else 'MISS'}"
    )
    print(f"\ntotal {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
