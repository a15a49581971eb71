"""A code verifies with an independent COSE implementation (python-cwt)."""

import base45
import cbor2
import pytest
from cwt import COSE, COSEKey

from policy_codes import PREFIX
from signing import KeyRing
from signing.trust_list import b64url_decode

COSE_SIGN1_TAG = 18


def cwt_key_from_trust_list_entry(entry: dict[str, str]) -> COSEKey:
    """Only what the published trust list says: no object of ours crosses over."""
    return COSEKey.new(
        {
            1: 2,  # kty: EC2
            2: b64url_decode(entry["kid"]),
            3: -7,  # alg: ES256
            -1: 1,  # crv: P-256
            -2: b64url_decode(entry["x"]),
            -3: b64url_decode(entry["y"]),
        }
    )


def tagged(code_text: str) -> bytes:
    """Our codes are untagged COSE_Sign1; generic libraries want tag 18 in front."""
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, cbor2.loads(base45.b45decode(code_text[len(PREFIX) :]))))


def test_python_cwt_verifies_our_code(code_text: str, claims, keyring: KeyRing) -> None:
    (entry,) = keyring.trust_list().to_jwks()["keys"]
    payload = COSE.new().decode(tagged(code_text), cwt_key_from_trust_list_entry(entry))
    assert payload == cbor2.dumps(claims.to_wire(), canonical=True)


def test_python_cwt_rejects_an_edited_code(code_text: str, keyring: KeyRing) -> None:
    (entry,) = keyring.trust_list().to_jwks()["keys"]
    message = cbor2.loads(base45.b45decode(code_text[len(PREFIX) :]))
    message[2] = message[2].replace(b"\x02", b"\x03", 1)  # the serial
    edited = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, message))
    with pytest.raises(Exception, match=r"(?i)verif|signature"):
        COSE.new().decode(edited, cwt_key_from_trust_list_entry(entry))
