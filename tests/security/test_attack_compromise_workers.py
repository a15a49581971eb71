"""Issue 16's critical finding, as the attacker met it: a key is marked compromised while two gunicorn
workers serve, both already warm, and the thief keeps signing with their copy of it.

The operator runs `flask keys compromised KID` in another process. Neither worker is told: each must
refuse the stolen key's signatures from its very next verification, whatever it cached before. And a key
rotated by `flask keys rotate` signs no live code after its retirement, in either warm worker.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2
import requests

from policy_codes import PREFIX, CodeKind, PolicyClaims
from policy_codes.base45 import b45decode, b45encode
from signing import SigningKey, TrustList, sign1
from signing.cose import read_kid
from tests.faults.registry import Registry, prepare
from tests.faults.server import ROOT, Server, app_environment
from tests.helpers.registry import PASSPHRASE
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.registry import people
from webapp.registry.keys import keystore

#: Each forgery is sent this many times, from several threads, so that both workers answer it.
REPEATS = 12
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def claims_of(text: str) -> PolicyClaims:
    _kid, _protected, payload, _signature = read_kid(b45decode(text.removeprefix(PREFIX)))
    return PolicyClaims.from_wire(cbor2.loads(payload))


def signs(thief: SigningKey, claims: PolicyClaims) -> str:
    return PREFIX + b45encode(sign1(cbor2.dumps(claims.to_wire()), thief, at=claims.issued_at))


def cpu_seconds(pid: int) -> float:
    """A worker's user and system CPU time so far, from /proc: how a test knows that a worker served."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def verdicts(server: Server, token: str, codes: list[str]) -> Counter[str]:
    """Each code sent REPEATS times, eight at a time, so that both workers answer."""

    def one(code: str) -> str:
        answer = requests.post(
            f"{server.url}/api/v1/verify", json={"code": code}, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["verdict"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return Counter(pool.map(one, codes * REPEATS))


def codes_and_their_stolen_key(registry: Registry) -> tuple[list[str], str, SigningKey]:
    """The insured's current codes, the id of the key that signed them, and a thief's copy of that key."""
    with registry.app.app_context():
        codes = [people.current_code(people.person_by_enp(enp)).text for enp in registry.enps]  # type: ignore[union-attr]
        kid = read_kid(b45decode(codes[0].removeprefix(PREFIX)))[0].hex()
        record = keystore.record_for(kid)
        thief = SigningKey.from_encrypted_pem(
            record.encrypted_private_pem, PASSPHRASE.encode(), keystore.public_key_of(record)
        )
        db.session.remove()
        dispose_engines()
    return codes, kid, thief


def operator(database_url: str, *command: str) -> None:
    """A `flask --app webapp` command the operator runs in a process of its own, which must succeed."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", *command],
        cwd=ROOT,
        env=app_environment(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_a_key_compromised_through_the_cli_is_refused_by_every_warm_worker(served_database_url: str) -> None:
    database_url = served_database_url
    registry = prepare(database_url, people=3)
    codes, kid, thief = codes_and_their_stolen_key(registry)

    server = Server(database_url, workers=2).start()
    try:
        workers = server.wait_for_workers(exclude=0)
        before = [cpu_seconds(pid) for pid in workers]
        assert verdicts(server, registry.token, codes) == Counter({"valid": 3 * REPEATS})
        assert all(cpu_seconds(pid) > spent for pid, spent in zip(workers, before, strict=True)), "both workers warm"

        operator(database_url, "keys", "compromised", kid)
        assert server.workers_pids() == workers, "the same warm workers serve on"

        with registry.app.app_context():
            reissued = [people.current_code(people.person_by_enp(enp)).text for enp in registry.enps]  # type: ignore[union-attr]
            db.session.remove()
            dispose_engines()
        moment = datetime.now(UTC).replace(microsecond=0)
        forgeries = []
        for text in reissued:
            claims = claims_of(text)
            forgeries.append(signs(thief, replace(claims, issued_at=moment)))  # the new serial, the stolen key
            forgeries.append(
                signs(
                    thief,
                    replace(claims, kind=CodeKind.LIVE, issued_at=moment, expires_at=moment + timedelta(seconds=90)),
                )
            )
        forgeries += [signs(thief, claims_of(text)) for text in codes]  # the old serials, signed again

        seen = verdicts(server, registry.token, forgeries)
        assert seen["valid"] == 0, seen
        assert seen == Counter({"key_compromised": len(forgeries) * REPEATS})
        assert verdicts(server, registry.token, codes) == Counter({"key_compromised": 3 * REPEATS})
        assert verdicts(server, registry.token, reissued) == Counter({"valid": 3 * REPEATS})
    finally:
        server.stop()


def test_a_key_rotated_through_the_cli_signs_no_live_code_after_its_retirement_in_any_warm_worker(
    served_database_url: str,
) -> None:
    """A copy of a key the operator rotates (not known stolen: a rotation, not a compromise) keeps what it signed
    valid, and signs no live code dated after its retirement, which a rotation stamps as it commits, one second
    on (webapp/registry/keys/keystore.py `stamp_retired_as_committed`): at that stamp, valid; a second later,
    forged, in both warm workers."""
    database_url = served_database_url
    registry = prepare(database_url, people=2)
    codes, kid, thief = codes_and_their_stolen_key(registry)

    server = Server(database_url, workers=2).start()
    try:
        workers = server.wait_for_workers(exclude=0)
        assert verdicts(server, registry.token, codes) == Counter({"valid": 2 * REPEATS})
        operator(database_url, "keys", "rotate", "--insurer", "77001")
        assert server.workers_pids() == workers, "the same warm workers serve on"
        with registry.app.app_context():
            retired_at = keystore.record_for(kid).changed_at.replace(tzinfo=UTC)
            db.session.remove()
            dispose_engines()
        time.sleep(max(0.0, (retired_at + timedelta(seconds=2) - datetime.now(UTC)).total_seconds()))

        def live(text: str, at: datetime) -> str:
            claims = replace(claims_of(text), kind=CodeKind.LIVE, issued_at=at, expires_at=at + timedelta(seconds=90))
            return signs(thief, claims)

        assert verdicts(server, registry.token, codes) == Counter({"valid": 2 * REPEATS}), "what it signed stands"
        at_the_stamp = [live(text, retired_at) for text in codes]
        assert verdicts(server, registry.token, at_the_stamp) == Counter({"valid": 2 * REPEATS})
        after = [live(text, retired_at + timedelta(seconds=1)) for text in codes]
        assert verdicts(server, registry.token, after) == Counter({"forged": 2 * REPEATS})
    finally:
        server.stop()


def insurers_keys(trust_list: TrustList) -> list[tuple[str, str]]:
    return sorted((key.kid.hex(), str(key.status)) for key in trust_list if key.owner != keystore.REGISTRY_OWNER)


def trust_lists_served(server: Server) -> Counter[str]:
    """The insurers' keys with their statuses in the trust list, as each answer gives them (both workers answer)."""

    def one(_: int) -> str:
        document = requests.get(f"{server.url}/api/v1/trust-list", timeout=30).json()
        return repr(insurers_keys(TrustList.from_jwks(document)))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return Counter(pool.map(one, range(4 * REPEATS)))


def test_a_restore_under_warm_workers_leaves_none_of_them_a_trust_list_from_before_it(tmp_path: Path) -> None:
    """SQLite is restored with the app serving (docs/operations.md). The restore winds the key changes' count
    back; a compromise right after it (two changes) brought the count to where both warm workers had cached
    the list of a rotation the restore undid: they served it, the compromised key not marked, and called the
    reissued codes `unknown_key`. The restore now moves the count past every number a worker has seen."""
    database_url = f"sqlite:///{tmp_path / 'oms.sqlite'}"
    registry = prepare(database_url, people=2)
    backup = tmp_path / "registry.backup"
    operator(database_url, "backup", "create", str(backup))
    server = Server(database_url, workers=2).start()
    try:
        server.wait_for_workers(exclude=0)
        operator(database_url, "keys", "rotate", "--insurer", "77001")  # two changes: a new key, the old retired
        assert len(trust_lists_served(server)) == 1, "both workers hold the rotated list"
        operator(database_url, "backup", "restore", "--force", str(backup))
        codes, kid, _thief = codes_and_their_stolen_key(registry)
        operator(database_url, "keys", "compromised", kid)  # two changes: the key marked, its successor made
        with registry.app.app_context():
            expected = insurers_keys(keystore.trust_list())
            reissued = [people.current_code(people.person_by_enp(enp)).text for enp in registry.enps]  # type: ignore[union-attr]
            db.session.remove()
            dispose_engines()
        assert (kid, "compromised") in expected
        assert trust_lists_served(server) == Counter({repr(expected): 4 * REPEATS})
        assert verdicts(server, registry.token, reissued) == Counter({"valid": 2 * REPEATS})
        assert verdicts(server, registry.token, codes) == Counter({"key_compromised": 2 * REPEATS})
    finally:
        server.stop()
