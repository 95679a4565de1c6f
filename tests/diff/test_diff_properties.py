"""Properties of the document diff: a document never differs from itself, nor from its YAML form."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.diff import diff_documents
from contract_tests.diff.source import read_document
from mock_server.errors import ContractError
from tests.diff.test_diff import RECURSIVE
from tests.diff_corpus import BREAKING, COMPATIBLE, WARNINGS, bundled

SHOP = Path(__file__).resolve().parents[1] / "data" / "shop-3.0.yaml"
CORPUS: dict[str, Any] = {
    "bundled": bundled(),
    "shop-3.0": yaml.safe_load(SHOP.read_text()),
    "recursive": RECURSIVE,
}
for _variant in BREAKING + WARNINGS + COMPATIBLE:
    CORPUS[f"{_variant.id}/old"] = _variant.old()
    CORPUS[f"{_variant.id}/new"] = _variant.new()

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_document_does_not_differ_from_itself(name: str) -> None:
    document = CORPUS[name]
    assert diff_documents(document, copy.deepcopy(document)) == []


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_document_does_not_differ_from_its_yaml_form(name: str, tmp_path: Path) -> None:
    (tmp_path / "doc.json").write_text(json.dumps(CORPUS[name]), encoding="utf-8")
    (tmp_path / "doc.yaml").write_text(yaml.safe_dump(CORPUS[name], allow_unicode=True), encoding="utf-8")
    as_json, _ = read_document(str(tmp_path / "doc.json"))
    as_yaml, _ = read_document(str(tmp_path / "doc.yaml"))
    assert diff_documents(as_json, as_yaml) == []
    assert diff_documents(as_yaml, as_json) == []


# -- random mutations of the bundled document ----------------------------------------------------------

TEXT = st.text(
    st.characters(
        min_codepoint=32,
        max_codepoint=0x2FFF,
        codec="utf-8",
        # YAML itself turns NEL and the Unicode line separators into other characters: not the diff's concern
        exclude_categories=["Cc", "Zl", "Zp"],
    ),
    max_size=8,
)
SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False) | TEXT
KEYWORDS = (
    st.sampled_from(
        [
            "type",
            "enum",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "maxLength",
            "minItems",
            "pattern",
            "required",
            "properties",
            "items",
            "anyOf",
            "nullable",
            "additionalProperties",
            "format",
            "default",
            "description",
            "in",
            "name",
            "style",
            "explode",
            "content",
            "security",
            "x-extra",
        ]
    )
    | TEXT
)
VALUES = st.recursive(
    SCALARS | st.sampled_from(["string", "integer", "null", "object", "array", "number"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYWORDS, inner, max_size=3),
    max_leaves=6,
)


def _containers(node: Any) -> list[Any]:
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for value in children:
        if isinstance(value, dict | list):
            found.extend(_containers(value))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    document = bundled()
    for _ in range(draw(st.integers(1, 4))):
        containers = [c for c in _containers(document) if c is not document]
        target: Any = draw(st.sampled_from(containers))
        if isinstance(target, list):
            if len(target) > 0 and draw(st.booleans()):
                target.pop(draw(st.integers(0, len(target) - 1)))
            else:
                target.append(draw(VALUES))
        elif len(target) > 0 and draw(st.booleans()):
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(KEYWORDS)] = draw(VALUES)
    return document


def _shuffled(node: Any, order: st.DataObject) -> Any:
    if isinstance(node, dict):
        keys = order.draw(st.permutations(sorted(node)))
        return {k: _shuffled(node[k], order) for k in keys}
    if isinstance(node, list):
        return [_shuffled(item, order) for item in node]
    return node


@PROPERTY
@given(mutated())
def test_a_mutated_document_does_not_differ_from_itself_or_its_yaml_form(document: dict[str, Any]) -> None:
    try:
        assert diff_documents(document, copy.deepcopy(document)) == []
    except ContractError:
        return  # the mutation broke a $ref: refused in one line, the same for both sides
    again = yaml.safe_load(yaml.safe_dump(document, allow_unicode=True))
    assert diff_documents(document, again) == []


@PROPERTY
@given(mutated())
def test_any_mutation_is_judged_or_refused_never_a_crash(document: dict[str, Any]) -> None:
    try:
        findings = diff_documents(bundled(), document)
    except ContractError as exc:
        assert "\n" not in str(exc)
        return
    for finding in findings:
        assert finding.level in ("breaking", "warning", "info")
        assert finding.message.endswith(".") and "\n" not in finding.message


@PROPERTY
@given(st.data())
def test_key_order_is_never_a_change(data: st.DataObject) -> None:
    document = bundled()
    assert diff_documents(document, _shuffled(document, data)) == []
