"""Did a `pattern` change narrow what a string may be? Only a proof counts.

A pattern is matched anywhere in the value (JSON Schema: unanchored, ECMA-262). So:
- a pattern with no anchor that matches the empty string (`.*`, `''`, `a*`) accepts every string, and so
  does one anchored at one end only (`^.*`, `.*$`): at that end it matches nothing and is done;
- `^.*$` accepts every string on one line, which is all that a fully anchored pattern built only of
  characters that never match a line break (`^\\w+$`) can accept;
- a narrowing is proved by a witness: a string the old pattern accepts and the new one refuses.
Anything else cannot be decided here, and is reported as a warning.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

Verdict = Literal["same", "wider", "narrower", "unknown"]

_WITNESSES = (
    "",
    "a",
    "A",
    "z",
    "Z",
    "0",
    "9",
    "_",
    "-",
    ".",
    " ",
    "a b",
    "abc",
    "ABC",
    "a1",
    "1a",
    "123",
    "-1",
    "1.5",
    "é",
    "\n",
    "a\nb",
    "x@y.z",
    "2020-01-01",
    "http://a.b/c",
    "~!@#$%^&*()+=[]{}|;:'\",<>/?`",
    "a" * 300,
    "9" * 300,
)
_ANY_CHAR_CLASSES = ("[\\s\\S]", "[\\S\\s]", "[\\w\\W]", "[\\W\\w]", "[\\d\\D]", "[\\D\\d]", "[^]")
# Tokens that may match a line break; a pattern without them (and without `|`) never does.
_MAY_MATCH_NEWLINE = (
    "\\s",
    "\\S",
    "\\W",
    "\\D",
    "[^",
    "\\n",
    "\\r",
    "\\u",
    "\\x",
    "\\c",
    "\\p",
    "\\P",
    "\\0",
)


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str] | None:
    """The ECMA-262 pattern as a Python one (the differences that matter here), or None."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
        elif pattern.startswith("[^]", i):
            out.append("[\\s\\S]")
            i += 3
            continue
        elif c == "[":
            in_class = True
            out.append(c)
            if pattern.startswith("]", i + 1) or pattern.startswith("^]", i + 1):  # `[]` matches nothing
                out[-1] = "(?!)" if pattern.startswith("]", i + 1) else "[\\s\\S]"
                i += 2 if pattern.startswith("]", i + 1) else 3
                in_class = False
                continue
        elif c == "$":
            out.append("\\Z")  # ECMA's `$` (no m flag) matches only at the very end
        elif pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    try:
        return re.compile("".join(out), re.ASCII)
    except (re.error, OverflowError, RecursionError):
        return None


def _has_assertions(body: str) -> bool:
    plain = re.sub(r"\\[^bB]", "", body)
    return any(t in plain for t in ("^", "$", "\\b", "\\B", "(?=", "(?!", "(?<"))


def universal(pattern: str | None) -> bool:
    """Provably accepts every string."""
    if pattern is None:
        return True
    for body in _bodies(pattern):
        if body in _ANY_CHAR_CLASSES or any(body == f"{c}*" for c in _ANY_CHAR_CLASSES):
            return True
        if _has_assertions(body):
            continue
        compiled = _compile(body)
        if compiled is not None and compiled.fullmatch("") is not None:
            return True
    return False


def _bodies(pattern: str) -> list[str]:
    """The pattern with at most one anchor removed (either end, not both): each is as strong."""
    out = [pattern]
    if pattern.startswith("^"):
        out.append(pattern[1:])
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        out.append(pattern[:-1])
    whole = pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")
    if whole and pattern[1:-1] in (*(f"{c}*" for c in _ANY_CHAR_CLASSES), "(?:[\\s\\S]*)"):
        out.append("")  # `^[\s\S]*$` accepts everything
    return out


def _single_line(pattern: str) -> bool:
    """Provably accepts only strings without a line break: anchored at both ends, no `|`, and no
    token that can match one (`.` cannot, in ECMA-262)."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        return False
    if "|" in pattern or "\n" in pattern or "\r" in pattern:
        return False
    return not any(t in pattern for t in _MAY_MATCH_NEWLINE)


def _any_line(pattern: str) -> bool:
    return pattern in ("^.*$", "^(.*)$", "^(?:.*)$", "^.*?$")


def compare(old: str | None, new: str | None) -> Verdict:
    """How the set of strings `new` accepts relates to what `old` accepted."""
    if old == new:
        return "same"
    if universal(new):
        return "same" if universal(old) else "wider"
    if universal(old):
        return "narrower"  # every string was accepted; the new pattern is not shown to accept them all
    assert old is not None and new is not None
    if _any_line(new) and _single_line(old):
        return "wider"
    compiled_old, compiled_new = _compile(old), _compile(new)
    if compiled_old is None or compiled_new is None:
        return "unknown"
    try:
        for witness in _WITNESSES:
            if compiled_old.search(witness) and not compiled_new.search(witness):
                return "narrower"
    except RecursionError:
        return "unknown"
    return "unknown"
