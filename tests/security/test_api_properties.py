"""Properties of POST /api/v1/verify (Hypothesis): no body yields a 5xx, and nothing but the genuine code is valid.

Schemathesis (tests/webapp/test_api.py) drives the documented schema; these go off it: arbitrary JSON,
arbitrary bytes, and the genuine code cut and spliced with arbitrary text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_codes import normalise_scanned
from tests.helpers.registry import person_data, register
from webapp.registry import accounts

ENP = str(person_data().enp)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


class Api:
    def __init__(self, app: Flask) -> None:
        app.config["API_VERIFY_RATE_LIMIT"] = "100000 per minute"
        self.client: FlaskClient = app.test_client()
        self.token = accounts.create_token("GP-001", "hypothesis", "test")[1]
        self.genuine = register(at=datetime.now(UTC)).text

    def post(self, data: bytes, content_type: str = "application/json") -> tuple[int, dict]:
        response = self.client.post(
            "/api/v1/verify",
            data=data,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        return response.status_code, response.get_json(silent=True) or {}

    def verify(self, code: str) -> tuple[int, dict]:
        return self.post(json.dumps({"code": code}).encode())

    def is_genuine(self, code: str) -> bool:
        """The genuine code as a scanner may deliver it, or the person's number typed in."""
        scanned = normalise_scanned(code)
        return scanned == normalise_scanned(self.genuine) or scanned.replace(" ", "") == ENP


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite only: these properties are about reading requests, which no database changes.

    The forgery corpus (test_forgery_layers.py) runs on both databases.
    """
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def api(registry: Flask) -> Api:
    api = Api(registry)
    for code in (api.genuine, api.genuine.lower() + "\r\n", ENP):  # the properties could not fail if nothing were valid
        status, body = api.verify(code)
        assert (status, body["verdict"]) == (200, "valid")
    return api


def assert_sound(api: Api, status: int, body: dict, code: object = None) -> None:
    assert status < 500, body
    assert status in (200, 400, 413), status
    if status == 200 and body["verdict"] == "valid":
        assert isinstance(code, str)
        assert api.is_genuine(code), code


def test_arbitrary_bodies(api: Api) -> None:
    @SETTINGS
    @given(document=json_values | st.fixed_dictionaries({"code": json_values}, optional={"x": json_values}))
    def json_body(document: object) -> None:
        status, body = api.post(json.dumps(document).encode())
        code = document.get("code") if isinstance(document, dict) else None
        assert_sound(api, status, body, code)

    @SETTINGS
    @given(data=st.binary(max_size=400), content_type=st.sampled_from(["application/json", "text/plain", ""]))
    def any_bytes(data: bytes, content_type: str) -> None:
        status, body = api.post(data, content_type)
        assert_sound(api, status, body)

    json_body()
    any_bytes()


def test_arbitrary_strings_as_the_code(api: Api) -> None:
    """Any text, and the genuine code cut and spliced with any text: valid only if it still is the genuine code."""

    @SETTINGS
    @given(code=st.text(max_size=300) | st.text(alphabet=st.characters(codec="ascii"), max_size=300))
    def any_text(code: str) -> None:
        status, body = api.verify(code)
        assert_sound(api, status, body, code)

    @SETTINGS
    @given(start=st.integers(0, len(api.genuine)), cut=st.integers(0, 8), insert=st.text(max_size=8))
    def spliced(start: int, cut: int, insert: str) -> None:
        code = api.genuine[:start] + insert + api.genuine[start + cut :]
        status, body = api.verify(code)
        assert_sound(api, status, body, code)

    any_text()
    spliced()


HOSTILE_JSON = [
    b"[" * 5000,
    b'{"code": ' + b"[" * 4000 + b"]" * 4000 + b"}",
    b'{"code": "' + b"\\ud800" + b'"}',
    b'{"code": "OMS1:", "code": {"a": 1}}',
    b'{"code": 1e999999}',
    b"\xef\xbb\xbf" + b'{"code": "x"}',
    json.dumps({"code": "9" * 400_000}).encode()[:8000],
]


def test_hostile_json(api: Api) -> None:
    """Nesting past the parser's recursion limit once made a 500."""
    for data in HOSTILE_JSON:
        status, body = api.post(data)
        assert_sound(api, status, body)
