"""Whatever is scanned, the decoder answers with a documented error or claims."""

import contextlib

import base45
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_codes import PREFIX, CodeError, decode, parse_legacy
from policy_codes.base45 import b45decode, b45encode
from policy_codes.errors import MalformedCode
from signing import KeyRing, sign1
from tests.helpers.claims import INSURER, ISSUED_AT, KEY_START, NOW

RING = KeyRing()
KEY = RING.create(INSURER, KEY_START)
TRUST = RING.trust_list()

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.integers(-2, 12), children, max_size=12),
    max_leaves=30,
)


def decode_or_documented_error(text: str) -> None:
    with contextlib.suppress(CodeError):
        decode(text, TRUST, NOW)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    decode_or_documented_error(text)
    decode_or_documented_error(PREFIX + text)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_behind_the_prefix(data: bytes) -> None:
    decode_or_documented_error(PREFIX + base45.b45encode(data).decode())
    decode_or_documented_error(data.decode("latin-1"))


@settings(max_examples=300, deadline=None)
@given(cbor_values)
def test_arbitrary_cbor_as_the_message(value: object) -> None:
    decode_or_documented_error(PREFIX + base45.b45encode(cbor2.dumps(value)).decode())


@settings(max_examples=300, deadline=None)
@given(cbor_values)
def test_arbitrary_signed_claims(value: object) -> None:
    """Even a trusted key signing nonsense yields only a documented error."""
    message = sign1(cbor2.dumps(value), KEY, at=ISSUED_AT)
    decode_or_documented_error(PREFIX + base45.b45encode(message).decode())


def test_deeply_nested_and_oversized_cbor_is_malformed() -> None:
    nested = b"\x81" * 600 + b"\x00"
    huge_declared_length = b"\x84\x5b" + (2**62).to_bytes(8, "big")
    too_long = b"\x00" * 1000
    for message in (nested, huge_declared_length, too_long):
        with pytest.raises(MalformedCode):
            decode(PREFIX + base45.b45encode(message).decode(), TRUST, NOW)


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=130, max_size=130))
def test_arbitrary_legacy_bytes(data: bytes) -> None:
    with contextlib.suppress(MalformedCode):
        parse_legacy(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_our_base45_agrees_with_the_reference_package(data: bytes) -> None:
    text = b45encode(data)
    assert text == base45.b45encode(data).decode()
    assert b45decode(text) == data


@pytest.mark.parametrize(("text", "data"), [("BB8", b"AB"), ("%69 VD92EX0", b"Hello!!"), ("UJCLQE7W581", b"base-45")])
def test_base45_rfc_9285_examples(text: str, data: bytes) -> None:
    assert b45decode(text) == data


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=60))
def test_our_base45_decodes_any_text_as_the_reference_package_does(text: str) -> None:
    """Both decode it to the same bytes, or both refuse it (a stray character, an overflow anywhere)."""
    try:
        expected: bytes | None = base45.b45decode(text)
    except ValueError:
        expected = None
    try:
        ours: bytes | None = b45decode(text)
    except ValueError:
        ours = None
    assert ours == expected


@pytest.mark.parametrize("text", ["GGW", "ZZZZ", "A", "é", "abc", ":::", "BB8GGWBB8", "FGW:G"])
def test_bad_base45_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="Base45"):
        b45decode(text)
