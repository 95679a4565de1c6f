"""ECMA-262 patterns as API documents write them (mock_server/schema/patterns.py): each translation is
checked against strings JavaScript accepts and refuses, in both engines, and a pattern without
one is skipped with a warning, never refusing the document."""

from __future__ import annotations

import random
import re
import time
from typing import Any

import jsonschema_rs
import pytest

from mock_server import Settings, create_app
from mock_server.contract import contract_from_dict
from mock_server.errors import ContractError
from mock_server.schema.generation import Generator
from mock_server.schema.patterns import Untranslatable, translate
from mock_server.schema.validation import SchemaCompiler
from tests.conftest import Client

# (pattern as written, where such a pattern comes from, strings it matches, strings it does not),
# judged as JavaScript judges them (`new RegExp(p).test(s)`, no flags).
REAL_WORLD: list[tuple[str, str, list[str], list[str]]] = [
    (r"^[-\w\._\(\)]+$", "Azure resourceGroupName", ["my-rg_1.(x)"], ["a b", "é", ""]),
    (
        r"^projects/[^/]+/locations/[^/]+$",
        "Google Cloud",
        ["projects/p/locations/l"],
        ["projects/p", "projects/p/locations/"],
    ),
    (
        r"^arn:aws(-cn|-us-gov|-iso(-[a-z])?)?:iam::\d{12}:(role)\/*",
        "AWS IAM",
        ["arn:aws:iam::123456789012:role/x", "arn:aws-iso-b:iam::123456789012:role"],
        ["arn:aws:iam::12:role"],
    ),
    (
        r"^arn:aws([a-z-]+)?:outposts:[a-z\d-]+:\d{12}:outpost/op-[a-f0-9]{17}$",
        "AWS Outposts",
        ["arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"],
        ["arn:aws:outposts:us-east-1:123456789012:outpost/op-0123"],
    ),
    (
        r"^.{0,262144}$",
        "a size limit (refused by the Rust engine as written)",
        ["", "a" * 262144],
        ["a" * 262145, "a\nb", "a\rb", "a\u2028b"],
    ),
    (r"^[\uD800-\uDBFF][\uDC00-\uDFFF]$", "a surrogate pair", ["😀", "\U0010ffff"], ["a", "é", "😀😀"]),
    (r"^(?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[^\uD800-\uDFFF])*$", "well-formed UTF-16", ["a😀b", ""], []),
    (r"^[\u0000-\uFFFF]*$", "any UTF-16 text", ["a😀b\n", ""], []),
    (r"^[\w-.]+$", "Annex B: a class as a range's end", ["a-b.c", "A_1"], ["a b", "a/b"]),
    (r"^[^\000-\037]*$", "Annex B: octal escapes", ["abc", ""], ["a\x01b", "\x1f"]),
    (r"^a{,2}$", "Annex B: a brace that is no quantifier", ["a{,2}"], ["aa", "a"]),
    (r"^\p{XDigit}+$", "Java's POSIX class", ["09afAF"], ["g", ""]),
    (r"^\p{Alnum}{2}$", "Java's POSIX class", ["a1"], ["é1", "a"]),
    (
        r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$",
        "an e-mail address",
        ["a.b@example.com"],
        ["a@b", "a b@example.com"],
    ),
    (
        r"^[a-zA-Z0-9](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){0,38}$",
        "GitHub login (a lookahead)",
        ["octo-cat", "a"],
        ["octo--cat", "-octo", "octo-"],
    ),
    (r"^[a-zA-Z0-9_\-]+$", "an identity escape in a class", ["a_b-c"], ["a.b"]),
    (
        r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$",
        "Microsoft Graph duration",
        ["P1D", "PT5M", "P1Y2M"],
        ["P", "PT", "P1DT"],
    ),
    (r"^-?[0-9]+(\.[0-9]+)?$", "Microsoft Graph decimal", ["-1.5", "3"], ["1.", "+1"]),
    (r"x\b", "an ASCII word boundary", ["x", "x y", "xé"], ["xy", "x_"]),
    (r"^\S+$", "ECMA-262's whitespace", ["abc"], ["a\u00a0b", "a\u2003b", "a\ufeffb", "a b"]),
    (r"^.+$", "ECMA-262's dot", ["a😀b"], ["a\rb", "a\u2029b", "a\nb"]),
    (r"^\d+$", "ECMA-262's digits", ["0123"], ["\u0663", "\uff11", "12\n"]),
    (r"^\w+$", "ECMA-262's word characters", ["a_1"], ["é", "ß"]),
    (r"""^(['"]).*\1$""", "a backreference", ["'a'", '"b"'], ["'a\"", "a"]),
    (r"^(?<year>\d{4})-\k<year>$", "a named group and its reference", ["2020-2020"], ["2020-2021"]),
    (r"^a\cJb$", "a control escape", ["a\nb"], ["acJb"]),
    (r"^\/api\/v[0-9]+$", "escaped slashes", ["/api/v2"], ["/api/v"]),
    (r"^[^]*$", "[^]: any character", ["a\nb", ""], []),
    (r"^[\p{L} '-]+$", "a Unicode property", ["José O'Neil", "Łódź"], ["J0", ""]),
    (
        r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$",
        "IPv4",
        ["10.0.0.255"],
        ["256.0.0.1", "1.2.3"],
    ),
    (r"^AC[0-9a-fA-F]{32}$", "Twilio account SID", ["AC" + "0f" * 16], ["AC" + "0g" * 16]),
    (
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
        "semver",
        ["1.2.3-rc.1+b5"],
        ["01.2.3", "1.2"],
    ),
    (r"^\u{1F600}$", "a code point escape (the u mode's)", ["😀"], ["u"]),
    (r"^\xZ\8\101$", "Annex B: \\x without digits, \\8, octal \\101", ["xZ8A"], ["\\xZ8A"]),
    (r"^[\b]$", "a backspace in a class", ["\b"], ["b"]),
    (r"^[\S\d]+$", "a negated class inside a class", ["a1"], ["a b"]),
    (r"^[^\s\d]+$", "class escapes in a negated class", ["ab"], ["a1", "a b"]),
    (r"^\$[a-z]+\.[a-z]+$", "escaped metacharacters", ["$a.b"], ["$ab", "a.b"]),
    (r"^[\[\]{}]+$", "escaped brackets in a class", ["[]{}"], ["()"]),
    (r"^[^\p{L}\d]+$", "a property in a negated class", ["-_ "], ["a", "1", "é"]),
    (r"^[\p{Lu}\P{L}]+$", "a negated property in a class", ["A1-"], ["a"]),
    (
        r"^(?:[\p{L}\p{N}]{1,5}\.){900}$",
        "a repeated group too large for an automaton",
        ["ab." * 900],
        ["ab." * 899],
    ),
]

UNTRANSLATABLE = [
    (r"\p{InGreek}", "Unicode blocks have no translation"),
    (r"^\uD800$", "lone surrogate"),
    (r"^[\uD800-\uDBFF]$", "some surrogates but not all"),
    (r"(?i)abc", "invalid group"),
    (r"a**", "nothing to repeat"),
    (r"[b-a]", "range out of order"),
    (r"(abc", "missing ')'"),
    (r"\p{NotAProperty}", "the validator cannot compile it"),
]


def rust_accepts(source: str, value: str) -> bool:
    return bool(jsonschema_rs.validator_for({"pattern": translate(source).rust}).is_valid(value))


@pytest.mark.parametrize(
    ("source", "origin", "matching", "other"), REAL_WORLD, ids=[r[1] for r in REAL_WORLD]
)
def test_a_real_world_pattern_means_in_both_engines_what_it_means_in_javascript(
    source: str, origin: str, matching: list[str], other: list[str]
) -> None:
    translation = translate(source)
    python = re.compile(translation.python) if translation.python is not None else None
    for value in matching:
        assert rust_accepts(source, value), (origin, value)
        assert python is None or python.search(value), (origin, value)
    for value in other:
        assert not rust_accepts(source, value), (origin, value)
        assert python is None or not python.search(value), (origin, value)


def test_most_real_world_patterns_have_a_python_translation_too() -> None:
    assert [source for source, *_ in REAL_WORLD if translate(source).python is None] == []


@pytest.mark.parametrize(("source", "why"), UNTRANSLATABLE)
def test_a_pattern_without_a_faithful_translation_says_why(source: str, why: str) -> None:
    with pytest.raises(Untranslatable, match=re.escape(why)):
        translate(source)


def test_generated_strings_match_the_patterns() -> None:
    started = time.perf_counter()
    compiler = SchemaCompiler({"components": {}})
    generator = Generator({"components": {}}, compiler=compiler)
    for source, origin, *_ in REAL_WORLD:
        if source == r"^.{0,262144}$" or "\\1" in source or "\\k" in source:
            continue  # (a quarter of a million characters; the generator writes no backreference)
        schema = {"type": "string", "pattern": source}
        validator = compiler.checker(schema)
        rng = random.Random(5)
        values = [generator.instance(schema, rng) for _ in range(5)]
        assert any(validator.is_valid(v) for v in values), (origin, values)
    # (a Unicode category's class listed per character drawn took minutes for the 900 repetitions)
    assert time.perf_counter() - started < 30


def document(*patterns: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {f"p{i}": {"type": "string", "pattern": p} for i, p in enumerate(patterns)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": {"Thing": {"type": "object", "properties": properties, **(extra or {})}}},
    }


def test_a_document_with_ecma_only_patterns_is_served_and_its_patterns_checked() -> None:
    contract = contract_from_dict(document(r"^[\w-.]+$", r"^.{0,262144}$", r"^\p{XDigit}+$", r"^\d+$"))
    assert contract.warnings == ()
    with Client(create_app(contract, settings=Settings())) as client:
        assert (
            client.post("/things", json={"p0": "a-b.c", "p1": "x", "p2": "ff", "p3": "12"}).status_code == 200
        )
        refused = client.post("/things", json={"p0": "a b", "p1": "a\nb", "p2": "fg", "p3": "٣"})
        assert refused.status_code == 422
        detail = refused.json()["detail"]
        assert [e["loc"] for e in detail] == [["body", f"p{i}"] for i in range(4)]
        # the message names the pattern as the document writes it
        assert detail[0]["msg"] == r"String should match pattern '^[\w-.]+$'"


def test_one_pattern_without_a_translation_is_skipped_with_a_warning_not_the_document() -> None:
    written = document(
        r"^\p{InGreek}+$", r"^\d+$", extra={"patternProperties": {r"^x-\p{InBasic_Latin}$": {}}}
    )
    contract = contract_from_dict(written)
    assert sorted((w.pointer, w.message.split(" (")[0]) for w in contract.warnings) == [
        (
            r"/components/schemas/Thing/patternProperties/^x-\p{InBasic_Latin}$",
            r"pattern '^x-\\p{InBasic_Latin}$' has no translation from ECMA-262",
        ),
        (
            "/components/schemas/Thing/properties/p0/pattern",
            r"pattern '^\\p{InGreek}+$' has no translation from ECMA-262",
        ),
    ]
    assert all(w.message.endswith("; not checked") for w in contract.warnings)
    with Client(create_app(contract, settings=Settings())) as client:
        assert client.post("/things", json={"p0": "anything", "p1": "1"}).status_code == 200
        assert (
            client.post("/things", json={"p0": "anything", "p1": "x"}).status_code == 422
        )  # the rest is checked
    with pytest.raises(ContractError, match="InGreek"):  # --strict refuses it
        contract_from_dict(written, strict=True)
    # the served document keeps the pattern as written
    assert written["components"]["schemas"]["Thing"]["properties"]["p0"]["pattern"] == r"^\p{InGreek}+$"


def test_translations_are_kept_within_their_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_server.schema import patterns
    from mock_server.schema.lru import ByteLRU

    kept: ByteLRU[str, Any] = ByteLRU(max_entries=1000, max_bytes=256 * 1024, max_entry_bytes=64 * 1024)
    monkeypatch.setattr(patterns, "_TRANSLATED", kept)
    for i in range(40):
        translate(rf"^[\p{{L}}]{{{i}}}$")  # each holds a Unicode category's ranges for `re`
    assert 0 < kept.bytes <= kept.max_bytes and len(kept) < 40
    for _ in range(2):  # a refusal is kept too, with its reason
        with pytest.raises(Untranslatable, match="lone surrogate"):
            translate(r"\uDC00")
