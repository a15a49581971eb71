"""static/js/format-constants.js is what policy_codes/format_constants.py writes from Python's constants.

The browser verifier takes the code format's constants from that file alone: regenerate and compare, so
a change in Python that is not regenerated (`make js-constants`) fails here, and so does a hand edit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_codes import format_constants

ROOT = Path(__file__).resolve().parent.parent
STATIC_JS = ROOT / "static" / "js"
GENERATED = ROOT / format_constants.OUTPUT
IMPORTS = re.compile(r'import\s*\{([^}]*)\}\s*from\s*"\./format-constants\.js"')
#: Strings that say what the format is: outside the generated file, static/js must not spell them out.
FORMAT_STRINGS = (
    '"OMS1:"',
    "OMS1 revocation",
    '"oms-trust-list-2"',
    '"oms-revocations-2"',
    '"registry"',
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "АБВГДЕЁЖЗИЙКЛМНОП",
    "QWERTYUIOP",
    "ЙЦУКЕН",
)


def _browser_modules() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in STATIC_JS.glob("*.js") if path != GENERATED}


def test_the_generated_module_is_what_python_says() -> None:
    assert GENERATED.read_text(encoding="utf-8") == format_constants.render(), (
        f"{GENERATED.relative_to(ROOT)} drifted from Python: run `make js-constants` and commit it"
    )


def test_the_check_fails_on_a_drifted_file(tmp_path: Path) -> None:
    drifted = tmp_path / "format-constants.js"
    drifted.write_text(format_constants.render().replace('"OMS1:"', '"OMS2:"'), encoding="utf-8")
    assert format_constants.main(["--check", str(drifted)]) == 1
    assert format_constants.main([str(drifted)]) == 0
    assert format_constants.main(["--check", str(drifted)]) == 0


def test_every_constant_is_imported_by_the_browser_verifier() -> None:
    imported = {
        name.strip().split(" as ")[0]
        for text in _browser_modules().values()
        for names in IMPORTS.findall(text)
        for name in names.split(",")
        if name.strip()
    }
    exported = {constant.name for constant in format_constants.constants()}
    assert exported - imported == set(), "exported for nothing: drop it from format_constants.constants()"
    assert imported - exported == set(), "imported but not exported"


@pytest.mark.parametrize("literal", FORMAT_STRINGS)
def test_no_browser_module_copies_the_format(literal: str) -> None:
    copies = [name for name, text in _browser_modules().items() if literal in text]
    assert copies == [], f"{literal} is copied by hand; import it from format-constants.js"


def test_values_keep_their_javascript_types() -> None:
    text = format_constants.render()
    assert "export const CURVE_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;" in text
    assert 'export const REVOCATION_CONTEXT = new TextEncoder().encode("OMS1 revocation 2\\u0000");' in text
    assert "export const MAX_SECONDS = 253402300799;" in text, "9999-12-31T23:59:59Z, not rounded up"
    assert "export const LIVE_CODE_LIFETIME_MS = 90000;" in text
    assert "export const STALE_AFTER_MS = 259200000;" in text
