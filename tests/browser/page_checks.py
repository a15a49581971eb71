"""What every page must be, checked in the browser as it is shown (issue 18): the tour runs these on each stop.

Each check returns the problems it found on the page as it stands, every one of
them, so a page's report lists them all at once:

- raw codes: an internal value (any string enum value the code defines, found
  by introspection; an audit action's snake_case; an actor such as
  `smo:login`) in a text node a person reads;
- small controls: a link, button, field, select, summary, or the label of a
  checkbox or radio, under 44×44 CSS px;
- header wraps: a link or button of the page's header on two lines;
- date split over lines: a date (dd.mm.yyyy) broken across two lines («02.12.2|026»), or parted from the
  «с», «по», «до» (from, to, until) before it («по | 05.12.2029»);
- sideways scrolling: the page wider than the window;
- text over text: lines of two elements drawn over each other (a form's error pulled up over a hint);
- accessibility: axe-core's serious and critical violations;
- Python reprs: `<… object at 0x…>`, `<built-in …>`, `<bound method …>` anywhere in the page;
- on a refused form (`form_errors`): the first error focused, beside its field (in the same form), tied
  to it (aria-invalid, aria-describedby) and announced (role="alert" or a live region).

Console errors are collected by the tour as they happen (see `ConsoleErrors`).
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
#: Where the registry's values are defined: every enum in these packages is a vocabulary of internal codes.
CODE_PACKAGES = ("policy_codes", "signing", "webapp.models", "webapp.registry")
#: The smallest target a finger hits reliably (WCAG 2.5.5, Apple's and Android's guidelines).
MIN_TARGET = 44
#: Text no person should read raw: snake_case identifiers (audit actions, verdicts) and audit actors (`smo:login`).
IDENTIFIER = r"(?<![\w.:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w-])"
ACTOR = r"(?<![\w.:-])(?:citizen|clinic|smo|admin):[a-z0-9][\w.-]*"
#: A Python object's default repr, or a bound or built-in method's.
PYTHON_REPR = re.compile(r"object at 0x[0-9a-fA-F]+|(?:<|&lt;)(?:built-in |bound method )")


def _modules(package: str) -> list[Any]:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}."):
        found.append(importlib.import_module(info.name))
    return found


@cache
def enum_values() -> frozenset[str]:
    """Every string value of every enum defined in CODE_PACKAGES."""
    values = set()
    for package in CODE_PACKAGES:
        for module in _modules(package):
            for thing in vars(module).values():
                if isinstance(thing, type) and issubclass(thing, enum.Enum) and thing.__module__ == module.__name__:
                    values.update(member.value for member in thing if isinstance(member.value, str))
    values.discard("")  # an enum's "no value" (a code superseded for no particular cause) is no word on a page
    return frozenset(values)


def raw_code_patterns(language: str) -> list[str]:
    """JavaScript regular expressions (sources) of raw codes for a page in `language`.

    On a Russian page a Latin enum value is raw wherever it stands, and so is a lowercase Latin identifier
    that is a whole text node (`demo`, `kid`). On an English page a one-word value (`active`, `valid`) is
    also an English word, so only the unmistakable forms count; the Russian tour of the same page sees
    the rest.
    """
    patterns = [IDENTIFIER, ACTOR]
    if language == "ru":
        words = "|".join(sorted((re.escape(value) for value in enum_values()), key=len, reverse=True))
        patterns += [rf"(?<![\w.:-])(?:{words})(?![\w:-])", r"^[a-z][a-z0-9]*$"]
    return patterns


#: One pass over the page for the checks that read the DOM. Text inside code, kbd, samp, fields, .number (the
#: app's class for a number or identifier: ЕНП, key id) and translate="no" (a login) is shown as stored, on purpose.
_INSPECT = """([patterns, minTarget]) => {
  const regexes = patterns.map((source) => new RegExp(source, "g"));
  const describe = (element) => {
    const text = (element.innerText || element.value || element.getAttribute("aria-label") || "").trim();
    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
      + (element.getAttribute("name") ? `[name=${element.getAttribute("name")}]` : "");
    return `${name} «${text.replace(/\\s+/g, " ").slice(0, 40)}»`;
  };
  const lines = (node, start, end) => {  // the lines a piece of text is laid out on
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    return new Set([...range.getClientRects()].map((box) => Math.round(box.top))).size;
  };
  const raw = [];
  const splitDates = [];
  const dated = /(?:(?<![\\p{L}\\d])(?:с|по|до|from|to|until)\\s+)?\\d{2}\\.\\d{2}\\.\\d{4}/gu;
  const skipped = "script, style, noscript, template, code, kbd, samp, textarea, .number, [translate=no]";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!text) continue;
    // A date, with the word that opens its phrase if one does («по 05.12.2029»): neither is left at a line's end.
    for (const date of node.textContent.matchAll(dated)) {
      const split = lines(node, date.index, date.index + date[0].length) > 1;
      if (split) splitDates.push(`«${date[0]}» in «${text.slice(0, 60)}»`);
    }
    if (node.parentElement.closest(skipped)) continue;
    const matches = new Set(regexes.flatMap((regex) => [...text.matchAll(regex)].map((match) => match[0])));
    for (const match of matches) {
      if ([...matches].some((other) => other !== match && other.includes(match))) continue;  // "smo:x", not "smo"
      raw.push(`«${match}» in ${node.parentElement.tagName.toLowerCase()} «${text.slice(0, 60)}»`);
    }
  }
  const small = [];
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const control of document.querySelectorAll(controls)) {
    const choice = control.matches("input[type=checkbox], input[type=radio]");
    const target = choice ? (control.closest("label") || control.labels?.[0] || control) : control;
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown: hidden, or in a closed <details>
    if (getComputedStyle(target).visibility === "hidden") continue;
    if (box.width < minTarget - 0.01 || box.height < minTarget - 0.01) {
      const size = `${Math.round(box.width)}×${Math.round(box.height)}`;
      small.push(`${describe(control)}${choice ? " (its label)" : ""}: ${size}`);
    }
  }
  const wrapped = [];  // the header's words on one line each: «OMS / policy», «Log / out» read as four words
  for (const control of document.querySelectorAll("header a, header button")) {
    const text = [...control.childNodes].find((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
    if (text && lines(text, 0, text.textContent.length) > 1) wrapped.push(`${describe(control)} on two lines`);
  }
  const root = document.documentElement;
  const sideways = [];
  if (root.scrollWidth > root.clientWidth) {
    const overflows = (element) => element.getBoundingClientRect().right > root.clientWidth + 0.5;
    // The outermost elements that stick out: the ones to fix.
    const beyond = [...document.body.querySelectorAll("*")]
      .filter((element) => overflows(element) && !overflows(element.parentElement))
      .slice(0, 5).map(describe);
    sideways.push(`page ${root.scrollWidth} px wide in a ${root.clientWidth} px window: ${beyond.join(", ")}`);
  }
  // Text wider than its own box runs under its neighbour (a long surname in a two-column old → new): a box
  // narrower than what it holds, where nothing clips it.
  const clipped = (element) => {  // cut off by its own box or an ancestor's (a visually hidden table head, say)
    for (let box = element; box; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const spilled = [...document.body.querySelectorAll("main *")]
    .filter((element) => element.clientWidth > 0 && element.scrollWidth > element.clientWidth + 1)
    .filter((element) => !clipped(element))
    .filter((element) => element.innerText.trim())
    .map((element) => `${describe(element)} ${element.scrollWidth} px in ${element.clientWidth} px`);
  // Text drawn over other text: the lines of two elements crossing (a message pulled up over the hint above it).
  const runs = [];
  const texts = document.createTreeWalker(document.querySelector("main") || document.body, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    const element = node.parentElement;  // not one in a closed <details>, hidden, or cut to nothing
    if (!node.textContent.trim() || !element.checkVisibility({visibilityProperty: true}) || clipped(element)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const box of range.getClientRects()) {
      if (box.width > 0 && box.height > 0) runs.push({element, box});
    }
  }
  const overlapping = [];
  runs.forEach((one, index) => runs.slice(index + 1).forEach((other) => {
    if (one.element === other.element) return;
    const across = Math.min(one.box.right, other.box.right) - Math.max(one.box.left, other.box.left);
    const down = Math.min(one.box.bottom, other.box.bottom) - Math.max(one.box.top, other.box.top);
    if (across > 1 && down > 1) overlapping.push(`${describe(other.element)} over ${describe(one.element)}`);
  }));
  return {raw, small, wrapped, splitDates, sideways, spilled, overlapping, html: root.outerHTML};
}"""

_AXE_RUN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter((violation) => ["serious", "critical"].includes(violation.impact))
  .map((violation) => `${violation.id} (${violation.impact}): `
    + violation.nodes.map((node) => node.target.join(" ")).join(", "))"""


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations. It runs through Playwright's evaluate, which the page's
    strict CSP does not block, so the page is checked exactly as served."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE)
    return list(page.evaluate(_AXE_RUN))


#: The check that finds text wider than its box, by its name in `inspect`'s findings.
SPILLED = "text spills out of its box"


def inspect(page: Any, language: str) -> dict[str, list[str]]:
    """Every check but the console's, by name: the problems found (empty lists left out)."""
    found = page.evaluate(_INSPECT, [raw_code_patterns(language), MIN_TARGET])
    problems = {
        "raw code": found["raw"],
        "control under 44×44 px": found["small"],
        "header wraps": found["wrapped"],
        "date split over lines": found["splitDates"],
        "sideways scrolling": found["sideways"],
        SPILLED: found["spilled"],
        "text over text": found["overlapping"],
        "Python repr": sorted({match.group(0) for match in PYTHON_REPR.finditer(found["html"])}),
        "axe serious/critical": axe_violations(page),
    }
    return {check: _counted(listed) for check, listed in problems.items() if listed}


def _counted(problems: list[str]) -> list[str]:
    """Each problem once, in order, with how often it occurs on the page: a table's column is one finding."""
    counts = Counter(problems)
    return [problem if counts[problem] == 1 else f"{problem} (×{counts[problem]})" for problem in counts]


_FORM_ERRORS = """() => {
  const announced = (element) => Boolean(element.closest("[role=alert], [aria-live]:not([aria-live=off])"));
  const focused = document.activeElement;
  if (!focused || focused === document.body) return ["nothing focused: the first error is not brought into view"];
  if (focused.getAttribute("role") === "alert" && focused.closest("form")) return [];  // the form's own error
  if (focused.getAttribute("aria-invalid") !== "true") {
    return [`the focus is on ${focused.tagName.toLowerCase()}[name=${focused.name}], not on a field marked invalid`];
  }
  const problems = [];
  const ids = (focused.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
  const errors = ids.map((id) => document.getElementById(id)).filter((element) => element && element.innerText.trim());
  if (!errors.length) problems.push(`${focused.name}: marked invalid, but no message tied to it (aria-describedby)`);
  for (const error of errors) {
    if (!announced(error)) problems.push(`${focused.name}: its message is not announced (role=alert, aria-live)`);
    if (error.closest("form") !== focused.closest("form")) problems.push(`${focused.name}: its message is not by it`);
  }
  return problems;
}"""


def form_errors(page: Any) -> list[str]:
    """What is wrong with how a refused form shows its errors (nothing when the first one is focused,
    described, announced and beside its field)."""
    return list(page.evaluate(_FORM_ERRORS))


@dataclass
class ConsoleErrors:
    """Console errors and uncaught exceptions of a page, as they happen; `take` empties the list.

    A page answered with an error status on purpose (a 404 page, a form with errors) makes Chromium log
    "Failed to load resource … status of N": that one is expected and not counted.
    """

    seen: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda message: message.type == "error" and self.seen.append(message.text))
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error}"))

    def take(self, expected_status: int | None = None) -> list[str]:
        expected = f"the server responded with a status of {expected_status}" if expected_status else None
        errors = [text for text in self.seen if not (expected and expected in text)]
        self.seen.clear()
        return errors
