"""The app's JSON through orjson (webapp/web/json_provider.py): the same JSON Flask wrote, and the same answers to
what orjson alone would refuse."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from tests.helpers.registry import register
from webapp.registry import accounts
from webapp.web import json_provider


@pytest.fixture
def token(registry: Flask) -> str:
    return accounts.create_token("GP-001", "МИС", "test")[1]


def post_code(client: FlaskClient, token: str, body: bytes) -> tuple[int, bytes]:
    response = client.post(
        "/api/v1/verify",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return response.status_code, response.data


def test_the_answer_is_utf8_json_with_sorted_keys(registry: Flask, token: str) -> None:
    """orjson writes the letters as UTF-8 (the standard library wrote `\\u` escapes), keys sorted as before."""
    code = register().text
    status, body = post_code(registry.test_client(), token, b'{"code": "%s"}' % code.encode())
    assert status == 200
    assert "Иванова Мария Петровна".encode() in body
    assert b"\\u04" not in body
    assert body.endswith(b"}\n")
    keys = list(json_provider.loads(body))
    assert keys == sorted(keys)


def test_dates_and_integer_keys_are_written_as_flask_wrote_them(app: Flask) -> None:
    """orjson alone writes an ISO date and refuses an integer key: its options hand both to Flask's ways."""
    with app.app_context():
        assert jsonify(day=date(2026, 12, 6)).get_data(as_text=True) == '{"day":"Sun, 06 Dec 2026 00:00:00 GMT"}\n'
        assert jsonify({7: "seven"}).get_data(as_text=True) == '{"7":"seven"}\n'


def test_what_orjson_refuses_to_write_is_written_by_the_standard_library(app: Flask) -> None:
    with app.app_context():
        assert app.json.dumps({"code": "OMS1:\ud800"}) == '{"code": "OMS1:\\ud800"}'
        assert jsonify(number=2**70).get_json() == {"number": 2**70}


def test_an_escaped_lone_surrogate_gets_a_verdict_not_a_400(registry: Flask, token: str) -> None:
    """A scanned code is any JSON string, as it always was: orjson refuses `\\ud800`, the standard library reads it."""
    status, body = post_code(registry.test_client(), token, b'{"code": "OMS1:\\ud800"}')
    assert status == 200
    assert json_provider.loads(body)["verdict"] == "malformed"


def test_nesting_too_deep_is_a_400(registry: Flask, token: str) -> None:
    deep = b"[" * 4_000 + b"]" * 4_000  # deeper than either parser goes, within the API's 8 KiB
    with pytest.raises(ValueError, match="nested deeper"):
        json_provider.loads(deep)
    status, _body = post_code(registry.test_client(), token, deep)
    assert status == 400
