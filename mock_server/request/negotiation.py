"""Content negotiation (RFC 9110 §12.5.1): which declared media type answers a request's `Accept`.

Pure functions over strings, so they are tested without HTTP. A media range's quality is that of the
most specific range matching the offered type; `q=0` refuses a type; ties keep the document's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaRange:
    main: str  # "text", or "*"
    sub: str  # "plain", or "*"
    q: float

    @property
    def specificity(self) -> int:
        return (self.main != "*") + (self.sub != "*")

    def matches(self, main: str, sub: str) -> bool:
        return (self.main in ("*", main)) and (self.sub in ("*", sub))


def essence(media_type: str) -> str:
    """`Application/JSON; charset=utf-8` → `application/json`."""
    return media_type.split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    main = essence(media_type)
    return main in ("application/json", "text/json", "*/*") or main.endswith("+json")


def accepts_content(declared: Sequence[str], sent: str) -> bool:
    """Whether a request body of media type `sent` is one the operation declares (`*/*` and
    `type/*` ranges included; a `+json` type where JSON is declared). No Content-Type: accepted,
    the body is read as the first declared type."""
    main = essence(sent)
    if not main:
        return True
    for media_type in declared:
        wanted = essence(media_type)
        if wanted in ("*/*", main) or (wanted.endswith("/*") and main.startswith(wanted[:-1])):
            return True
        if is_json(wanted) and is_json(main):
            return True
    return False


def is_xml(media_type: str) -> bool:
    main = essence(media_type)
    return main in ("application/xml", "text/xml") or main.endswith("+xml")


def parse_accept(header: str) -> list[MediaRange]:
    """The ranges of an `Accept` header; unreadable parts are skipped, as RFC 9110 lets a server do."""
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        main, _, sub = pieces[0].lower().partition("/")
        if not main or not sub:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0 if value.strip() == "0" else 1.0
        out.append(MediaRange(main, sub, q))
    return out


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    main, _, sub = essence(media_type).partition("/")
    best: MediaRange | None = None
    for candidate in ranges:
        if candidate.matches(main, sub) and (best is None or candidate.specificity > best.specificity):
            best = candidate
    return best.q if best is not None else 0.0


def choose(accept: str | None, offered: Sequence[str]) -> str | None:
    """The declared media type to answer with, or None when `Accept` refuses them all (406).

    Without `Accept` a JSON type is preferred, then the first declared; with `*/*` alone (curl's
    default) the first declared, the document's own order (as Prism does)."""
    if not offered:
        return None
    ranges = parse_accept(accept) if accept and accept.strip() else []
    if not ranges:
        return next((m for m in offered if is_json(m)), offered[0])
    if all(r.main == "*" and r.sub == "*" and r.q > 0 for r in ranges):
        return offered[0]
    best, best_q = None, 0.0
    for media_type in offered:
        if essence(media_type) == "*/*":  # a document offering anything: answer what was asked
            continue
        q = quality(ranges, media_type)
        if q > best_q:
            best, best_q = media_type, q
    if best is None and any(essence(m) == "*/*" for m in offered):
        wanted = max(
            (r for r in ranges if r.q > 0 and "*" not in (r.main, r.sub)), key=lambda r: r.q, default=None
        )
        return f"{wanted.main}/{wanted.sub}" if wanted else "application/json"
    return best
