"""The offline verifier: lists downloaded from the API, checked against the pinned registry key."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from policy_codes import Verdict
from policy_codes.offline import BadList, OfflineVerifier
from policy_codes.offline_cli import main as omscode
from signing import TrustList
from tests.helpers.registry import person_data, register
from webapp.registry import lifecycle
from webapp.registry.keys import keystore, publication

ENP = str(person_data().enp)


def registry_keys() -> list:
    publication.registry_key()
    return [key for key in keystore.trust_list() if key.owner == "registry"]


def download(client: FlaskClient, since: int | None = None) -> tuple[dict, dict]:
    trust = client.get("/api/v1/trust-list").get_json()
    revocations = client.get("/api/v1/revocations" + (f"?since={since}" if since is not None else "")).get_json()
    return trust, revocations


def test_valid_before_and_revoked_after_refreshing_the_lists(registry: Flask) -> None:
    client = registry.test_client()
    moment = datetime.now(UTC)
    code = register(at=moment).text
    trust, revocations = download(client)
    verifier = OfflineVerifier(trust, [revocations], registry_keys())
    result = verifier.verify(code)
    assert result.verdict is Verdict.VALID
    assert result.holder_name == "Иванова Мария Петровна"
    assert result.trust_list_age < timedelta(minutes=1)
    assert not result.stale

    lifecycle.revoke(ENP, "smo", "телефон украден", now=moment)
    assert verifier.verify(code).verdict is Verdict.VALID, "the old lists do not know yet"
    _, increment = download(client, since=revocations["cursor"])
    refreshed = OfflineVerifier(trust, [revocations, increment], registry_keys())
    assert refreshed.verify(code).verdict is Verdict.REVOKED
    full = OfflineVerifier(*download(client)[:1], [download(client)[1]], registry_keys())
    assert full.verify(code).verdict is Verdict.REVOKED


def test_superseded_and_stale(registry: Flask) -> None:
    client = registry.test_client()
    moment = datetime.now(UTC)
    old = register(at=moment).text
    new = lifecycle.reissue(ENP, "smo", "потерян телефон", now=moment).text
    trust, revocations = download(client)
    verifier = OfflineVerifier(trust, [revocations], registry_keys())
    assert verifier.verify(old).verdict is Verdict.SUPERSEDED
    later = verifier.verify(new, now=moment + timedelta(hours=73))
    assert later.verdict is Verdict.VALID
    assert later.stale


def tampered_trust_lists(trust: dict) -> list[dict]:
    other = copy.deepcopy(trust)
    other["jws"] = other["jws"][:-4] + ("AAAA" if not other["jws"].endswith("AAAA") else "BBBB")
    swapped = copy.deepcopy(trust)
    header, payload, signature = swapped["jws"].split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=="))
    document["keys"][0]["status"] = "active" if document["keys"][0]["status"] != "active" else "retired"
    edited = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    swapped["jws"] = f"{header}.{edited}.{signature}"
    unsigned = {key: value for key, value in trust.items() if key != "jws"}
    return [other, swapped, unsigned, {"jws": "a.b"}, []]


def test_a_tampered_trust_list_is_refused(registry: Flask) -> None:
    register(at=datetime.now(UTC))
    trust, revocations = download(registry.test_client())
    for tampered in tampered_trust_lists(trust):
        with pytest.raises(BadList):
            OfflineVerifier(tampered, [revocations], registry_keys())


def test_a_tampered_revocation_list_is_refused(registry: Flask) -> None:
    moment = datetime.now(UTC)
    register(at=moment)
    lifecycle.revoke(ENP, "smo", "украден", now=moment)
    client = registry.test_client()
    trust, revocations = download(client)
    emptied = {**revocations, "revoked": ""}
    doctored = {**revocations, "superseded": base64.b64encode(b"\x00" * 6).decode()}
    gap = download(client, since=revocations["cursor"] + 5)[1]
    for tampered in (emptied, doctored):
        with pytest.raises(BadList, match="signed hash"):
            OfflineVerifier(trust, [tampered], registry_keys())
    with pytest.raises(BadList, match="cursor"):
        OfflineVerifier(trust, [revocations, gap], registry_keys())


def test_lists_signed_by_another_key_are_refused(registry: Flask) -> None:
    register(at=datetime.now(UTC))
    trust, revocations = download(registry.test_client())
    insurer_keys = [key for key in keystore.trust_list() if key.owner == "77001"]
    with pytest.raises(BadList):
        OfflineVerifier(trust, [revocations], insurer_keys)


def test_omscode_command(registry: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = register(at=datetime.now(UTC)).text
    trust, revocations = download(registry.test_client())
    files = {}
    for name, document in (
        ("key", TrustList(registry_keys()).to_jwks()),
        ("trust", trust),
        ("revocations", revocations),
    ):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(document), encoding="utf-8")
    arguments = [
        "verify",
        "--registry-key",
        str(files["key"]),
        "--trust-list",
        str(files["trust"]),
        "--revocations",
        str(files["revocations"]),
    ]
    assert omscode([*arguments, code]) == 0
    assert "valid: Код действителен по спискам реестра от" in capsys.readouterr().out
    assert omscode([*arguments, "--lang", "en", "https://example.org"]) == 1
    assert "not_a_policy_code: This is not an OMS policy code." in capsys.readouterr().out
    files["trust"].write_text(json.dumps(tampered_trust_lists(trust)[1]), encoding="utf-8")
    assert omscode([*arguments, code]) == 2
    assert "Списки не приняты" in capsys.readouterr().err
    files["trust"].write_text("not json", encoding="utf-8")
    assert omscode([*arguments, code]) == 2


def test_omscode_in_a_terminal_that_is_not_utf8(registry: Flask, tmp_path: Path) -> None:
    """Under an ASCII locale the Cyrillic verdict ended in a UnicodeEncodeError's traceback (exit 1 for a valid
    code), and a byte that is not UTF-8 on standard input in a UnicodeDecodeError's."""
    code = register(at=datetime.now(UTC)).text
    trust, revocations = download(registry.test_client())
    arguments = []
    for option, document in (
        ("--registry-key", TrustList(registry_keys()).to_jwks()),
        ("--trust-list", trust),
        ("--revocations", revocations),
    ):
        path = tmp_path / f"{option[2:]}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        arguments += [option, str(path)]
    command = [str(Path(sys.executable).parent / "omscode"), "verify", *arguments, "--state", str(tmp_path / "state")]

    def omscode_run(text: str, stdin: bytes, encoding: str) -> subprocess.CompletedProcess[bytes]:
        environment = {**os.environ, "PYTHONIOENCODING": encoding}
        return subprocess.run([*command, text], input=stdin, env=environment, capture_output=True, check=False)

    shown = omscode_run(code, b"", "ascii")
    assert "Traceback" not in shown.stderr.decode()
    assert (shown.returncode, shown.stdout[:6]) == (0, b"valid:")
    scanned = omscode_run("-", b"\xff\xfeOMS1:\xc0", "utf-8:strict")
    assert "Traceback" not in scanned.stderr.decode()
    assert scanned.returncode == 1
    assert scanned.stdout.startswith(b"not_a_policy_code:")


def test_omscode_does_not_read_a_device_until_memory_runs_out(tmp_path: Path) -> None:
    import resource

    def capped() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    lists = ["--registry-key", "/dev/zero", "--trust-list", "/dev/zero", "--revocations", "/dev/zero"]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "omscode"), "verify", *lists, "--state", str(tmp_path / "s"), "x"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=capped,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "/dev/zero: larger than 1024 MiB" in done.stderr
