"""The code format's and the published lists' constants, gathered for the browser verifier.

Python owns them: each stays in the module that uses it (codec, claims, names, keyboard, legacy, revocation,
published_lists, signing), and is listed here in the units the browser counts in (milliseconds, days since
1970). `render()` writes them as an ES module, static/js/format-constants.js, which static/js/clinic-offline.js
and clinic-lists.js import: nothing there is copied by hand.

An ES module rather than a JSON file both read: the verifier imports it with the other modules when the
reception page loads (no fetch to fail when the network is gone, no top-level await), a name that is not
exported fails the import at once, and big integers and byte strings keep their JavaScript types.

    python -m policy_codes.format_constants static/js/format-constants.js    (make js-constants)
    python -m policy_codes.format_constants --check static/js/format-constants.js

The file is committed (clinics serve it from closed networks; nothing is built at serve time), and
tests/test_format_constants.py fails when it is not what this module writes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from policy_codes import base45, claims, codec, enp, keyboard, legacy, names, published_lists, revocation
from policy_codes.verdicts import Verdict
from signing import cose, keys, trust_list

#: Where the browser verifier finds the generated module, from the repository's root.
OUTPUT = Path("static/js/format-constants.js")
_MAX_SAFE_INTEGER = 2**53 - 1
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class Constant:
    name: str
    value: object
    #: Where Python keeps it, and what it is: the generated file's comment.
    about: str


def _ms(span: timedelta) -> int:
    return span // timedelta(milliseconds=1)


def _members(enum: type) -> dict[str, object]:
    return {member.name: member.value for member in enum}


def constants() -> list[Constant]:
    """Every constant the browser verifier needs, in the order of docs/code-format.md."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [
        # The code text
        Constant("PREFIX", codec.PREFIX, "policy_codes/codec.py PREFIX: what every code of this format starts with"),
        Constant(
            "FORMAT_NAME", codec.FORMAT_NAME, "policy_codes/codec.py: `OMS`, a version's number and `:` start a code"
        ),
        Constant("MAX_TEXT_LENGTH", codec.MAX_TEXT_LENGTH, "policy_codes/codec.py: longer text is malformed"),
        Constant(
            "SCANNER_WHITESPACE",
            "".join(char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace()),
            "policy_codes/codec.py normalise_scanned: what str.strip() takes off both ends",
        ),
        Constant("KEYBOARD_LAYOUT", keyboard.LAYOUT, "policy_codes/keyboard.py LAYOUT: Russian layout → US keys"),
        Constant("CYRILLIC_BLOCK", keyboard.CYRILLIC_BLOCK, "policy_codes/keyboard.py: first and last code point"),
        Constant("BASE45_CHARSET", base45.CHARSET, "policy_codes/base45.py CHARSET: RFC 9285's alphabet"),
        Constant("ENP_LENGTH", enp.ENP_LENGTH, "policy_codes/enp.py: digits in a ЕНП"),
        # The envelope
        Constant("MAX_MESSAGE_BYTES", cose.MAX_MESSAGE_BYTES, "signing/cose.py: a longer COSE message is refused"),
        Constant("HEADER_ALG", cose.HEADER_ALG, "signing/cose.py: the protected header's alg label"),
        Constant("HEADER_KID", cose.HEADER_KID, "signing/cose.py: the protected header's kid label"),
        Constant("ALG_ES256", cose.ALG_ES256, "signing/cose.py: COSE's id of ES256"),
        Constant("KID_LENGTH", keys.KID_LENGTH, "signing/keys.py: bytes of SHA-256(SPKI) in a key id"),
        Constant("SIGNATURE_LENGTH", keys.SIGNATURE_LENGTH, "signing/keys.py: an ES256 signature, r ‖ s"),
        Constant("COORDINATE_LENGTH", keys.COORDINATE_LENGTH, "signing/keys.py: bytes of r, s, x or y"),
        Constant("CURVE_ORDER", keys.CURVE_ORDER, "signing/keys.py: n of P-256; only s ≤ n/2 is valid"),
        # The claims
        Constant("CLAIM", _members(claims.ClaimKey), "policy_codes/claims.py ClaimKey: the claims map's keys"),
        Constant("REQUIRED_CLAIMS", sorted(claims.REQUIRED_KEYS), "policy_codes/claims.py REQUIRED_KEYS: never absent"),
        Constant("CODE_KIND", _members(claims.CodeKind), "policy_codes/claims.py CodeKind: claim 3"),
        Constant("SEX", _members(claims.Sex), "policy_codes/claims.py Sex: claim 7"),
        Constant("MAX_SERIAL", claims.MAX_SERIAL, "policy_codes/claims.py: claim 2 runs from 1 to this"),
        Constant("INSURER_CODE_LENGTH", claims.INSURER_CODE_LENGTH, "policy_codes/claims.py: digits of claim 4"),
        Constant(
            "MIN_DAY", (date.min - claims.EPOCH_DAY).days, "policy_codes/claims.py: the first day a date claim holds"
        ),
        Constant(
            "MAX_DAY", (date.max - claims.EPOCH_DAY).days, "policy_codes/claims.py: the last day a date claim holds"
        ),
        Constant(
            "MAX_SECONDS",
            (datetime.max.replace(tzinfo=UTC) - epoch) // timedelta(seconds=1),
            "policy_codes/claims.py: the last second an instant claim holds (9999-12-31T23:59:59Z)",
        ),
        # The names
        Constant("NAME_SYMBOLS", names.SYMBOLS, "policy_codes/names.py SYMBOLS: in canonical order"),
        Constant("NAME_SEPARATOR", names.PART_SEPARATOR, "policy_codes/names.py: between name parts"),
        Constant("NAME_END", names.END, "policy_codes/names.py: the symbol that ends a packed name"),
        Constant("NAME_CODE_LENGTHS", names.CODE_LENGTHS, "policy_codes/names.py: bits of each symbol's code"),
        Constant(
            "MAX_NAME_PART_LENGTH",
            names.MAX_PART_LENGTH,
            "policy_codes/names.py MAX_PART_LENGTH: letters in a name part",
        ),
        Constant(
            "MAX_NAME_LENGTH", names.MAX_TOTAL_LENGTH, "policy_codes/names.py MAX_TOTAL_LENGTH: letters in a whole name"
        ),
        # Time
        Constant(
            "MOSCOW_OFFSET_MS",
            _ms(codec.MOSCOW.utcoffset(None)),
            "policy_codes/codec.py MOSCOW: policy dates are Moscow dates",
        ),
        Constant(
            "LIVE_CODE_LIFETIME_MS", _ms(codec.LIVE_CODE_LIFETIME), "policy_codes/codec.py: a live code's longest run"
        ),
        Constant(
            "CLOCK_SKEW_MS", _ms(codec.CLOCK_SKEW), "policy_codes/codec.py: how far ahead a live code may be signed"
        ),
        # The legacy paper policy
        Constant("LEGACY_LENGTH", legacy.LEGACY_LENGTH, "policy_codes/legacy.py: bytes in the 2011 barcode"),
        Constant("LEGACY_TYPES", legacy.BARCODE_TYPES, "policy_codes/legacy.py BARCODE_TYPES: its byte 0"),
        # The published lists
        Constant("REVOCATION_CONTEXT", revocation.CONTEXT, "policy_codes/revocation.py CONTEXT: hashed first"),
        Constant("DIGEST_BYTES", revocation.DIGEST_BYTES, "policy_codes/revocation.py: bytes of a digest"),
        Constant(
            "TRUST_LIST_FORMAT",
            published_lists.TRUST_LIST_FORMAT,
            "policy_codes/published_lists.py: the trust list's `format`",
        ),
        Constant(
            "REVOCATIONS_FORMAT",
            published_lists.REVOCATIONS_FORMAT,
            "policy_codes/published_lists.py: the revocation list's `format`",
        ),
        Constant(
            "REVOCATION_HEADINGS",
            list(published_lists.HEADINGS),
            "policy_codes/published_lists.py HEADINGS: the revocation list's, each a verdict; the first listing wins",
        ),
        Constant(
            "REGISTRY_OWNER", published_lists.REGISTRY_OWNER, "policy_codes/published_lists.py: who signs the lists"
        ),
        Constant(
            "MAX_CLOCK_SKEW_MS",
            _ms(published_lists.MAX_CLOCK_SKEW),
            "policy_codes/published_lists.py: how far ahead a list may be dated",
        ),
        Constant(
            "STALE_AFTER_MS",
            _ms(published_lists.STALE_AFTER),
            "policy_codes/published_lists.py STALE_AFTER: older lists get a warning",
        ),
        Constant("MAX_CURSOR", published_lists.MAX_CURSOR, "policy_codes/published_lists.py: the largest cursor"),
        Constant(
            "LIST_REFUSAL",
            _members(published_lists.ListRefusal),
            "policy_codes/published_lists.py ListRefusal: why lists are refused",
        ),
        Constant("BASE64_PATTERN", published_lists.BASE64.pattern, "policy_codes/published_lists.py BASE64, whole"),
        Constant("BASE64URL_PATTERN", trust_list.BASE64URL.pattern, "signing/trust_list.py BASE64URL, whole"),
        Constant("INSTANT_PATTERN", trust_list.INSTANT.pattern, "signing/trust_list.py INSTANT, whole"),
        Constant(
            "FIRST_INSTANT_MS",
            _ms(datetime.min.replace(tzinfo=UTC) - epoch),
            "signing/trust_list.py parse_instant: the first time a list may name",
        ),
        Constant(
            "LAST_INSTANT_MS",
            _ms(datetime.max.replace(tzinfo=UTC) - epoch),
            "signing/trust_list.py parse_instant: the last time a list may name, to the millisecond",
        ),
        Constant("JWK_KTY", trust_list.JWK_KTY, "signing/trust_list.py: the only key type"),
        Constant("JWK_CRV", trust_list.JWK_CRV, "signing/trust_list.py: the only curve"),
        Constant("JWS_ALG", trust_list.JWS_ALG, "signing/trust_list.py: the only algorithm, of keys and lists"),
        Constant("KEY_STATUS", _members(keys.KeyStatus), "signing/keys.py KeyStatus: a trust-list key's status"),
        # The verdicts
        Constant("VERDICT", _members(Verdict), "policy_codes/verdicts.py Verdict: what a scan is told"),
    ]


def _string(text: str) -> str:
    """A JavaScript string literal; what is invisible or ambiguous in source (controls, spaces but " ") escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == " " or (char.isprintable() and not char.isspace()):
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\u{{{ord(char):x}}}")
    return '"' + "".join(out) + '"'


def _js(value: object, indent: str = "") -> str:
    """`value` as a JavaScript expression: arrays and objects frozen, integers past 2^53 as BigInt.

    An object at the top (`indent` "") gets a line a member, so a change shows as one line in a diff.
    """
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if abs(value) <= _MAX_SAFE_INTEGER else f"0x{value:x}n"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bytes):
        return f"new TextEncoder().encode({_string(value.decode('ascii'))})"
    if isinstance(value, list | tuple):
        return f"Object.freeze([{', '.join(_js(item) for item in value)}])"
    if isinstance(value, dict):
        members = [
            f"{key if _IDENTIFIER.fullmatch(key) else _string(key)}: {_js(item, '  ')}" for key, item in value.items()
        ]
        if indent:
            return f"Object.freeze({{ {', '.join(members)} }})"
        return "Object.freeze({\n" + "".join(f"  {member},\n" for member in members) + "})"
    raise TypeError(f"no JavaScript form for {value!r}")


def render(items: list[Constant] | None = None) -> str:
    """The text of static/js/format-constants.js."""
    lines = [
        "// Generated from Python by `make js-constants` (python -m policy_codes.format_constants): do not edit.",
        "// Each value is the Python named beside it; change it there and regenerate. tests/test_format_constants.py",
        "// fails while this file and Python disagree.",
    ]
    for item in constants() if items is None else items:
        lines += ["", f"/** {item.about} */", f"export const {item.name} = {_js(item.value)};"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the browser verifier's constants from Python's.")
    parser.add_argument("path", nargs="?", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file differs")
    arguments = parser.parse_args(argv)
    text = render()
    if arguments.check:
        current = arguments.path.read_text(encoding="utf-8") if arguments.path.exists() else None
        if current != text:
            print(f"{arguments.path} is not what Python says: run `make js-constants`", file=sys.stderr)
            return 1
        return 0
    arguments.path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
