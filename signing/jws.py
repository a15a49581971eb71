"""Compact JWS (RFC 7515) with ES256: how the registry signs documents it publishes.

Trust lists and revocation lists are JSON; a JWS carries the exact bytes that
were signed, so a verifier needs no JSON canonicalisation and a browser can
check it with WebCrypto alone. It is read strictly, as static/js/clinic-offline.js
reads it: base64url with no padding, and JSON as a browser's JSON.parse takes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from signing.errors import BadMessage, SigningError, UnknownKeyId
from signing.keys import PublicKey, SigningKey
from signing.trust_list import JWS_ALG, b64url, b64url_decode


@dataclass(frozen=True)
class CompactJws:
    """A compact JWS taken apart, its signature not yet checked."""

    kid: bytes
    signing_input: bytes
    signature: bytes
    payload: bytes


def sign_compact(payload: bytes, key: SigningKey) -> str:
    header = b64url(json.dumps({"alg": JWS_ALG, "kid": b64url(key.kid)}, separators=(",", ":")).encode())
    body = b64url(payload)
    signature = key.sign(f"{header}.{body}".encode("ascii"))
    return f"{header}.{body}.{b64url(signature)}"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_json(data: bytes) -> Any:
    """JSON as JSON.parse reads it: UTF-8 with no byte order mark, and no NaN or Infinity."""
    return json.loads(data.decode("utf-8"), parse_constant=_no_constant)


def parse_compact(token: Any) -> CompactJws:
    """A compact JWS of ES256 with a kid in its header; `BadMessage` for anything else."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise BadMessage("a compact JWS has three parts")
    try:
        header = loads_json(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except (SigningError, ValueError, RecursionError) as error:  # bad base64 or JSON, or JSON nested too deep
        raise BadMessage("the JWS does not parse") from error
    if not isinstance(header, dict) or header.get("alg") != JWS_ALG or not isinstance(header.get("kid"), str):
        raise BadMessage("only ES256 with a kid is accepted")
    try:
        kid = b64url_decode(header["kid"])
    except SigningError as error:
        raise BadMessage("the kid is not base64url") from error
    return CompactJws(kid, f"{parts[0]}.{parts[1]}".encode("ascii"), signature, payload)


def verify_compact(token: str, keys: dict[bytes, PublicKey]) -> bytes:
    """The signed payload; `BadMessage`, `UnknownKeyId` or `BadSignature` otherwise."""
    jws = parse_compact(token)
    key = keys.get(jws.kid)
    if key is None:
        raise UnknownKeyId(jws.kid)
    key.verify(jws.signature, jws.signing_input)
    return jws.payload
