"""Verification's cost on the region-partitioned registry at 1,000,000 and at 5,000,000 persons (issue 19:
"flat within noise"), against a bare decode of the same codes in the same run.

PostgreSQL only (SQLite's tables are flat). A fresh database at the current schema gets 85 regions, one
insurer each (with its key), and 1,000,000 generated persons with a policy and a code each, written by
INSERT … SELECT generate_series into the region partitions; a sample of them gets codes signed for real. The
sample is verified through `verify_scan` (decode, the one registry read, in the code's region) and read alone
(`registry_read`); then 4,000,000 more persons are added and the same is measured again. The baseline is
`decode` of the same codes (the ES256 check and the claims), in this process.

    .venv/bin/python bench/partitions.py [--small N] [--large N] [--sample N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _server
import flask_migrate
import psycopg
import registry
from sqlalchemy import select, text

from policy_codes import Enp, decode, encode
from signing.pkcs8 import ScryptCost
from webapp import create_app
from webapp.db import prepared_reads
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import Category, CodeStatus, Person, PolicyKind, PolicyStatus
from webapp.registry import organisations, people, verification
from webapp.registry.codes import claims_for, text_hash
from webapp.registry.keys import keystore

REGIONS = [f"{number:02d}" for number in range(1, 86)]

#: Persons n in [first, last] with a policy and a code each, n's region 1 + n mod 85 and that region's insurer.
FILL = [
    """
    INSERT INTO persons (id, region_code, enp, surname, given_name, patronymic, birth_date, sex, category,
                         insurer_id)
    SELECT n, i.code_region, lpad(n::text, 16, '0'), 'Фамилия' || translate(n::text, '0123456789', 'абвгдежзик'),
           'Имя', '', date '1950-01-01' + n %% 25000,
           CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END, %(category)s, i.id
    FROM generate_series(%(first)s::integer, %(last)s::integer) AS n
    JOIN (SELECT insurers.id, regions.code AS code_region FROM insurers JOIN regions ON regions.id = insurers.region_id)
        AS i ON i.code_region = to_char(1 + n %% 85, 'FM00')
    """,
    """
    INSERT INTO policies (id, region_code, person_id, insurer_id, kind, category, valid_from, valid_to, status,
                          status_reason, created_at)
    SELECT id, region_code, id, insurer_id, %(kind)s, category, date '2026-01-01', NULL, %(active)s, '', now()
    FROM persons WHERE id BETWEEN %(first)s::integer AND %(last)s::integer
    """,
    """
    INSERT INTO issued_codes (id, region_code, person_id, policy_id, serial, kid, issued_at, status,
                              status_reason, status_changed_at, text, text_hash)
    SELECT p.id, p.region_code, p.id, p.id, 1, k.kid, now(), %(current)s, '', NULL, 'OMS1:' || p.id,
           md5(p.id::text) || md5('code' || p.id)
    FROM persons AS p JOIN signing_keys AS k ON k.insurer_id = p.insurer_id
    WHERE p.id BETWEEN %(first)s::integer AND %(last)s::integer
    """,
    "SELECT setval(pg_get_serial_sequence(t, 'id'), %(last)s::integer) FROM unnest(ARRAY['persons', 'policies', "
    "'issued_codes']) AS t",
    "ANALYZE",
]


def fill(dsn: str, first: int, last: int) -> float:
    started = time.perf_counter()
    params = {
        "first": first,
        "last": last,
        "category": str(Category.CITIZEN),
        "kind": str(PolicyKind.POLICY),
        "active": str(PolicyStatus.ACTIVE),
        "current": str(CodeStatus.CURRENT),
    }
    with psycopg.connect(dsn, autocommit=True) as connection:
        for statement in FILL:
            connection.execute(statement, params)
    return time.perf_counter() - started


def sign_sample(ids: list[int]) -> list[str]:
    """Real codes for the sampled persons, in place of their generated ones: the texts to verify. The generated
    ЕНП (the id, zero-padded) has no valid check digit: each sampled person gets one starting with 9, which no
    generated number does."""
    moment = datetime.now(UTC)
    texts = []
    for person_id in ids:
        person = db.session.scalar(select(Person).where(Person.id == person_id))
        person.enp = str(Enp.with_check_digit(f"9{person_id:014d}"))
        policy = people.open_policy(person)
        code = people.current_code(person)
        key = keystore.signing_key(policy.insurer.code, moment)
        signed = encode(claims_for(person, policy, code.serial, moment), key)
        code.text, code.text_hash, code.kid = signed, text_hash(signed), key.kid.hex()
        texts.append(signed)
    db.session.commit()
    return texts


def measure(texts: list[str]) -> dict[str, float]:
    """µs per operation, median of registry.ROUNDS passes over the sample."""
    trust_list = keystore.cached_trust_list()
    now = datetime.now(UTC)
    rows = []
    for signed in texts:
        claims = decode(signed, trust_list, now)
        region = verification._insurer_region(claims.claims.insurer_code, db.session)
        parameters = {"enp": str(claims.claims.enp), "serial": claims.claims.serial, "signer": claims.key.kid.hex()}
        rows.append((verification.registry_read(region), parameters))
    for signed in texts[:50]:
        verdict = verification.verify_scan(signed, now).verdict
        if verdict.name != "VALID":
            raise RuntimeError(f"a sampled code verified {verdict}")
    return {
        "decode": registry.per_op(lambda t: decode(t, trust_list, now), texts).median * 1e6,
        "read": registry.per_op(lambda r: prepared_reads.first_row(*r), rows).median * 1e6,
        "verify_scan": registry.per_op(lambda t: verification.verify_scan(t, now), texts).median * 1e6,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=5_000_000)
    parser.add_argument("--sample", type=int, default=registry.VERIFY_SAMPLE)
    args = parser.parse_args(argv)
    reason = _server.postgres_unreachable()
    if reason:
        raise SystemExit(f"PostgreSQL not reachable: {reason}")
    name = f"oms_bench_partitions_{os.getpid()}"
    dsn = registry.PG_ADMIN.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    config = _server.bench_config(_server.pg_url(name)) | {"SIGNING_KEY_ENCRYPTION": ScryptCost(n=2**4, r=8, p=1)}
    app = create_app(config)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            for code in REGIONS:
                organisations.create_region(code, f"Регион {code}", registry.ACTOR)
                organisations.create_insurer(f"{code}001", f"СМО {code}", registry.ACTOR, region_code=code)
            dispose_engines()
            registry.note(f"filling {args.small:,} persons")
            small_fill = fill(dsn, 1, args.small)
            sample = random.Random(19).sample(range(1, args.small + 1), args.sample)
            texts = sign_sample(sample)
            small = measure(texts)
            registry.note(f"filling {args.large - args.small:,} more persons")
            large_fill = fill(dsn, args.small + 1, args.large)
            dispose_engines()
            large = measure(texts)
            size = db.session.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    finally:
        with psycopg.connect(registry.PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(_server.machine())
    print(
        f"filled {args.small:,} in {small_fill:.0f} s, {args.large - args.small:,} more in {large_fill:.0f} s; {size}"
    )
    print(
        f"| µs per verification, median of {registry.ROUNDS} passes over {args.sample:,} codes | "
        f"{args.small:,} | {args.large:,} | {args.large:,} / {args.small:,} |"
    )
    print("| --- | ---: | ---: | ---: |")
    for key, label in (
        ("decode", "baseline: decode (ES256 check, claims)"),
        ("read", "the registry read alone (`registry_read`, one region)"),
        ("verify_scan", "verify_scan (decode + read)"),
    ):
        print(f"| {label} | {small[key]:.0f} | {large[key]:.0f} | {large[key] / small[key]:.2f} |")
    print(
        f"| verify_scan / decode | {small['verify_scan'] / small['decode']:.2f} | "
        f"{large['verify_scan'] / large['decode']:.2f} | |"
    )


if __name__ == "__main__":
    main()
