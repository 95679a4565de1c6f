"""ECMA-262 patterns, with Annex B, → a small tree that `patterns.py` writes out for each engine.

What is read: ECMA-262's syntax in its legacy (Annex B) form, as browsers and most validators
accept it (`[\\w-.]`, `\\000`, `{,2}`, `\\_`, `\\8`, `\\c` without a letter), plus the `u` mode's
`\\p{…}` and `\\u{…}`, and Java's POSIX classes (`\\p{XDigit}`). Class escapes become their ECMA sets
(`\\d` is ASCII's digits, `\\s` Unicode's spaces and line terminators), a named group its number, and
a high surrogate followed by a low one (characters or classes) the astral range they encode.
"""

from __future__ import annotations

import re
from typing import Any

SURROGATES = (0xD800, 0xDFFF)
ASTRAL = (0x10000, 0x10FFFF)
WHITESPACE = [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A)]
WHITESPACE += [(0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]
DIGIT = [(0x30, 0x39)]
WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
LINE_TERMINATORS = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]
# Java's and POSIX's classes (`\p{XDigit}`), as Java defines them: ASCII only.
POSIX = {
    "Lower": [(0x61, 0x7A)],
    "Upper": [(0x41, 0x5A)],
    "ASCII": [(0x00, 0x7F)],
    "Alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "Digit": DIGIT,
    "Alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "Punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "Graph": [(0x21, 0x7E)],
    "Print": [(0x20, 0x7E)],
    "Blank": [(0x09, 0x09), (0x20, 0x20)],
    "Cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "XDigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
    "Space": [(0x09, 0x0D), (0x20, 0x20)],
}
# The long names of Unicode's general categories (`\p{Letter}` is `\p{L}`).
CATEGORY_NAMES = {
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
Ranges = list[tuple[int, int]]


class Untranslatable(ValueError):
    """A pattern with no faithful translation (or not ECMA-262 at all); the message says why."""


# The tree: ("seq", [node]), ("alt", [node]), ("group", kind, name, node), ("rep", node, low, high,
# lazy), ("set", items, negated) with items (lo, hi) ranges or ("prop", name, negated) or a nested
# ("set", …), ("char", code point), ("assert", "^" | "$" | "b" | "B"), ("backref", number | name).

Node = tuple[Any, ...]


class Parser:
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
            return ("set", list(LINE_TERMINATORS), True)
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
        plain = {"d": DIGIT, "s": WHITESPACE, "w": WORD}
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
    key = name[3:] if name.startswith("Is") and name[3:] in POSIX else name
    java = {"javaLowerCase": "Ll", "javaUpperCase": "Lu", "javaWhitespace": "White_Space"}
    if key in POSIX:
        return ("set", list(POSIX[key]), negated)
    if key.startswith("In") and key[2:3].isupper():
        raise Untranslatable(f"\\p{{{name}}}: Unicode blocks have no translation")
    if key.startswith("Is") and key[2:3].isupper():
        key = key[2:]  # Java's `\p{IsAlphabetic}`, `\p{IsLatin}`
    key = java.get(key, key)
    for prefix in ("General_Category=", "gc="):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    key = CATEGORY_NAMES.get(key, key)
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
