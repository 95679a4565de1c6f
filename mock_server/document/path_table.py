"""Path templates (`/items/{item_id}`) → whatever is served there, matched segment by segment.

Built once per document, in time linear in its paths: no regular expression is compiled for a
template whose variables fill whole segments (nearly all of them). Templates sit in a trie of
segments, so a request is compared only with the templates its segments fit, and matching does
not grow with the size of the document either.

OpenAPI's rule: a concrete path wins over a templated one; among templates, fewer segments that
are a variable whole first (a segment with literal text beside its variables, Google's custom
methods `{name}:cancel` or `{file}.{ext}`, is more concrete than `{name}`), then fewer
variables, then the document's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
_VARIABLE = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class _Template(Generic[T]):
    # Per segment: a literal string, a variable's name (whole segment), or a regex (mixed).
    literals: tuple[str | None, ...]
    names: tuple[str | None, ...]
    mixed: tuple[tuple[re.Pattern[str], tuple[str, ...]] | None, ...]
    variables: int
    whole: int  # segments that are one variable whole
    order: int
    value: T

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, segment in enumerate(segments):
            literal = self.literals[i]
            if literal is not None:
                if segment != literal:
                    return None
                continue
            name = self.names[i]
            if name is not None:
                if not segment and i == len(segments) - 1:
                    return None  # `/pets/`: the trailing-slash redirect's, not a missing `{id}`
                params[name] = segment  # `/pets//photos`: routed, and the empty value refused
                continue
            pattern, names = self.mixed[i]  # type: ignore[misc]
            found = pattern.fullmatch(segment)
            if found is None:
                return None
            params.update(zip(names, found.groups(), strict=True))
        return params


class _Node(Generic[T]):
    __slots__ = ("ends", "literal", "mixed", "variable")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[T]] = {}
        self.variable: _Node[T] | None = None  # a whole segment that is one variable
        self.mixed: dict[str, _Node[T]] = {}  # by the segment's pattern (`{name}.{ext}`)
        self.ends: list[_Template[T]] = []


class PathTable(Generic[T]):
    """Templates in a trie of segments: a request walks only the branches its segments fit."""

    def __init__(self) -> None:
        self._literal: dict[str, T] = {}
        self._root: _Node[T] = _Node()
        self._count = 0

    def add(self, template: str, value: T) -> None:
        if "{" not in template:
            self._literal[template] = value
            return
        segments = template.split("/")
        parsed = [_segment(segment) for segment in segments]
        entry = _Template(
            tuple(literal for literal, _, _, _ in parsed),
            tuple(name for _, name, _, _ in parsed),
            tuple(regex for _, _, regex, _ in parsed),
            sum(count for _, _, _, count in parsed),
            sum(name is not None for _, name, _, _ in parsed),
            self._count,
            value,
        )
        self._count += 1
        node = self._root
        for segment, (literal, name, _, _) in zip(segments, parsed, strict=True):
            if literal is not None:
                node = node.literal.setdefault(literal, _Node())
            elif name is not None:
                if node.variable is None:
                    node.variable = _Node()
                node = node.variable
            else:
                node = node.mixed.setdefault(_VARIABLE.sub("{}", segment), _Node())
        node.ends.append(entry)

    def match(self, path: str, segments: list[str] | None = None) -> tuple[T, dict[str, str]] | None:
        """`segments`: the path's segments, each decoded apart, when one holds an encoded slash
        (`/data/a%2Fb`: the value `a/b` of one segment, not two segments)."""
        if segments is None:
            found = self._literal.get(path)
            if found is not None:
                return found, {}
            segments = path.split("/")
        # Every template the segments fit competes on OpenAPI's order; a mixed segment's pattern
        # (`{name}.{ext}`) is checked last, by the template itself.
        for template in sorted(self._candidates(segments), key=lambda t: (t.whole, t.variables, t.order)):
            params = template.match(segments)
            if params is not None:
                return template.value, params
        return None

    def _candidates(self, segments: list[str]) -> list[_Template[T]]:
        found: list[_Template[T]] = []
        stack: list[tuple[_Node[T], int]] = [(self._root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth == len(segments):
                found.extend(node.ends)
                continue
            segment = segments[depth]
            child = node.literal.get(segment)
            if child is not None:
                stack.append((child, depth + 1))
            if node.variable is not None and (segment or depth < len(segments) - 1):
                stack.append((node.variable, depth + 1))
            stack.extend((mixed, depth + 1) for mixed in node.mixed.values())
        return found


def _segment(
    segment: str,
) -> tuple[str | None, str | None, tuple[re.Pattern[str], tuple[str, ...]] | None, int]:
    """(literal, whole-segment variable, regex for a mixed segment, number of variables)."""
    if "{" not in segment:
        return segment, None, None, 0
    whole = _VARIABLE.fullmatch(segment)
    if whole is not None:
        return None, whole.group(1), None, 1
    parts = _VARIABLE.split(segment)
    # (any character: segments are split already, and one sent with `%2F` holds a slash)
    pattern = "".join(re.escape(p) if i % 2 == 0 else "([\\s\\S]+)" for i, p in enumerate(parts))
    return None, None, (re.compile(pattern), tuple(parts[1::2])), len(parts) // 2
