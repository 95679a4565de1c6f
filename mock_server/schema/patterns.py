"""ECMA-262 regular expressions, as API documents write them, → the validator's and Python's dialects.

JSON Schema's `pattern` is ECMA-262. The validator (`jsonschema_rs`) compiles Rust's dialect
(fancy-regex, after its own rewrite of `\\d`, `\\w`, `\\s`), and the generator and the explaining
walker use Python's `re`. The three disagree on more than syntax: `.` (ECMA leaves out `\\r`,
U+2028 and U+2029), `\\b` (ECMA's is ASCII), `\\s` (ECMA's is Unicode's spaces and a few more),
and Rust refuses a repetition as large as `.{0,262144}` (its automaton passes the size limit).
Documents also lean on JavaScript's legacy syntax (Annex B), which browsers and most validators
accept: `[\\w-.]` (a class as a range's end is the class, `-` and `.`), `\\000` (octal), `{,2}` (a
literal brace), `\\_` (an identity escape); and on Java's `\\p{XDigit}` and POSIX classes.

So a pattern is parsed once (`ecma_regex.py`), as ECMA-262 with Annex B (plus `\\p{…}` and `\\u{…}` of the `u`
mode, which people who write them mean), and written out for each engine with ECMA's meaning
made explicit. Strings are sequences of code points here, as JSON Schema counts them: a pair of
surrogate ranges (`[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]`) is the astral range it encodes, and a class
holding every surrogate holds every astral character. What has no faithful translation (a lone
surrogate, part of the surrogates, a Unicode block) is refused with the reason, and the caller
skips that one `pattern` with a warning.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jsonschema_rs

from mock_server.errors import one_line
from mock_server.schema.ecma_regex import ASTRAL, SURROGATES, Node, Parser, Ranges
from mock_server.schema.ecma_regex import Untranslatable as Untranslatable
from mock_server.schema.lru import ByteLRU

# A repetition bound past this is run by fancy-regex's backtracking machine (`(?:x(?=)){0,N}`),
# whose size does not grow with the bound, rather than compiled into an automaton that does: the
# validator refuses `^.{0,262144}$` as written, and raising its size limit instead took 1.6 s and
# 700 MiB to compile it. A pattern still too large is written again with a lower bound.
LARGE_REPEAT = 1000
SMALL_REPEAT = 16
MAX_PATTERN = 10_000  # characters: longer patterns are refused, not parsed
_CATEGORIES = frozenset(
    {"L", "LC", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P"}
    | {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp"}
    | {"C", "Cc", "Cf", "Cs", "Co", "Cn"}
)


@dataclass(frozen=True, slots=True)
class Translation:
    rust: str  # what jsonschema_rs compiles, meaning what the source means in ECMA-262
    python: str | None  # the same for `re`; None where `re` cannot say it (a script, a property)


# Documents repeat their patterns (Microsoft Graph's number pattern thousands of times): each is
# translated once. Bounded in bytes: a translation holding a Unicode category's ranges is ~10 KiB.
_TRANSLATED: ByteLRU[str, Translation | str] = ByteLRU(
    max_entries=8192, max_bytes=16 * 1024 * 1024, max_entry_bytes=1024 * 1024
)


def translate(source: str) -> Translation:
    """The pattern for each engine; raises `Untranslatable`."""
    found = _TRANSLATED.get(source)
    if found is None:
        try:
            found = _translate(source)
        except Untranslatable as exc:
            found = str(exc)
        cost = 2 * len(source) + (
            len(found) if isinstance(found, str) else len(found.rust) + len(found.python or "")
        )
        _TRANSLATED.put(source, found, 200 + 2 * cost)
    if isinstance(found, str):
        raise Untranslatable(found)
    return found


def _translate(source: str) -> Translation:
    if len(source) > MAX_PATTERN:
        raise Untranslatable(f"longer than {MAX_PATTERN} characters")
    tree = Parser(source).parse()
    rust = _Writer(python=False).write(tree)
    try:
        _compiles(rust)
    except (ValueError, jsonschema_rs.ValidationError) as exc:  # e.g. a property Rust does not know
        smaller = _Writer(python=False, large=SMALL_REPEAT).write(tree)
        try:
            _compiles(smaller)
        except (ValueError, jsonschema_rs.ValidationError):
            raise Untranslatable(f"the validator cannot compile it: {one_line(str(exc), 120)}") from None
        rust = smaller
    python: str | None
    try:
        python = _Writer(python=True).write(tree)
        re.compile(python)
    except (_NoPython, re.error, RecursionError, OverflowError):
        python = None
    return Translation(rust, python)


def _compiles(rust: str) -> None:
    jsonschema_rs.validator_for({"pattern": rust})


def python_pattern(source: str) -> str | None:
    """The pattern for `re`, or None when it has none (the caller then does without it)."""
    try:
        return translate(source).python
    except Untranslatable:
        return None


# --- writing -------------------------------------------------------------------------------------


class _NoPython(Exception):
    pass


_W = "[0-9A-Z_a-z]"
_ASCII_BOUNDARY = {  # (fancy-regex has no ASCII `\\b` in a Unicode pattern)
    "b": f"(?:(?<={_W})(?!{_W})|(?<!{_W})(?={_W}))",
    "B": f"(?:(?<={_W})(?={_W})|(?<!{_W})(?!{_W}))",
}


class _Writer:
    def __init__(self, *, python: bool, large: int = LARGE_REPEAT) -> None:
        self.python = python
        self.large = large

    def write(self, node: Node) -> str:
        kind = node[0]
        if kind == "seq":
            return "".join(self.write(item) for item in node[1])
        if kind == "alt":
            return "|".join(self.write(item) for item in node[1])
        if kind == "char":
            if 0xD800 <= node[1] <= 0xDFFF:
                raise Untranslatable(f"a lone surrogate (U+{node[1]:04X}) matches no code point")
            return self.char(node[1])
        if kind == "assert":
            if node[1] in "bB":  # ECMA's word boundary is ASCII's
                return f"(?a:\\{node[1]})" if self.python else _ASCII_BOUNDARY[node[1]]
            if node[1] == "$" and self.python:
                return "(?!\\n)$"  # `re`'s `$` also matches before a final newline; ECMA's does not
            return str(node[1])  # ^ and $: without the m flag, the input's ends
        if kind == "backref":
            return f"(?:\\{node[1]})"  # (a digit may follow: `\\1` then `0` is not `\\10`)
        if kind == "group":
            _, group, _, inner = node
            body = self.write(inner)
            opening = {"cap": "(", "noncap": "(?:", "la": "(?=", "nla": "(?!", "lb": "(?<=", "nlb": "(?<!"}
            return f"{opening[group]}{body})"  # a named group is numbered, as its references are
        if kind == "rep":
            return self.repeat(node)
        if kind == "set":
            return self.set(node)
        raise AssertionError(kind)

    def repeat(self, node: Node) -> str:
        _, atom, low, high, lazy = node
        body = self.write(atom)  # a character, a class or a group: each repeats as it is
        if not self.python and max(low, high or 0) > self.large:
            body = f"(?:{body}(?=))"  # see LARGE_REPEAT
        if (low, high) == (0, None):
            quantifier = "*"
        elif (low, high) == (1, None):
            quantifier = "+"
        elif (low, high) == (0, 1):
            quantifier = "?"
        elif high is None:
            quantifier = f"{{{low},}}"
        elif low == high:
            quantifier = f"{{{low}}}"
        else:
            quantifier = f"{{{low},{high}}}"
        return body + quantifier + ("?" if lazy else "")

    def char(self, code: int) -> str:
        if code < 0x80 and (chr(code).isalnum() or chr(code) in " _"):
            return chr(code)
        if self.python:
            return (
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        return f"\\x{{{code:X}}}"

    def set(self, node: Node) -> str:
        _, items, negated = node
        ranges: Ranges = []
        properties: list[tuple[str, bool]] = []
        nested: list[Node] = []
        for item in items:
            if isinstance(item[0], int):
                ranges.append(item)
            elif item[0] == "prop":
                properties.append((item[1], item[2]))
            elif not item[2]:  # a class escape inside the class (`\\d`, `\\p{L}`): its items
                ranges += [x for x in item[1] if isinstance(x[0], int)]
                properties += [(x[1], x[2]) for x in item[1] if x[0] == "prop"]
            elif len(item[1]) == 1 and item[1][0][0] == "prop":  # `\\P{L}`
                properties.append((item[1][0][1], not item[1][0][2]))
            else:  # a negated one (`\\S`): a set of its own
                nested.append(item)
        ranges = _code_points(_merge(ranges))
        if not properties and not nested:
            if not ranges:  # `[]` matches nothing, `[^]` anything
                if negated:
                    return "(?s:.)"
                return "(?!)" if self.python else "[^\\x{0}-\\x{10FFFF}]"
            if not negated and len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
                return self.char(ranges[0][0])
            return f"[{'^' if negated else ''}{self.ranges(ranges)}]"
        inline = ""
        for name, neg in properties:
            if not self.python:  # Rust: `\p{…}` is an item of a class
                inline += f"\\{'P' if neg else 'p'}{{{name}}}"
                continue
            found = _category_ranges(name)  # Python's `re` has no `\p`: its ranges
            if neg:
                nested.append(("set", found, True))
            else:
                ranges = _merge(ranges + found)
        if not nested:
            return f"[{'^' if negated else ''}{self.ranges(ranges)}{inline}]"
        # A negated class inside a class (`[\S\d]`): neither engine nests classes here, so the
        # class is an alternative of its parts, and a negated one a character none of them matches.
        parts = [f"[{self.ranges(ranges)}{inline}]"] if ranges or inline else []
        alternatives = "|".join(parts + [self.set(sub) for sub in nested])
        return f"(?:(?!{alternatives})(?s:.))" if negated else f"(?:{alternatives})"

    def ranges(self, ranges: Ranges) -> str:
        out = []
        for low, high in ranges:
            if low == high:
                out.append(self.class_char(low))
            else:
                out.append(f"{self.class_char(low)}-{self.class_char(high)}")
        return "".join(out)

    def class_char(self, code: int) -> str:
        return chr(code) if code < 0x80 and chr(code).isalnum() else self.char(code)


def _merge(ranges: Ranges) -> Ranges:
    out: Ranges = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _code_points(ranges: Ranges) -> Ranges:
    """UTF-16 code units → code points: a class holding every surrogate holds every astral
    character (each is two units it matches); one holding some of them has no translation."""
    low, high = SURROGATES
    covered = sum(min(b, high) - max(a, low) + 1 for a, b in ranges if a <= high and b >= low)
    if covered == 0:
        return ranges
    if covered != high - low + 1:
        raise Untranslatable("a class with some surrogates but not all matches part of a character")
    out: Ranges = []
    for a, b in ranges:
        if a < low:
            out.append((a, min(b, low - 1)))
        if b > high:
            out.append((max(a, high + 1), b))
    return _merge([*out, ASTRAL])


@lru_cache(maxsize=1)  # one table, a few thousand ranges
def _category_table() -> dict[str, Ranges]:
    """Every general category's ranges, from this Python's Unicode data (one pass, when first needed)."""
    table: dict[str, Ranges] = {}
    start, current = 0, unicodedata.category(chr(0))
    for code in range(1, sys.maxunicode + 2):
        category = unicodedata.category(chr(code)) if code <= sys.maxunicode else ""
        if category != current:
            table.setdefault(current, []).append((start, code - 1))
            start, current = code, category
    return table


def _category_ranges(name: str) -> Ranges:
    if name not in _CATEGORIES:
        raise _NoPython(name)  # a script or a binary property: `re` cannot list it here
    table = _category_table()
    if name == "LC":
        wanted = ["Lu", "Ll", "Lt"]
    elif len(name) == 1:
        wanted = [key for key in table if key.startswith(name)]
    else:
        wanted = [name]
    ranges = [r for key in wanted for r in table.get(key, [])]
    return [(a, b) for a, b in _merge(ranges) if not (SURROGATES[0] <= a and b <= SURROGATES[1])]
