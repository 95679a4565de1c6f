"""Verdicts judged from the client's side: can a client that followed the old document fail against
the new one? A request must still be accepted; a response must be one the client was told to expect.

Each case is a small document pair; `verdict` says whether the change breaks (exit 1) or not.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contract_tests.diff import diff_documents
from contract_tests.diff.findings import Finding

Schema = dict[str, Any]


def document(
    *,
    request: Schema | None = None,
    response: Schema | None = None,
    parameters: list[dict[str, Any]] | None = None,
    path: str = "/things/{id}",
    components: dict[str, Schema] | None = None,
    path_schema: Schema | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "responses": {
            "200": {
                "description": "ok",
                **({"content": {"application/json": {"schema": response}}} if response is not None else {}),
            }
        }
    }
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    params = [{"name": "id", "in": "path", "required": True, "schema": path_schema or {"type": "string"}}]
    operation["parameters"] = params + list(parameters or [])
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {path: {"post": operation}},
        "components": {"schemas": copy.deepcopy(components or {})},
    }


def breaking(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    return [f for f in diff_documents(old, new) if f.level == "breaking"]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


OBJ_FOO_BAR: Schema = {
    "type": "object",
    "properties": {"foo": {"type": "string"}, "bar": {"type": "string"}},
    "required": ["foo", "bar"],
}


# -- 1. oneOf exclusivity ------------------------------------------------------------------------


def _one_of(*branches: Schema, keyword: str = "oneOf", **extra: Any) -> Schema:
    return {keyword: list(branches), **extra}


ONE_OF_CASES = [
    pytest.param(
        OBJ_FOO_BAR,
        _one_of(
            {"type": "object", "properties": {"foo": {"type": "string"}}, "required": ["foo"]},
            {"type": "object", "properties": {"bar": {"type": "string"}}, "required": ["bar"]},
        ),
        True,
        id="old-body-matches-both-branches",
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {"foo": {"type": "string"}},
            "required": ["foo"],
            "additionalProperties": False,
        },
        _one_of(
            {"type": "object", "properties": {"foo": {"type": "string"}}, "required": ["foo"]},
            {"type": "object", "properties": {"bar": {"type": "string"}}, "required": ["bar"]},
        ),
        False,
        id="old-body-cannot-hold-bar",
    ),
    pytest.param(
        {"type": "string"},
        _one_of({"type": "string"}, {"type": "integer"}),
        False,
        id="branches-of-different-types",
    ),
    pytest.param(
        {"type": "number"},
        _one_of({"type": "number"}, {"type": "integer"}),
        True,
        id="integer-is-also-a-number",
    ),
    pytest.param(
        _one_of({"type": "string"}, {"type": "string", "maxLength": 3}, keyword="anyOf"),
        _one_of({"type": "string"}, {"type": "string", "maxLength": 3}),
        True,
        id="anyOf-becomes-oneOf-with-overlap",
    ),
    pytest.param(
        _one_of({"type": "string"}, {"type": "string", "maxLength": 3}),
        _one_of({"type": "string"}, {"type": "string", "maxLength": 3}, keyword="anyOf"),
        False,
        id="oneOf-becomes-anyOf",
    ),
    pytest.param(
        _one_of({"type": "string"}, {"type": "string", "maxLength": 3}),
        _one_of({"type": "string"}, {"type": "string", "maxLength": 3}),
        False,
        id="same-ambiguous-oneOf-as-before",
    ),
    pytest.param(
        _one_of(
            {"type": "object", "properties": {"kind": {"const": "cat"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"const": "dog"}}, "required": ["kind"]},
        ),
        _one_of(
            {"type": "object", "properties": {"kind": {"const": "cat"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"const": "dog"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"enum": ["fox", "cat"]}}, "required": ["kind"]},
        ),
        True,
        id="new-branch-overlaps-an-old-one",
    ),
    pytest.param(
        _one_of(
            {"type": "object", "properties": {"kind": {"const": "cat"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"const": "dog"}}, "required": ["kind"]},
        ),
        _one_of(
            {"type": "object", "properties": {"kind": {"const": "cat"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"const": "dog"}}, "required": ["kind"]},
            {"type": "object", "properties": {"kind": {"const": "fox"}}, "required": ["kind"]},
        ),
        False,
        id="new-branch-with-its-own-tag",
    ),
    pytest.param(
        _one_of({"type": "string"}, {"type": "integer"}),
        _one_of({"type": "string"}, {"type": ["integer", "string"]}),
        True,
        id="exclusive-alternatives-made-to-overlap",
    ),
    pytest.param(
        OBJ_FOO_BAR,
        _one_of(
            {"type": "object", "properties": {"foo": {"type": "string"}}, "required": ["foo"]},
            {"type": "object", "properties": {"bar": {"type": "string"}}, "required": ["bar"]},
            discriminator={"propertyName": "foo"},
        ),
        False,
        id="a-discriminator-picks-one",
    ),
]


@pytest.mark.parametrize(("old", "new", "verdict"), ONE_OF_CASES)
def test_one_of_exclusivity_in_a_request_body(old: Schema, new: Schema, verdict: bool) -> None:
    found = breaking(document(request=old), document(request=new))
    assert bool(found) is verdict, found
    if verdict:
        assert rules(found) & {"request-body-one-of-ambiguous", "request-body-type-narrowed"}, found


def test_one_of_exclusivity_in_a_query_parameter() -> None:
    def param(schema: Schema) -> list[dict[str, Any]]:
        return [{"name": "limit", "in": "query", "schema": schema}]

    old = document(parameters=param({"type": "integer"}))
    new = document(parameters=param(_one_of({"type": "integer"}, {"type": "integer", "minimum": 0})))
    assert rules(breaking(old, new)) == {"request-parameter-one-of-ambiguous"}


def test_one_of_exclusivity_says_which_alternatives() -> None:
    [finding] = breaking(document(request=OBJ_FOO_BAR), document(request=ONE_OF_CASES[0].values[1]))  # type: ignore[arg-type]
    assert finding.rule == "request-body-one-of-ambiguous"
    assert "alternatives 0 and 1" in finding.message and finding.new_pointer.endswith("/schema/oneOf")


# -- 2. alternatives paired by identity -----------------------------------------------------------

CAT: Schema = {
    "type": "object",
    "properties": {"kind": {"const": "cat"}, "mood": {"type": "string", "enum": ["calm", "grumpy"]}},
    "required": ["kind", "mood"],
}
FOX: Schema = {
    "type": "object",
    "properties": {"kind": {"const": "fox"}, "mood": {"type": "string", "enum": ["calm", "sly"]}},
    "required": ["kind", "mood"],
}
DOG: Schema = {
    "type": "object",
    "properties": {"kind": {"const": "dog"}, "bark": {"type": "integer"}},
    "required": ["kind", "bark"],
}


def _refs(*names: str, keyword: str = "oneOf") -> Schema:
    return {keyword: [{"$ref": f"#/components/schemas/{n}"} for n in names]}


def _more_sly(fox: Schema) -> Schema:
    out = copy.deepcopy(fox)
    out["properties"]["mood"]["enum"].append("sneaky")
    return out


def test_a_response_branch_inserted_before_another_is_not_compared_with_its_neighbour() -> None:
    old = document(response=_refs("Cat", "Fox"), components={"Cat": CAT, "Fox": FOX})
    new = document(
        response=_refs("Dog", "Cat", "Fox"), components={"Cat": CAT, "Fox": _more_sly(FOX), "Dog": DOG}
    )
    findings = diff_documents(old, new)
    [warning] = [f for f in findings if f.level == "warning"]
    assert warning.rule == "response-body-enum-value-added" and "sneaky" in warning.message
    assert warning.old_pointer.startswith("/components/schemas/Fox/") and warning.new_pointer.startswith(
        "/components/schemas/Fox/"
    )
    # The new Dog may be sent, and a client written against the old document does not know it.
    [new_branch] = [f for f in findings if f.level == "breaking"]
    assert new_branch.rule == "response-body-variant-added" and new_branch.new_pointer.endswith("/oneOf/0")


def test_reordered_response_branches_are_no_change_and_a_change_in_one_is_placed_right() -> None:
    components = {"Cat": CAT, "Fox": FOX}
    old = document(response=_refs("Cat", "Fox"), components=components)
    assert diff_documents(old, document(response=_refs("Fox", "Cat"), components=components)) == []
    new = document(response=_refs("Fox", "Cat"), components={"Cat": CAT, "Fox": _more_sly(FOX)})
    [finding] = diff_documents(old, new)
    assert (finding.level, finding.rule) == ("warning", "response-body-enum-value-added")
    assert "/Fox/" in finding.new_pointer


@pytest.mark.parametrize("keyword", ["anyOf", "oneOf"])
def test_inline_request_branches_are_paired_by_title_then_by_tag(keyword: str) -> None:
    cat, fox = {**CAT, "title": "Cat"}, {**FOX, "title": "Fox"}
    narrowed = copy.deepcopy(cat)
    narrowed["properties"]["mood"]["enum"].remove("grumpy")
    old = document(request={keyword: [cat, fox]})
    new = document(request={keyword: [fox, narrowed]})
    [finding] = breaking(old, new)
    assert finding.rule == "request-body-enum-value-removed" and finding.new_pointer.endswith(
        f"/{keyword}/1/properties/mood/enum"
    )
    # No titles: the discriminating value (`kind`) tells them apart.
    untitled = [{k: v for k, v in s.items() if k != "title"} for s in (cat, fox, narrowed)]
    old = document(request={keyword: [untitled[0], untitled[1]]})
    new = document(request={keyword: [untitled[1], untitled[2]]})
    [finding] = breaking(old, new)
    assert finding.new_pointer.endswith(f"/{keyword}/1/properties/mood/enum")


def test_response_branch_removed_is_not_breaking_and_a_request_branch_removed_is() -> None:
    components = {"Cat": CAT, "Fox": FOX}
    both = _refs("Cat", "Fox", keyword="anyOf")
    only_cat = {"anyOf": [{"$ref": "#/components/schemas/Cat"}]}
    assert (
        breaking(
            document(response=both, components=components), document(response=only_cat, components=components)
        )
        == []
    )
    found = breaking(
        document(request=both, components=components), document(request=only_cat, components=components)
    )
    assert found, "a Fox the client used to send is refused"


def test_query_parameter_alternatives_reordered_are_no_change() -> None:
    def param(schema: Schema) -> list[dict[str, Any]]:
        return [{"name": "when", "in": "query", "schema": schema}]

    old = document(
        parameters=param(
            {
                "anyOf": [
                    {"type": "integer", "title": "epoch"},
                    {"type": "string", "format": "date", "title": "day"},
                ]
            }
        )
    )
    new = document(
        parameters=param(
            {
                "anyOf": [
                    {"type": "string", "format": "date", "title": "day"},
                    {"type": "integer", "title": "epoch"},
                ]
            }
        )
    )
    assert diff_documents(old, new) == []


# -- 3. patterns: only a proven narrowing breaks ---------------------------------------------------

W = r"^\w+$"
PATTERN_CASES = [
    # (old pattern, new pattern, level of the finding in a request, or None for no finding)
    pytest.param(W, "", "info", id="to-empty"),
    pytest.param(W, ".*", "info", id="to-dot-star"),
    pytest.param(W, "^.*$", "info", id="to-any-line"),
    pytest.param(W, "^.*", "info", id="to-anchored-dot-star"),
    pytest.param(W, "[\\s\\S]*", "info", id="to-any-char"),
    pytest.param(W, None, "info", id="removed"),
    pytest.param(None, W, "breaking", id="added"),
    pytest.param(None, "^[a-z]{0,5000}$", "breaking", id="added-even-if-lenient-looking"),
    pytest.param(None, ".*", None, id="added-but-accepts-everything"),
    pytest.param(W, "^[a-z]+$", "breaking", id="provably-narrower"),
    pytest.param("^[a-z]+$", W, "warning", id="wider-but-unproven"),
    pytest.param("^\\d{3}$", "^\\d{3,4}$", "warning", id="undecidable"),
    pytest.param(".*", "^.*$", "breaking", id="any-line-is-narrower-than-anything"),
    pytest.param("^(?<year>\\d{4})$", "^(?<year>\\d{4})$", None, id="same-ecma-named-group"),
    pytest.param("^a$", "^a\\n?$", "warning", id="ecma-dollar-is-the-very-end"),
]


def _string(pattern: str | None) -> Schema:
    return {"type": "string", **({"pattern": pattern} if pattern is not None else {})}


def _levels(findings: list[Finding]) -> list[str]:
    return [f.level for f in findings if "pattern" in f.rule]


@pytest.mark.parametrize(("old", "new", "level"), PATTERN_CASES)
def test_request_body_pattern(old: str | None, new: str | None, level: str | None) -> None:
    def body(pattern: str | None) -> Schema:
        return {"type": "object", "properties": {"code": _string(pattern)}, "required": ["code"]}

    findings = diff_documents(document(request=body(old)), document(request=body(new)))
    assert _levels(findings) == ([level] if level else []), findings
    assert bool(breaking(document(request=body(old)), document(request=body(new)))) is (level == "breaking")


@pytest.mark.parametrize("location", ["query", "header", "path"])
@pytest.mark.parametrize(("old", "new", "level"), PATTERN_CASES)
def test_parameter_pattern(location: str, old: str | None, new: str | None, level: str | None) -> None:
    def doc(pattern: str | None) -> dict[str, Any]:
        if location == "path":
            return document(path_schema=_string(pattern))
        return document(parameters=[{"name": "code", "in": location, "schema": _string(pattern)}])

    findings = diff_documents(doc(old), doc(new))
    assert _levels(findings) == ([level] if level else []), findings
    assert all(f.rule.startswith("request-parameter-pattern-") for f in findings if "pattern" in f.rule)


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [
        (None, W, "info"),  # the client gets fewer kinds of value
        (W, None, "warning"),
        (W, ".*", "warning"),
        (W, "^[a-z]+$", "info"),
        ("^\\d{3}$", "^\\d{3,4}$", "warning"),
    ],
)
def test_response_pattern(old: str | None, new: str | None, level: str) -> None:
    findings = diff_documents(document(response=_string(old)), document(response=_string(new)))
    assert _levels(findings) == [level], findings


# -- 4. response properties: optional removed warns, required removed breaks ---------------------

RESPONSE: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "note": {"type": "string"},
        "inner": {"$ref": "#/components/schemas/Inner"},
    },
    "required": ["id", "inner"],
}
INNER: Schema = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a"],
}


def _drop(schema: Schema, name: str, *, keep_required: bool = False) -> Schema:
    out = copy.deepcopy(schema)
    del out["properties"][name]
    if not keep_required:
        out["required"] = [n for n in out.get("required", []) if n != name]
    return out


@pytest.mark.parametrize(
    ("response", "inner", "level"),
    [
        (_drop(RESPONSE, "note"), INNER, "warning"),
        (_drop(RESPONSE, "id"), INNER, "breaking"),
        (_drop(RESPONSE, "id", keep_required=True), INNER, None),  # still required: still sent (any value)
        (RESPONSE, _drop(INNER, "b"), "warning"),
        (RESPONSE, _drop(INNER, "a"), "breaking"),
    ],
    ids=["optional", "required", "required-but-unlisted", "nested-optional", "nested-required"],
)
def test_response_property_removed(response: Schema, inner: Schema, level: str | None) -> None:
    old = document(response=RESPONSE, components={"Inner": INNER})
    new = document(response=response, components={"Inner": inner})
    found = [f.level for f in diff_documents(old, new) if f.rule == "response-body-property-removed"]
    assert found == ([level] if level else [])


def test_a_response_property_made_optional_still_breaks() -> None:
    new = copy.deepcopy(RESPONSE)
    new["required"] = ["inner"]
    assert rules(
        breaking(
            document(response=RESPONSE, components={"Inner": INNER}),
            document(response=new, components={"Inner": INNER}),
        )
    ) == {"response-body-property-became-optional"}


# -- 5. parameters travel as text --------------------------------------------------------------------


def _query(schema: Schema, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": "filter", "in": "query", "schema": schema, **extra}]


DEEP_OLD: Schema = {
    "type": "object",
    "properties": {
        "page": {"type": "object", "properties": {"size": {"type": "integer"}, "flag": {"type": "boolean"}}}
    },
}
DEEP_NEW: Schema = {
    "type": "object",
    "properties": {
        "page": {"type": "object", "properties": {"size": {"type": "string"}, "flag": {"type": "string"}}}
    },
}


@pytest.mark.parametrize(
    ("old", "new", "breaks"),
    [
        (_query({"type": "integer"}), _query({"type": "string"}), False),
        (_query({"type": "boolean"}), _query({"type": "string"}), False),
        (_query({"type": "number"}), _query({"type": "string"}), False),
        (_query({"type": "string"}), _query({"type": "integer"}), True),
        (_query({"type": "integer", "enum": [1, 2]}), _query({"type": "string", "enum": ["1", "2"]}), False),
        (_query({"type": "integer", "enum": [1, 2]}), _query({"type": "string", "enum": ["1"]}), True),
        (_query({"type": "integer"}), _query({"type": "string", "pattern": "^[0-9]+$"}), True),  # -5 refused
        (
            _query({"type": "array", "items": {"type": "integer"}}),
            _query({"type": "array", "items": {"type": "string"}}),
            False,
        ),
        (
            _query(DEEP_OLD, style="deepObject", explode=True),
            _query(DEEP_NEW, style="deepObject", explode=True),
            False,
        ),
        (
            _query(DEEP_NEW, style="deepObject", explode=True),
            _query(DEEP_OLD, style="deepObject", explode=True),
            True,
        ),
        (
            _query(DEEP_OLD["properties"]["page"], style="form"),
            _query(DEEP_NEW["properties"]["page"], style="form"),
            False,
        ),
        (
            [{"name": "X-Count", "in": "header", "schema": {"type": "integer"}}],
            [{"name": "X-Count", "in": "header", "schema": {"type": "string"}}],
            False,
        ),
        (
            [{"name": "c", "in": "cookie", "schema": {"type": "integer"}}],
            [{"name": "c", "in": "cookie", "schema": {"type": "string"}}],
            False,
        ),
        # Described by `content`, the parameter is JSON: 5 and "5" differ.
        (
            [{"name": "q", "in": "query", "content": {"application/json": {"schema": {"type": "integer"}}}}],
            [{"name": "q", "in": "query", "content": {"application/json": {"schema": {"type": "string"}}}}],
            True,
        ),
    ],
    ids=[
        "integer-to-string",
        "boolean-to-string",
        "number-to-string",
        "string-to-integer",
        "integer-enum-to-string-enum",
        "enum-value-lost",
        "string-with-pattern",
        "form-array-items",
        "deepObject-nested",
        "deepObject-nested-narrowed",
        "form-object",
        "header",
        "cookie",
        "json-content",
    ],
)
def test_parameter_types_on_the_wire(
    old: list[dict[str, Any]], new: list[dict[str, Any]], breaks: bool
) -> None:
    found = breaking(document(parameters=old), document(parameters=new))
    assert bool(found) is breaks, found


def test_path_parameter_type_widened_to_string_is_not_breaking() -> None:
    assert breaking(document(path_schema={"type": "integer"}), document(path_schema={"type": "string"})) == []
    assert breaking(document(path_schema={"type": "string"}), document(path_schema={"type": "integer"}))


def test_response_header_types_on_the_wire() -> None:
    def doc(schema: Schema) -> dict[str, Any]:
        d = document()
        d["paths"]["/things/{id}"]["post"]["responses"]["200"]["headers"] = {"X-Rate": {"schema": schema}}
        return d

    assert breaking(doc({"type": "string"}), doc({"type": "integer"})) == []  # the client reads text
    assert rules(breaking(doc({"type": "integer"}), doc({"type": "string"}))) == {
        "response-header-type-changed"
    }


# -- 6. keywords that do not apply to the type -------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "keyword", "old", "new"),
    [
        ({"type": "string"}, "maxItems", 10, 2),
        ({"type": "string"}, "minProperties", None, 2),
        ({"type": "string"}, "minimum", 0, 5),
        ({"type": "string"}, "multipleOf", None, 3),
        ({"type": "string"}, "uniqueItems", False, True),
        ({"type": "integer"}, "maxLength", 10, 2),
        ({"type": "integer"}, "pattern", None, "^1$"),
        ({"type": "array", "items": {"type": "string"}}, "maximum", 10, 2),
        ({"type": "object"}, "minLength", None, 3),
        ({"type": "boolean"}, "items", None, {"type": "integer"}),
        ({"type": "string"}, "required", None, ["a"]),
    ],
)
@pytest.mark.parametrize("side", ["request", "response", "parameter"])
def test_keywords_that_do_not_apply_to_the_type_are_not_reported(
    schema: Schema, keyword: str, old: Any, new: Any, side: str
) -> None:
    def doc(value: Any) -> dict[str, Any]:
        s = {**schema, **({keyword: value} if value is not None else {})}
        if side == "parameter":
            return document(parameters=_query(s))
        return document(request=s) if side == "request" else document(response=s)

    assert diff_documents(doc(old), doc(new)) == []


def test_keywords_that_apply_are_still_reported() -> None:
    old, new = {"type": "array", "maxItems": 10}, {"type": "array", "maxItems": 2}
    assert rules(breaking(document(request=old), document(request=new))) == {
        "request-body-max-items-narrowed"
    }
    old, new = {"type": ["string", "array"], "maxItems": 10}, {"type": ["string", "array"], "maxItems": 2}
    assert rules(breaking(document(request=old), document(request=new))) == {
        "request-body-max-items-narrowed"
    }
    old, new = {"maxLength": 10}, {"maxLength": 2}  # no type: it applies to the strings among any values
    assert rules(breaking(document(request=old), document(request=new))) == {
        "request-body-max-length-narrowed"
    }


# -- 7. path parameters are positions in the URL, whatever their names ---------------------------


def _path_doc(path: str, names: list[str], schema: Schema | None = None) -> dict[str, Any]:
    d = document(path=path)
    d["paths"][path]["post"]["parameters"] = [
        {"name": n, "in": "path", "required": True, "schema": schema or {"type": "string"}} for n in names
    ]
    return d


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (_path_doc("/api/test/{id}", ["id"]), _path_doc("/api/test/{id}", ["testId"])),
        (_path_doc("/api/test/{id}", ["testId"]), _path_doc("/api/test/{id}", ["id"])),
        (_path_doc("/api/test/{id}", ["id"]), _path_doc("/api/test/{testId}", ["testId"])),
        (_path_doc("/a/{x}/b/{y}", ["x", "y"]), _path_doc("/a/{x}/b/{y}", ["x", "why"])),
    ],
    ids=["declared-under-another-name", "name-fixed", "template-renamed", "second-of-two"],
)
def test_a_path_parameter_renamed_is_not_breaking(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert breaking(old, new) == []


def test_a_renamed_path_parameter_is_still_compared() -> None:
    old = _path_doc("/api/test/{id}", ["id"], {"type": "string"})
    new = _path_doc("/api/test/{id}", ["testId"], {"type": "string", "maxLength": 3})
    assert rules(breaking(old, new)) == {"request-parameter-max-length-narrowed"}


# -- 8. one URL defined several times ----------------------------------------------------------------


def _duplicates(statuses: list[str]) -> dict[str, Any]:
    d = document()
    paths: dict[str, Any] = {}
    for name, status in zip(("x", "y", "z"), statuses, strict=True):
        paths[f"/a/{{{name}}}"] = {
            "get": {
                "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {status: {"description": "ok"}},
            }
        }
    d["paths"] = paths
    return d


def test_duplicate_templated_paths_are_each_compared() -> None:
    old, new = _duplicates(["200", "200", "200"]), _duplicates(["200", "201", "200"])
    found = breaking(old, new)
    assert rules(found) == {"response-success-status-changed"} and found[0].operation == "GET /a/{y}"
    ambiguous = [f for f in diff_documents(old, new) if f.rule == "document-ambiguous-paths"]
    assert [f.level for f in ambiguous] == ["info"]  # the old document was already ambiguous
    assert "3 times" in ambiguous[0].message


def test_a_document_that_becomes_ambiguous_is_warned_about() -> None:
    old = _duplicates(["200", "200", "200"])
    old["paths"] = {"/a/{x}": old["paths"]["/a/{x}"]}
    new = _duplicates(["200", "200", "201"])
    findings = diff_documents(old, new)
    assert [(f.level, f.rule) for f in findings if f.rule == "document-ambiguous-paths"] == [
        ("warning", "document-ambiguous-paths")
    ]
    assert rules(breaking(old, new)) == {"response-success-status-changed"}  # the third copy answers 201
