"""`omscode`: verify a code on a clinic's own machine, with no network.

    omscode verify --registry-key registry.jwks --trust-list trust-list.json \\
                   --revocations revocations.json [--revocations increment.json ...] TEXT

TEXT is the scanned code, or `-` to read it from standard input. The lists are
believed only by the rule of docs/code-format.md ("Published lists"): signed by a
pinned registry key that is not compromised, inside that key's window.
Exit status: 0 valid, 1 any other verdict, 2 unusable input or lists.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from policy_codes.offline import OfflineVerifier
from policy_codes.published_lists import BadList, ListRefusal, read_pin
from policy_codes.verdicts import Verdict

REFUSED = {"ru": "Списки не приняты", "en": "Lists refused"}


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f} ч"


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:  # RecursionError: JSON nested too deep
        raise BadList(ListRefusal.MALFORMED, f"{path}: {error}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omscode", description="Проверка кода полиса ОМС без сети.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="проверить код")
    verify.add_argument("--registry-key", type=Path, required=True, help="JWKS ключа реестра (закреплён при установке)")
    verify.add_argument("--trust-list", type=Path, required=True, help="список доверенных ключей (JSON)")
    verify.add_argument("--revocations", type=Path, action="append", required=True, help="список отзыва (JSON)")
    verify.add_argument("--lang", choices=["ru", "en"], default="ru")
    verify.add_argument("text", help="текст кода или - для чтения из stdin")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        registry_keys = read_pin(_load(args.registry_key))
        verifier = OfflineVerifier(_load(args.trust_list), [_load(path) for path in args.revocations], registry_keys)
    except BadList as error:
        detail = f" ({error.detail})" if error.detail else ""
        print(f"{REFUSED[args.lang]}: {error.reason.message(args.lang)}{detail}", file=sys.stderr)
        return 2
    result = verifier.verify(text)
    print(f"{result.verdict}: {result.verdict.message(args.lang)}")
    if result.holder_name:
        print(f"{result.holder_name}, {result.birth_date}")
    print(f"Возраст списков: доверенные ключи {_hours(result.trust_list_age)}, отзыв {_hours(result.revocations_age)}")
    if result.stale:
        print("Внимание: спискам больше 72 часов, результат может быть устаревшим.", file=sys.stderr)
    return 0 if result.verdict is Verdict.VALID else 1


if __name__ == "__main__":
    sys.exit(main())
