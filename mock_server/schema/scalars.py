"""Strings and numbers from a schema's own keywords: formats, patterns, bounds; and the
timestamps and UUIDs the answers write. Leaves of the generator (generation.py), which compiles
the rest."""

from __future__ import annotations

import base64
import random
import re
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mock_server.schema.lru import ByteLRU
from mock_server.schema.patterns import python_pattern

try:  # the regex parser moved in 3.11; both spellings are stdlib
    import re._parser as sre_parse  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef,unused-ignore]

Gen = Callable[[random.Random, int], Any]
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ("alpha", "delta", "orbit", "cedar", "harbor", "quartz", "lumen", "maple", "signal", "vector")
PATTERN_MAX_LENGTH = 1024  # what a pattern without maxLength may give: its repeats are bounded anyway


def iso(moment: datetime) -> str:
    """`2026-03-04T05:06:07.891Z`: UTC, milliseconds cut (not rounded), as the service writes them."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # An answer writes up to two of these, and formatting six fields took a fifth of the time of
    # a remembered request's answer: the text down to the second is kept (a clock's seconds repeat
    # from one answer to the next), and the milliseconds are looked up.
    since = moment - _UNIX
    second = since.days * 86400 + since.seconds
    text = _SECONDS.get(second)
    if text is None:
        if len(_SECONDS) >= _SECONDS_KEPT:
            _SECONDS.clear()
        text = _SECONDS[second] = "%04d-%02d-%02dT%02d:%02d:%02d" % (  # noqa: UP031 - the fastest spelling
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
        )
    return text + _MILLISECONDS[since.microseconds // 1000]


_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS: dict[int, str] = {}
_SECONDS_KEPT = 4096  # of ~130 bytes each (key, text, slot): about half a MiB at most
_MILLISECONDS = tuple(f".{ms:03d}Z" for ms in range(1000))
_UUID4_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def random_uuid(rng: random.Random) -> str:
    # A version-4 UUID of 128 drawn bits, spelled out on the hex digits (cheaper than masking the
    # integer): the version digit is 4, the variant digit keeps its two low bits under the bits 10.
    h = rng.getrandbits(128).to_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_UUID4_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def string_gen(schema: dict[str, Any]) -> Gen:
    fmt = schema.get("format")
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", max(low, 12)))
    # A pattern says how long its strings are: 12, the default for plain text, refused every
    # UUID-shaped sample (DigitalOcean's `^$|[0-9a-f]{8}…`) and kept the last, broken one.
    patterned = int(schema.get("maxLength", max(low, PATTERN_MAX_LENGTH)))
    if "x-patterns" in schema:
        return _from_patterns(list(schema["x-patterns"]), low, patterned)
    formats: dict[str, Gen] = {
        "date-time": lambda rng, d: iso(_EPOCH + timedelta(seconds=rng.randint(0, 300 * 86400))),
        "date": lambda rng, d: (_EPOCH + timedelta(days=rng.randint(0, 300))).date().isoformat(),
        "time": lambda rng, d: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        "uuid": lambda rng, d: random_uuid(rng),
        "email": lambda rng, d: f"{rng.choice(WORDS)}.{rng.randint(1, 99)}@example.com",
        "uri": lambda rng, d: f"https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 999)}",
        "url": lambda rng, d: f"https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 999)}",
        "hostname": lambda rng, d: f"{rng.choice(WORDS)}.example.com",
        "ipv4": lambda rng, d: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
        "ipv6": lambda rng, d: "2001:db8::" + format(rng.randint(1, 0xFFFF), "x"),
        "byte": lambda rng, d: base64.b64encode(rng.randbytes(rng.randint(1, 12))).decode(),
    }
    if "pattern" in schema:
        by_pattern = _from_pattern(schema["pattern"], low, patterned)
        if fmt in formats:  # Graph's date-times carry a pattern any digits match: the format's own first
            return _format_matching(formats[fmt], schema["pattern"], by_pattern)
        return by_pattern
    if fmt in formats:
        return formats[fmt]

    def text(rng: random.Random, depth: int) -> str:
        word = f"{rng.choice(WORDS)}-{rng.randint(1, 9999)}"
        while len(word) < low:
            word += rng.choice(string.ascii_lowercase)
        return word[:high]

    return text


_FORMAT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "float": (-3.4e38, 3.4e38)}


def number_gen(schema: dict[str, Any], integer: bool) -> Gen:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0 if "maximum" not in schema else None))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if schema.get("format") in _FORMAT_RANGES:
        floor, ceiling = _FORMAT_RANGES[schema["format"]]
        low = None if low is None else max(low, floor)
        high = None if high is None else min(high, ceiling)
    if low is None:
        low = (high or 0) - 1000
    if high is None:
        high = low + 1000
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + (1 if integer else 0.01)
    if "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - (1 if integer else 0.01)
    step = schema.get("multipleOf")
    if integer:
        lo, hi = int(-(-low // 1)), int(high // 1)
        if step:
            first, last = -(-lo // step), hi // step
            return lambda rng, d: int(rng.randint(int(first), int(max(first, last))) * step)
        return lambda rng, d: rng.randint(lo, max(lo, hi))
    if step:
        first, last = -(-low // step), high // step
        exact = Decimal(str(step))  # k * 0.01 in floats drifts off the multiple; decimals do not
        return lambda rng, d: float(rng.randint(int(first), int(max(first, last))) * exact)
    return lambda rng, d: round(rng.uniform(low, high), 2) if high - low >= 0.02 else low


def _format_matching(by_format: Gen, pattern: str, by_pattern: Gen) -> Gen:
    """A value of the format when it matches the pattern too, else one of the pattern."""
    try:
        regex = re.compile(pattern)
    except re.error:
        return by_pattern

    def gen(rng: random.Random, depth: int) -> Any:
        value = by_format(rng, depth)
        return value if regex.search(value) else by_pattern(rng, depth)

    return gen


def _from_pattern(written: str, low: int, high: int) -> Gen:
    pattern = python_pattern(written) if isinstance(written, str) else None  # ECMA-262 → `re`
    try:
        if pattern is None:
            raise re.error("no translation")
        parsed = sre_parse.parse(pattern)
        regex = re.compile(pattern)
    except re.error:
        return lambda rng, d: "x" * low

    def gen(rng: random.Random, depth: int) -> str:
        for _ in range(20):
            emitted = _emit(parsed, rng)
            candidate = _fit(emitted, pattern, low, rng)
            if low <= len(candidate) <= high and regex.search(candidate):
                return candidate
            # Letters added where the pattern looked unanchored can break a branch anchored on its own
            # (DigitalOcean's `^$|[0-9a-f]{8}…`: "" + "ap"); the sample as emitted may still fit.
            if low <= len(emitted) <= high and regex.search(emitted):
                return emitted
        return candidate

    return gen


def _from_patterns(patterns: list[str], low: int, high: int) -> Gen:
    """A string matching every pattern (an allOf of patterns): samples of each, joined, in an order
    that puts `^`-anchored ones first and `$`-anchored ones last, tried until all match."""
    written = patterns
    translated = [python_pattern(p) if isinstance(p, str) else None for p in written]
    patterns = [p for p in translated if p is not None]  # (one `re` cannot say is left to the validator)
    if not patterns:
        return lambda rng, d: "x" * low
    try:
        parsed = [sre_parse.parse(p) for p in patterns]
        regexes = [re.compile(p) for p in patterns]
    except re.error:
        return _from_pattern(written[0], low, high)

    def gen(rng: random.Random, depth: int) -> str:
        candidate = ""
        for attempt in range(60):
            order = list(range(len(patterns)))
            rng.shuffle(order)
            order.sort(
                key=lambda i: 0 if patterns[i].startswith("^") else 2 if patterns[i].endswith("$") else 1
            )
            if attempt % 2:  # one full sample alone, the others only checked
                candidate = _emit(parsed[order[0]], rng)
            else:
                candidate = "".join(_emit(parsed[i], rng) for i in order)
            candidate = _fit(candidate, "|".join(patterns), low, rng)
            if low <= len(candidate) <= high and all(r.search(candidate) for r in regexes):
                return candidate
        return candidate

    return gen


def _fit(candidate: str, pattern: str, low: int, rng: random.Random) -> str:
    """Letters added on a side the pattern does not anchor: to reach minLength, and a few at random
    so that an unanchored pattern (`x$`) gives distinct strings (uniqueItems)."""
    free_end, free_start = not pattern.endswith("$"), not pattern.startswith("^")
    if not (free_end or free_start):
        return candidate
    extra = max(low - len(candidate), 0) + rng.randint(0, 3)
    filler = "".join(rng.choice(string.ascii_lowercase) for _ in range(extra))
    return candidate + filler if free_end else filler + candidate


def _emit(parsed: Any, rng: random.Random) -> str:
    out = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append(rng.choice(string.ascii_letters))
        elif name == "NOT_LITERAL":  # `[^/]`
            out.append(rng.choice([c for c in string.ascii_letters if ord(c) != arg]))
        elif name == "IN":
            out.append(_emit_class(arg, rng))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            hi = min(hi, lo + 4) if hi != sre_parse.MAXREPEAT else lo + 4
            out.extend(_emit(sub, rng) for _ in range(rng.randint(lo, max(lo, hi))))
        elif name == "SUBPATTERN":
            out.append(_emit(arg[-1], rng))
        elif name == "ATOMIC_GROUP":
            out.append(_emit(arg, rng))
        elif name == "BRANCH":
            out.append(_emit(rng.choice(arg[1]), rng))
        elif name == "CATEGORY":
            out.append(_emit_class([(op, arg)], rng))
    return "".join(out)


# A class's characters, by the parsed class (the entry keeps it alive, so its id is not reused):
# a pattern's class may be drawn from thousands of times (`^(?:[\p{L}]{1,5}\.){900}$`), and
# listing a Unicode category's characters each time took minutes.
_CLASSES: ByteLRU[int, tuple[Any, list[str]]] = ByteLRU(
    max_entries=512, max_bytes=4 * 1024 * 1024, max_entry_bytes=1024 * 1024
)


def _emit_class(items: Any, rng: random.Random) -> str:
    found = _CLASSES.get(id(items))
    if found is None or found[0] is not items:
        found = (items, _class_choices(items))
        _CLASSES.put(id(items), found, 64 + 60 * len(found[1]))
    return rng.choice(found[1])


def _class_choices(items: Any) -> list[str]:
    choices: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            choices.append(chr(arg))
        elif name == "RANGE":
            choices.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 64) + 1))
        elif name == "CATEGORY":
            category = str(arg)
            if "DIGIT" in category:
                choices.extend(string.digits if "NOT" not in category else string.ascii_letters)
            elif "WORD" in category:
                choices.extend(string.ascii_letters + string.digits + "_" if "NOT" not in category else "-.")
            elif "SPACE" in category:
                choices.extend(" " if "NOT" not in category else string.ascii_letters)
    if negate:
        excluded = set(choices)
        choices = [c for c in string.ascii_letters + string.digits if c not in excluded]
        if not choices:  # (`[^\p{L}\d]`: every letter and digit left out)
            choices = [c for c in "-_.~ !" if c not in excluded]
    return choices or ["x"]
