"""Policy values, claims and the signed code format. Pure Python, no Flask.

text = encode(claims, signing_key)          # "OMS1:..."
verified = decode(text, trust_list)         # or raises a CodeError
verified.claims, error.verdict
"""

from policy_codes.claims import CodeKind, PolicyClaims, Sex
from policy_codes.codec import PREFIX, VerifiedCode, decode, encode, normalise_scanned
from policy_codes.enp import Enp
from policy_codes.errors import (
    CodeError,
    CodeExpired,
    ForgedCode,
    InvalidValue,
    KeyCompromised,
    MalformedCode,
    NotAPolicyCode,
    UnknownKey,
)
from policy_codes.legacy import LegacyPolicy, looks_like_legacy, parse_legacy
from policy_codes.names import FullName
from policy_codes.snils import Snils
from policy_codes.verdicts import Verdict

__all__ = [
    "PREFIX",
    "CodeError",
    "CodeExpired",
    "CodeKind",
    "Enp",
    "ForgedCode",
    "FullName",
    "InvalidValue",
    "KeyCompromised",
    "LegacyPolicy",
    "MalformedCode",
    "NotAPolicyCode",
    "PolicyClaims",
    "Sex",
    "Snils",
    "UnknownKey",
    "Verdict",
    "VerifiedCode",
    "decode",
    "encode",
    "looks_like_legacy",
    "normalise_scanned",
    "parse_legacy",
]
