"""`omscode`: verify a code on a clinic's own machine, with no network.

    omscode verify --registry-key registry.jwks --trust-list trust-list.json \\
                   --revocations revocations.json [--revocations increment.json ...] \\
                   [--state PATH] [--allow-stale] [--lang ru|en] TEXT

TEXT is the scanned code, or `-` to read it from standard input. The lists are
believed only by the rule of docs/code-format.md ("Published lists"): signed by a
pinned registry key that is not compromised, inside that key's window.

omscode also refuses lists older than 72 hours (unless `--allow-stale`, which
only warns), and lists older than the newest it accepted before: a trust list
issued earlier, or a revocation list issued earlier or ending at an earlier
cursor. What it accepted is kept in a state file, `--state PATH`, by default
`$XDG_STATE_HOME/omscode/lists.json` or `~/.local/state/omscode/lists.json`.

Exit status: 0 valid, 1 any other verdict, 2 unusable input, lists or state file.
"""

from __future__ import annotations

import argparse
import gettext
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from policy_codes import list_state
from policy_codes.codec import MAX_TEXT_LENGTH
from policy_codes.offline import OfflineVerifier
from policy_codes.published_lists import STALE_AFTER, BadList, ListRefusal, read_pin, refuse_older
from policy_codes.verdicts import Verdict
from policy_codes.words import CATALOGS, N_, translate
from signing.jws import loads_json

REFUSED = N_("Списки не приняты")
BAD_STATE = N_("Файл состояния повреждён или недоступен (удалите его, чтобы начать заново)")
STALE_WARNING = N_("Внимание: спискам больше 72 часов, результат может быть устаревшим.")
AGES = N_("Возраст списков: доверенные ключи %(trust)s ч, отзыв %(revocations)s ч")


#: The largest list file omscode reads: a full revocation list of millions of events is some hundreds of MiB.
MAX_LIST_BYTES = 1024 * 2**20


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f}"


def _load(path: Path) -> Any:
    """A document from disk, read as a browser reads it from the API (UTF-8, no byte order mark, no NaN)."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_LIST_BYTES + 1)  # not /dev/zero, or a mistyped huge file, read until memory runs out
        if len(raw) > MAX_LIST_BYTES:
            raise ValueError(f"larger than {MAX_LIST_BYTES // 2**20} MiB")
        return loads_json(raw)
    except (OSError, ValueError, RecursionError) as error:  # RecursionError: JSON nested too deep
        raise BadList(ListRefusal.MALFORMED, f"{path}: {error}") from error


def _accept(args: argparse.Namespace, now: datetime) -> OfflineVerifier:
    """The verifier for the lists, once they pass the rule, their age and what was held; they are then held."""
    verifier = OfflineVerifier(
        _load(args.trust_list),
        [_load(path) for path in args.revocations],
        read_pin(_load(args.registry_key)),
        now,
    )
    state = args.state or list_state.default_path()
    refuse_older(list_state.load(state), verifier.lists)
    if verifier.lists.age(now) > STALE_AFTER and not args.allow_stale:
        raise BadList(ListRefusal.STALE)
    list_state.save(state, verifier.lists.held)
    return verifier


def _scanned_from_stdin() -> str:
    """The text on standard input, read as bytes: a scanner or a pipe may send anything, and a locale's strict
    decoder gave a UnicodeDecodeError's traceback on a byte that is not UTF-8. Such a byte reads as U+FFFD (then
    not our code), and no more is read than the longest code could take."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text stream (a test, an embedding program)
        return sys.stdin.read(MAX_TEXT_LENGTH + 1)
    return stream.read(4 * MAX_TEXT_LENGTH + 4).decode("utf-8", errors="replace")


def _never_fail_to_print() -> None:
    """A letter the terminal's encoding lacks (Cyrillic under an ASCII locale, `—` in a Windows console) is shown
    as `?` rather than ending omscode with a UnicodeEncodeError: the verdict's word, first on its line, is ASCII,
    and the exit status is the verdict's."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


@contextmanager
def _argparse_words(arguments: list[str]) -> Iterator[None]:
    """argparse's own words (a usage error, --help) in omscode's language: Russian unless `--lang en` is among the
    arguments. argparse looks them up through the stdlib's gettext, which reads the language from LANGUAGE first:
    policy_codes/translations/ru/LC_MESSAGES/argparse.po is bound, and LANGUAGE set, while the arguments are parsed
    (a usage error ends omscode there), then put back as they were for whatever runs omscode."""
    english = "--lang=en" in arguments or ["--lang", "en"] in (arguments[i : i + 2] for i in range(len(arguments)))
    domain, language = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.bindtextdomain("argparse", str(CATALOGS))
    gettext.textdomain("argparse")
    os.environ["LANGUAGE"] = "en" if english else "ru"
    try:
        yield
    finally:
        gettext.textdomain(domain)
        if language is None:
            del os.environ["LANGUAGE"]
        else:
            os.environ["LANGUAGE"] = language


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omscode", description="Проверка кода полиса ОМС без сети.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="проверить код")
    verify.add_argument("--registry-key", type=Path, required=True, help="JWKS ключа реестра (закреплён при установке)")
    verify.add_argument("--trust-list", type=Path, required=True, help="список доверенных ключей (JSON)")
    verify.add_argument("--revocations", type=Path, action="append", required=True, help="список отзыва (JSON)")
    verify.add_argument(
        "--state",
        type=Path,
        help="файл, где omscode помнит самые новые принятые списки "
        "(по умолчанию $XDG_STATE_HOME/omscode/lists.json или ~/.local/state/omscode/lists.json)",
    )
    verify.add_argument("--allow-stale", action="store_true", help="принять списки старше 72 часов, с предупреждением")
    verify.add_argument("--lang", choices=["ru", "en"], default="ru")
    verify.add_argument("text", help="текст кода или - для чтения из stdin")
    return parser


def main(argv: list[str] | None = None) -> int:
    _never_fail_to_print()
    arguments = sys.argv[1:] if argv is None else argv
    with _argparse_words(arguments):  # its group titles and --help's are worded as the parser is made
        args = _parser().parse_args(arguments)
    text = _scanned_from_stdin() if args.text == "-" else args.text
    now = datetime.now(UTC)
    try:
        verifier = _accept(args, now)
    except BadList as error:
        detail = f" ({error.detail})" if error.detail else ""
        print(f"{translate(REFUSED, args.lang)}: {error.reason.message(args.lang)}{detail}", file=sys.stderr)
        return 2
    except list_state.StateError as error:
        print(f"{translate(BAD_STATE, args.lang)}: {error}", file=sys.stderr)
        return 2
    result = verifier.verify(text, now)
    print(f"{result.verdict}: {result.message(args.lang)}")
    if result.holder_name:
        print(f"{result.holder_name}, {result.birth_date}")
    ages = {"trust": _hours(result.trust_list_age), "revocations": _hours(result.revocations_age)}
    print(translate(AGES, args.lang, **ages))
    if result.stale:
        print(translate(STALE_WARNING, args.lang), file=sys.stderr)
    return 0 if result.verdict is Verdict.VALID else 1


if __name__ == "__main__":
    sys.exit(main())
