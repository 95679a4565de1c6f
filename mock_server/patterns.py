"""ECMA-262 regular expressions, as API documents write them, → the validator's and Python's dialects.

JSON Schema's `pattern` is ECMA-262. The validator (`jsonschema_rs`) compiles Rust's dialect
(fancy-regex, after its own rewrite of `\\d`, `\\w`, `\\s`), and the generator and the explaining
walker use Python's `re`. The three disagree on more than syntax: `.` (ECMA leaves out `\\r`,
U+2028 and U+2029), `\\b` (ECMA's is ASCII), `\\s` (ECMA's is Unicode's spaces and a few more),
and Rust refuses a repetition as large as `.{0,262144}` (its automaton passes the size limit).
Documents also lean on JavaScript's legacy syntax (Annex B), which browsers and most validators
accept: `[\\w-.]` (a class as a range's end is the class, `-` and `.`), `\\000` (octal), `{,2}` (a
literal brace), `\\_` (an identity escape); and on Java's `\\p{XDigit}` and POSIX classes.

So a pattern is parsed once, as ECMA-262 with Annex B (plus `\\p{…}` and `\\u{…}` of the `u`
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
from typing import Any

import jsonschema_rs

from mock_server.errors import DocumentWarning, one_line
from mock_server.lru import ByteLRU
from mock_server.refs import LITERAL_KEYS, NAME_MAPS, Link, pointer

# A repetition bound past this is run by fancy-regex's backtracking machine (`(?:x(?=)){0,N}`),
# whose size does not grow with the bound, rather than compiled into an automaton that does: the
# validator refuses `^.{0,262144}$` as written, and raising its size limit instead took 1.6 s and
# 700 MiB to compile it. A pattern still too large is written again with a lower bound.
LARGE_REPEAT = 1000
SMALL_REPEAT = 16
MAX_PATTERN = 10_000  # characters: longer patterns are refused, not parsed
SURROGATES = (0xD800, 0xDFFF)
ASTRAL = (0x10000, 0x10FFFF)
_WHITESPACE = [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A)]
_WHITESPACE += [(0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]
_DIGIT = [(0x30, 0x39)]
_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_LINE_TERMINATORS = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]
# Java's and POSIX's classes (`\p{XDigit}`), as Java defines them: ASCII only.
_POSIX = {
    "Lower": [(0x61, 0x7A)],
    "Upper": [(0x41, 0x5A)],
    "ASCII": [(0x00, 0x7F)],
    "Alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "Digit": _DIGIT,
    "Alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "Punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "Graph": [(0x21, 0x7E)],
    "Print": [(0x20, 0x7E)],
    "Blank": [(0x09, 0x09), (0x20, 0x20)],
    "Cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "XDigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
    "Space": [(0x09, 0x0D), (0x20, 0x20)],
}
# Unicode general categories: Python's `re` has no `\p`, so their ranges are listed for it.
_CATEGORY_NAMES = {
    "Letter": "L",
    "Cased_Letter": "LC",
    "Uppercase_Letter": "Lu",
    "Lowercase_Letter": "Ll",
    "Titlecase_Letter": "Lt",
    "Modifier_Letter": "Lm",
    "Other_Letter": "Lo",
    "Mark": "M",
    "Nonspacing_Mark": "Mn",
    "Spacing_Mark": "Mc",
    "Enclosing_Mark": "Me",
    "Number": "N",
    "Decimal_Number": "Nd",
    "digit": "Nd",
    "Letter_Number": "Nl",
    "Other_Number": "No",
    "Punctuation": "P",
    "punct": "P",
    "Symbol": "S",
    "Separator": "Z",
    "Other": "C",
    "Control": "Cc",
    "cntrl": "Cc",
    "Format": "Cf",
    "Private_Use": "Co",
    "Unassigned": "Cn",
}
_CATEGORIES = frozenset(
    {"L", "LC", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P"}
    | {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp"}
    | {"C", "Cc", "Cf", "Cs", "Co", "Cn"}
)

Ranges = list[tuple[int, int]]


class Untranslatable(ValueError):
    """A pattern with no faithful translation (or not ECMA-262 at all); the message says why."""


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
    tree = _Parser(source).parse()
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


# --- parsing -------------------------------------------------------------------------------------
# The tree: ("seq", [node]), ("alt", [node]), ("group", kind, name, node), ("rep", node, low, high,
# lazy), ("set", items, negated) with items (lo, hi) ranges or ("prop", name, negated) or a nested
# ("set", …), ("char", code point), ("assert", "^" | "$" | "b" | "B"), ("backref", number | name).

Node = tuple[Any, ...]


class _Parser:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.groups, self.names = _count_groups(source)

    def fail(self, why: str) -> Untranslatable:
        return Untranslatable(f"{why} at {self.i}")

    def peek(self, ahead: int = 0) -> str:
        at = self.i + ahead
        return self.s[at] if at < len(self.s) else ""

    def parse(self) -> Node:
        node = self.disjunction(0)
        if self.i < len(self.s):
            raise self.fail("unmatched ')'")
        return node

    def disjunction(self, depth: int) -> Node:
        if depth > 100:
            raise Untranslatable("groups nested more than 100 deep")
        branches = [self.alternative(depth)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.alternative(depth))
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def alternative(self, depth: int) -> Node:
        items: list[Node] = []
        while self.i < len(self.s) and self.peek() not in "|)":
            atom = self.term(depth)
            items.append(self.quantified(atom))
        return ("seq", _pair_surrogates(items))

    def quantified(self, atom: Node) -> Node:
        c = self.peek()
        bounds: tuple[int, int | None] | None = None
        if c == "*":
            bounds, self.i = (0, None), self.i + 1
        elif c == "+":
            bounds, self.i = (1, None), self.i + 1
        elif c == "?":
            bounds, self.i = (0, 1), self.i + 1
        elif c == "{":
            found = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.s, self.i)
            if found is not None:  # else (Annex B) a literal brace, read as an atom next
                low = int(found.group(1))
                high = low if found.group(2) is None else int(found.group(3)) if found.group(3) else None
                if high is not None and high < low:
                    raise self.fail("numbers out of order in {} quantifier")
                bounds, self.i = (low, high), found.end()
        if bounds is None:
            return atom
        if atom[0] == "assert" or (atom[0] == "group" and atom[1] in ("la", "nla", "lb", "nlb")):
            # Annex B lets a lookahead be quantified: it matches nothing, so {0,…} drops it
            return ("seq", []) if bounds[0] == 0 else atom
        lazy = self.peek() == "?"
        if lazy:
            self.i += 1
        return ("rep", atom, bounds[0], bounds[1], lazy)

    def term(self, depth: int) -> Node:
        c = self.peek()
        self.i += 1
        if c == "^":
            return ("assert", "^")
        if c == "$":
            return ("assert", "$")
        if c == ".":
            return ("set", list(_LINE_TERMINATORS), True)
        if c == "[":
            return self.char_class()
        if c == "(":
            return self.group(depth)
        if c == "\\":
            return self.atom_escape()
        if c in "*+?":
            raise self.fail("nothing to repeat")
        if c == "{" and re.compile(r"\d+(,\d*)?\}").match(self.s, self.i):
            raise self.fail("nothing to repeat")
        return ("char", ord(c))

    def group(self, depth: int) -> Node:
        kind, name = "cap", None
        if self.s.startswith("?:", self.i):
            kind, self.i = "noncap", self.i + 2
        elif self.s.startswith("?=", self.i):
            kind, self.i = "la", self.i + 2
        elif self.s.startswith("?!", self.i):
            kind, self.i = "nla", self.i + 2
        elif self.s.startswith("?<=", self.i):
            kind, self.i = "lb", self.i + 3
        elif self.s.startswith("?<!", self.i):
            kind, self.i = "nlb", self.i + 3
        elif self.s.startswith("?<", self.i):
            found = re.compile(r"\?<([A-Za-z_$][\w$]*)>").match(self.s, self.i)
            if found is None:
                raise self.fail("invalid group name")
            name, self.i = found.group(1), found.end()
        elif self.peek() == "?":
            raise self.fail("invalid group")  # (?i) and the like are not ECMA-262
        inner = self.disjunction(depth + 1)
        if self.peek() != ")":
            raise self.fail("missing ')'")
        self.i += 1
        return ("group", kind, name, inner)

    def atom_escape(self) -> Node:
        c = self.peek()
        if not c:
            raise self.fail("\\ at end of pattern")
        if c in "bB":
            self.i += 1
            return ("assert", c)
        if c.isdigit() and c != "0":
            found = re.compile(r"\d+").match(self.s, self.i)
            assert found is not None
            if int(found.group()) <= self.groups:
                self.i = found.end()
                return ("backref", int(found.group()))
            return ("char", self.legacy_octal_or_identity())  # Annex B: no such group
        if c == "k" and self.names:
            found = re.compile(r"k<([A-Za-z_$][\w$]*)>").match(self.s, self.i)
            if found is None or found.group(1) not in self.names:
                raise self.fail("invalid named reference")
            self.i = found.end()
            return ("backref", self.names[found.group(1)])  # by number: the engines name differently
        shorthand = self.class_escape()
        if shorthand is not None:
            return shorthand
        if c == "c" and not ("a" <= self.peek(1).lower() <= "z"):
            return ("char", ord("\\"))  # Annex B: `\c` without a letter is a backslash, then `c`
        return ("char", self.character_escape(in_class=False))

    def class_escape(self) -> Node | None:
        """`\\d \\D \\s \\S \\w \\W \\p{…} \\P{…}` as a set (the backslash read), or None."""
        c = self.peek()
        plain = {"d": _DIGIT, "s": _WHITESPACE, "w": _WORD}
        if c.lower() in plain:
            self.i += 1
            return ("set", list(plain[c.lower()]), c.isupper())
        if c in "pP" and self.peek(1) == "{":
            end = self.s.find("}", self.i)
            if end < 0:
                raise self.fail("unterminated \\p{")
            name = self.s[self.i + 2 : end]
            self.i = end + 1
            return _property(name, negated=c == "P")
        return None

    def character_escape(self, *, in_class: bool) -> int:
        c = self.peek()
        simple = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
        if c in simple:
            self.i += 1
            return simple[c]
        if c == "c":
            letter = self.peek(1)
            if "a" <= letter.lower() <= "z" or (in_class and (letter.isdigit() or letter == "_")):
                self.i += 2
                return ord(letter) % 32
            return ord("\\")  # `\c` read as a backslash; the `c` follows as itself
        if c == "0" and not self.peek(1).isdigit():
            self.i += 1
            return 0
        if c in "01234567":
            return self.legacy_octal_or_identity()
        if c == "x":
            found = re.compile(r"x([0-9A-Fa-f]{2})").match(self.s, self.i)
            if found is not None:
                self.i = found.end()
                return int(found.group(1), 16)
        if c == "u":
            found = re.compile(r"u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}").match(self.s, self.i)
            if found is not None:
                self.i = found.end()
                value = int(found.group(1) or found.group(2), 16)
                if value > 0x10FFFF:
                    raise self.fail("code point past U+10FFFF")
                return value
        self.i += 1
        return ord(c)  # Annex B's identity escape: `\_`, `\-`, `\/`, `\x` without digits, `\8`

    def legacy_octal_or_identity(self) -> int:
        found = re.compile(r"[0-3][0-7]{0,2}|[4-7][0-7]?").match(self.s, self.i)
        if found is None:  # `\8`, `\9`
            self.i += 1
            return ord(self.s[self.i - 1])
        self.i = found.end()
        return int(found.group(), 8)

    def char_class(self) -> Node:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        items: list[Any] = []
        while True:
            if self.i >= len(self.s):
                raise self.fail("unterminated character class")
            if self.peek() == "]":
                self.i += 1
                return ("set", items, negated)
            first = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                last = self.class_atom()
                if isinstance(first, int) and isinstance(last, int):
                    if last < first:
                        raise self.fail("range out of order in character class")
                    items.append((first, last))
                else:  # Annex B: `[\w-.]` is \w, `-` and `.`
                    items += [_item(first), (0x2D, 0x2D), _item(last)]
                continue
            items.append(_item(first))

    def class_atom(self) -> int | Node:
        c = self.peek()
        self.i += 1
        if c != "\\":
            return ord(c)
        shorthand = self.class_escape()
        if shorthand is not None:
            return shorthand
        e = self.peek()
        if e == "b":
            self.i += 1
            return 8
        if e == "-":
            self.i += 1
            return 0x2D
        if e.isdigit() and e not in "01234567":
            self.i += 1
            return ord(e)
        return self.character_escape(in_class=True)


def _item(atom: int | Node) -> Any:
    return (atom, atom) if isinstance(atom, int) else atom


def _count_groups(source: str) -> tuple[int, dict[str, int]]:
    """How many capturing groups, and the number of each named one (ECMA counts both alike)."""
    count, i, in_class = 0, 0, False
    names: dict[str, int] = {}
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            named = re.compile(r"\?<([A-Za-z_$][\w$]*)>").match(source, i + 1)
            if named is not None or not source.startswith("?", i + 1):
                count += 1
            if named is not None:
                names.setdefault(named.group(1), count)
        i += 1
    return count, names


def _property(name: str, *, negated: bool) -> Node:
    key = name[3:] if name.startswith("Is") and name[3:] in _POSIX else name
    java = {"javaLowerCase": "Ll", "javaUpperCase": "Lu", "javaWhitespace": "White_Space"}
    if key in _POSIX:
        return ("set", list(_POSIX[key]), negated)
    if key.startswith("In") and key[2:3].isupper():
        raise Untranslatable(f"\\p{{{name}}}: Unicode blocks have no translation")
    if key.startswith("Is") and key[2:3].isupper():
        key = key[2:]  # Java's `\p{IsAlphabetic}`, `\p{IsLatin}`
    key = java.get(key, key)
    for prefix in ("General_Category=", "gc="):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    key = _CATEGORY_NAMES.get(key, key)
    if not re.fullmatch(r"[A-Za-z_][\w=]*", key):
        raise Untranslatable(f"\\p{{{name}}} is not a Unicode property")
    return ("set", [("prop", key, False)], negated)


def _pair_surrogates(items: list[Node]) -> list[Node]:
    """A high surrogate then a low one, as characters or as classes, is the astral range they
    encode (UTF-16's way of writing it); a surrogate left alone has no meaning in a code point."""
    out: list[Node] = []
    i = 0
    while i < len(items):
        high, low = items[i], items[i + 1] if i + 1 < len(items) else None
        pair = _astral(high, low) if low is not None else None
        if pair is not None:
            out.append(pair)
            i += 2
            continue
        out.append(high)
        i += 1
    return out


def _units(node: Node) -> Ranges | None:
    if node[0] == "char":
        return [(node[1], node[1])]
    if (
        node[0] == "set"
        and not node[2]
        and all(isinstance(x, tuple) and isinstance(x[0], int) for x in node[1])
    ):
        return [x for x in node[1] if isinstance(x[0], int)]
    return None


def _astral(high: Node, low: Node) -> Node | None:
    highs, lows = _units(high), _units(low)
    if not highs or not lows:
        return None
    if not all(0xD800 <= a <= b <= 0xDBFF for a, b in highs) or not all(
        0xDC00 <= a <= b <= 0xDFFF for a, b in lows
    ):
        return None
    ranges: Ranges = []
    for a, b in highs:
        for c, d in lows:
            if (c, d) == (0xDC00, 0xDFFF):
                ranges.append((_code(a, 0xDC00), _code(b, 0xDFFF)))
            elif a == b:
                ranges.append((_code(a, c), _code(a, d)))
            else:
                ranges += [(_code(h, c), _code(h, d)) for h in range(a, b + 1)]
    return ("set", ranges, False)


def _code(high: int, low: int) -> int:
    return 0x10000 + (high - 0xD800) * 0x400 + (low - 0xDC00)


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


# --- in a document -------------------------------------------------------------------------------


def skip_untranslatable(document: dict[str, Any]) -> list[DocumentWarning]:
    """Every `pattern` (and `patternProperties` name) of the document that has no translation is
    removed, in place, with a warning naming it: one pattern must not refuse a whole document."""
    warnings: list[DocumentWarning] = []
    stack: list[tuple[Any, bool, Link]] = [(document, False, None)]  # (node, a map of names, where)
    while stack:
        node, names, at = stack.pop()
        if isinstance(node, list):
            stack.extend(
                (item, False, (i, at)) for i, item in enumerate(node) if isinstance(item, dict | list)
            )
            continue
        if not isinstance(node, dict):
            continue
        if not names:
            source = node.get("pattern")
            if isinstance(source, str):
                why = _why_not(source)
                if why is not None:
                    del node["pattern"]
                    warnings.append(_skipped(("pattern", at), source, why))
            keyed = node.get("patternProperties")
            if isinstance(keyed, dict):
                for key in [k for k in keyed if isinstance(k, str) and _why_not(k) is not None]:
                    warnings.append(_skipped((key, ("patternProperties", at)), key, str(_why_not(key))))
                    del keyed[key]
        for key, value in node.items():
            if not isinstance(value, dict | list):
                continue
            if not names and (
                key in LITERAL_KEYS
                or (isinstance(key, str) and key.startswith("x-") and key != "x-referenced-files")
            ):
                continue
            if not names and key == "examples" and isinstance(value, list):
                continue
            stack.append((value, not names and key in NAME_MAPS, (key, at)))
    return warnings


def _why_not(source: str) -> str | None:
    try:
        translate(source)
    except Untranslatable as exc:
        return str(exc)
    return None


def _skipped(link: Link, source: str, why: str) -> DocumentWarning:
    shown = source if len(source) <= 80 else source[:60] + "…" + source[-15:]
    return DocumentWarning(
        pointer(link), f"pattern {shown!r} has no translation from ECMA-262 ({why}); not checked"
    )


def for_validator(node: Any, names: bool = False) -> Any:
    """`node` with every `pattern` and `patternProperties` name in the validator's dialect (an
    untranslatable one left out): a copy of the containers on the way to each change only."""
    if isinstance(node, list):
        items = [for_validator(item) for item in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not isinstance(node, dict):
        return node
    changed: dict[Any, Any] = {}
    dropped: list[Any] = []
    for key, value in node.items():
        if names:
            found = for_validator(value)
        elif key == "pattern" and isinstance(value, str):
            found = _rust(value)
            if found is None:
                dropped.append(key)
                continue
        elif key == "patternProperties" and isinstance(value, dict):
            found = {}
            for name, sub in value.items():
                rust = _rust(name) if isinstance(name, str) else name
                if rust is not None:
                    found[rust] = for_validator(sub)
            if list(found) == list(value) and all(found[k] is value[k] for k in value):
                found = value
        elif key in LITERAL_KEYS or (
            isinstance(key, str) and key.startswith("x-") and key != "x-referenced-files"
        ):
            continue
        elif isinstance(value, dict | list):
            found = for_validator(value, key in NAME_MAPS)
        else:
            continue
        if found is not value:
            changed[key] = found
    if not changed and not dropped:
        return node
    return {key: changed.get(key, value) for key, value in node.items() if key not in dropped}


def _rust(source: str) -> str | None:
    try:
        return translate(source).rust
    except Untranslatable:
        return None
