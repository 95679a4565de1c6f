"""Path templates (`/items/{item_id}`) → whatever is served there, matched segment by segment.

Built once per document, in time linear in its paths: no regular expression is compiled for a
template whose variables fill whole segments (nearly all of them). A request is compared only
with the templates of the same number of segments and the same first segment, so matching does
not grow with the size of the document either.

OpenAPI's rule: a concrete path wins over a templated one; among templates, fewer variables
first, then the document's order.
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
                if not segment:
                    return None
                params[name] = segment
                continue
            pattern, names = self.mixed[i]  # type: ignore[misc]
            found = pattern.fullmatch(segment)
            if found is None:
                return None
            params.update(zip(names, found.groups(), strict=True))
        return params


class PathTable(Generic[T]):
    def __init__(self) -> None:
        self._literal: dict[str, T] = {}
        self._buckets: dict[tuple[int, str | None], list[_Template[T]]] = {}
        self._count = 0

    def add(self, template: str, value: T) -> None:
        if "{" not in template:
            self._literal[template] = value
            return
        segments = template.split("/")
        parsed = [_segment(segment) for segment in segments]
        literals = [literal for literal, _, _, _ in parsed]
        names = [name for _, name, _, _ in parsed]
        mixed = [regex for _, _, regex, _ in parsed]
        variables = sum(count for _, _, _, count in parsed)
        entry = _Template(tuple(literals), tuple(names), tuple(mixed), variables, self._count, value)
        self._count += 1
        self._buckets.setdefault((len(segments), _first(segments, literals)), []).append(entry)

    def finish(self) -> None:
        for bucket in self._buckets.values():
            bucket.sort(key=lambda t: (t.variables, t.order))

    def match(self, path: str) -> tuple[T, dict[str, str]] | None:
        found = self._literal.get(path)
        if found is not None:
            return found, {}
        segments = path.split("/")
        first = segments[1] if len(segments) > 1 else None
        candidates = self._buckets.get((len(segments), first), [])
        anywhere = self._buckets.get((len(segments), None), [])
        if candidates and anywhere:
            candidates = sorted([*candidates, *anywhere], key=lambda t: (t.variables, t.order))
        elif anywhere:
            candidates = anywhere
        for template in candidates:
            params = template.match(segments)
            if params is not None:
                return template.value, params
        return None


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
    pattern = "".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts))
    return None, None, (re.compile(pattern), tuple(parts[1::2])), len(parts) // 2


def _first(segments: list[str], literals: list[str | None]) -> str | None:
    # Templates bucket by their first segment after the leading "/", when it is literal.
    return literals[1] if len(segments) > 1 else None
