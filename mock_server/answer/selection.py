"""Which documented response answers, and with which value: status selection and examples.

Built once per operation at start-up from the document's `responses`, every media type kept
(the operation table in contract.py keeps only the JSON schema). Status keys are the document's:
`"201"`, a range `"4XX"`, or `"default"`.

Order of values (Prism's static mode): the media type's `example`, its first named `examples`
(or the one `Prefer: example=NAME` names), the schema's `examples`/`example`/`default`, else data
generated from the schema.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_server.document.openapi30 import openapi30_to_json_schema
from mock_server.document.refs import follow, schema_at
from mock_server.schema.generation import Gen, Generator

MISSING: Any = object()  # no static value: generate one


@dataclass(frozen=True, slots=True)
class Media:
    media_type: str
    schema: Any  # JSON Schema (3.0 dialect rewritten), None when the document gives none
    example: Any  # the media type's `example`, or MISSING
    examples: Mapping[str, Any]  # named examples' values, in document order
    schema_example: Any  # the schema's own examples/example/default, or MISSING
    generate: Gen | None
    root: str  # an element name for XML answers


@dataclass(frozen=True, slots=True)
class Response:
    key: str
    media: tuple[Media, ...] = field(default=())
    headers: tuple[tuple[str, str], ...] = ()  # the documented headers sent with it (`_headers`)

    @property
    def offered(self) -> tuple[str, ...]:
        return tuple(m.media_type for m in self.media)

    def get(self, media_type: str) -> Media | None:
        return next((m for m in self.media if m.media_type == media_type), None)


def _status_of(key: str, fallback: int) -> int:
    if key.isdigit():
        return int(key)
    if len(key) == 3 and key[0] in "12345" and key[1:].upper() == "XX":
        return int(key[0]) * 100 if fallback // 100 != int(key[0]) else fallback
    return fallback


class Responses:
    """One operation's documented responses."""

    def __init__(self, responses: Mapping[str, Response]) -> None:
        self.by_key = dict(responses)

    def lookup(self, code: int) -> Response | None:
        """The response that documents `code`: exactly, by its range (`4XX`), or `default`."""
        return (
            self.by_key.get(str(code))
            or self.by_key.get(f"{code // 100}XX")
            or self.by_key.get(f"{code // 100}xx")
            or self.by_key.get("default")
        )

    def documented(self) -> list[str]:
        return list(self.by_key)

    def success(self) -> tuple[int, Response] | None:
        """The answer to a valid request: the lowest documented 2xx, a `2XX` range (200), `default`
        (200), else the first documented response (never an invented 200)."""
        exact = sorted(k for k in self.by_key if k.isdigit() and k.startswith("2"))
        if exact:
            return int(exact[0]), self.by_key[exact[0]]
        for key in ("2XX", "2xx", "default"):
            if key in self.by_key:
                return 200, self.by_key[key]
        numeric = sorted(k for k in self.by_key if k.isdigit())
        if numeric:
            return int(numeric[0]), self.by_key[numeric[0]]
        for key, response in self.by_key.items():
            return _status_of(key, 200), response
        return None

    def first_of(
        self, keys: Sequence[str], status_for_default: int, *, with_default: bool = True
    ) -> tuple[int, Response] | None:
        """The first documented of `keys` (e.g. 422, 400), with the status to send: the code
        itself, the range's own code when it covers `status_for_default`, `default` with it."""
        for key in keys:
            if key in self.by_key:
                return _status_of(key, status_for_default), self.by_key[key]
        for key in keys:  # exact codes first, then the ranges that cover them
            ranged = f"{key[0]}XX"
            if key.isdigit() and (ranged in self.by_key or ranged.lower() in self.by_key):
                return int(key), self.by_key.get(ranged) or self.by_key[ranged.lower()]
        if "default" in self.by_key and with_default:
            return status_for_default, self.by_key["default"]
        return None


def static_value(media: Media, name: str | None = None) -> Any:
    """The example to answer with (MISSING: none; generate). `name`: a named example, checked by the caller."""
    if name is not None:
        return media.examples[name]
    if media.example is not MISSING:
        return media.example
    if media.examples:
        return next(iter(media.examples.values()))
    return media.schema_example


def build(
    document: Mapping[str, Any],
    raw_responses: Any,
    generator: Generator,
    *,
    openapi30: bool,
    schema_root: Mapping[str, Any],
    lazy: bool = False,
) -> Responses:
    """The operation's `responses` object (raw, as written) → its table. References in schemas
    are followed in `schema_root` (the normalized schemas), others in `document`. `lazy`: answers'
    generators are compiled on first use (a document of thousands of operations starts in seconds)."""
    out: dict[str, Response] = {}
    if not isinstance(raw_responses, Mapping):
        return Responses(out)
    for status, raw in raw_responses.items():
        response = follow(document, raw)
        if not isinstance(response, Mapping):
            continue
        media = []
        for media_type, content in (response.get("content") or {}).items():
            content = follow(document, content) if isinstance(content, Mapping) else {}
            schema = content.get("schema")
            if schema is not None and openapi30:
                schema = openapi30_to_json_schema(schema)
            examples = {
                str(name): follow(document, ex).get("value")
                for name, ex in (content.get("examples") or {}).items()
                if isinstance(follow(document, ex), Mapping) and "value" in follow(document, ex)
            }
            media.append(
                Media(
                    media_type=str(media_type),
                    schema=schema,
                    example=content.get("example", MISSING),
                    examples=examples,
                    schema_example=_schema_example(schema_root, schema),
                    generate=None
                    if schema is None
                    else _on_first_use(generator, schema)
                    if lazy
                    else generator.compile(schema),
                    root=_root_name(schema),
                )
            )
        headers = _headers(document, response.get("headers"), generator, openapi30, schema_root)
        out[str(status)] = Response(str(status), tuple(media), headers)
    return Responses(out)


# Headers the server's framing or the answer itself sets (a `Content-Type` header's definition is
# ignored, says OpenAPI): a document's would contradict them.
_NOT_SENT = frozenset(
    {"content-type", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te"}
    | {"trailer", "date", "server"}
)
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_TEXT = re.compile(r"[\t\x20-\x7e\xa0-\xff]*")  # visible Latin-1, spaces and tabs: one line


def _headers(
    document: Mapping[str, Any],
    raw: Any,
    generator: Generator,
    openapi30: bool,
    schema_root: Mapping[str, Any],
) -> tuple[tuple[str, str], ...]:
    """A response's documented headers with the values sent, Prism's static mode: the header's
    `example`, its first `examples`, its schema's examples/example/default, else a value generated
    once from its schema. Written in the `simple` style (arrays and objects comma-separated, as
    OpenAPI serializes headers); a header whose value cannot be one header line is left out."""
    if not isinstance(raw, Mapping):
        return ()
    out = []
    for name, spec in raw.items():
        spec = follow(document, spec)
        if not isinstance(name, str) or not isinstance(spec, Mapping) or not _HEADER_NAME.fullmatch(name):
            continue
        if name.lower() in _NOT_SENT:
            continue
        text = _simple(_header_value(document, spec, generator, openapi30, schema_root))
        if text is not None:
            out.append((name, text))
    return tuple(out)


def _header_value(
    document: Mapping[str, Any],
    spec: Mapping[str, Any],
    generator: Generator,
    openapi30: bool,
    schema_root: Mapping[str, Any],
) -> Any:
    if "example" in spec:
        return spec["example"]
    for example in (spec.get("examples") or {}).values() if isinstance(spec.get("examples"), Mapping) else ():
        example = follow(document, example)
        if isinstance(example, Mapping) and "value" in example:
            return example["value"]
    schema = spec.get("schema")
    if schema is None:
        return MISSING
    if openapi30:
        schema = openapi30_to_json_schema(schema)
    value = _schema_example(schema_root, schema)
    if value is not MISSING:
        return value
    try:  # the same value every time, as a static example would be
        return generator.compile(schema)(random.Random(f"header:{spec!r:.200}"), 0)
    except Exception:  # a schema the generator cannot serve: the header is left out
        return MISSING


def _on_first_use(generator: Generator, schema: Any) -> Gen:
    compiled: list[Gen] = []

    def generate(rng: random.Random, depth: int) -> Any:
        if not compiled:
            compiled.append(generator.compile(schema))
        return compiled[0](rng, depth)

    return generate


def _simple(value: Any) -> str | None:
    """`value` as one header's text (OpenAPI's `simple` style), or None."""
    if isinstance(value, list):
        parts = [_scalar(item) for item in value]
        text = None if any(p is None for p in parts) else ",".join(p for p in parts if p is not None)
    elif isinstance(value, dict):
        pairs = [(str(k), _scalar(v)) for k, v in value.items()]
        text = None if any(v is None for _, v in pairs) else ",".join(f"{k},{v}" for k, v in pairs)
    else:
        text = _scalar(value)
    if text is None or not _HEADER_TEXT.fullmatch(text):
        return None
    return text.strip(" \t")


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _schema_example(root: Mapping[str, Any], schema: Any) -> Any:
    resolved = schema_at(root, schema)
    if not isinstance(resolved, Mapping):
        return MISSING
    if isinstance(resolved.get("examples"), list) and resolved["examples"]:
        return resolved["examples"][0]
    for key in ("example", "default"):
        if key in resolved:
            return resolved[key]
    return MISSING


def _root_name(schema: Any) -> str:
    if isinstance(schema, Mapping):
        xml = schema.get("xml")
        if isinstance(xml, Mapping) and isinstance(xml.get("name"), str):
            return str(xml["name"])
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return ref.rsplit("/", 1)[-1]
    return "root"
