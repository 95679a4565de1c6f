"""Deprecation, sunsets and stability levels (contract_tests/diff/lifecycle.py), with the day injected."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from contract_tests.diff import Lifecycle, assert_no_breaking_changes, diff_documents
from contract_tests.diff.cli import main
from contract_tests.diff.findings import Finding

TODAY = datetime.date(2026, 6, 15)
POLICY = Lifecycle(TODAY)


def _op(**extra: Any) -> dict[str, Any]:
    return {
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {
            "200": {
                "description": "ok",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"id": {"type": "string"}},
                            "required": ["id"],
                        }
                    }
                },
            }
        },
        **extra,
    }


def doc(**gone: Any) -> dict[str, Any]:
    """/keep stays; /gone carries the lifecycle under test."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/keep": {"get": _op()}, "/gone": {"get": _op(**gone)}},
    }


def removed(d: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(d)
    del out["paths"]["/gone"]
    return out


def levels(findings: list[Finding]) -> dict[str, str]:
    return {f.rule: f.level for f in findings}


def verdict(old: dict[str, Any], new: dict[str, Any], policy: Lifecycle | None = POLICY) -> bool:
    return any(f.level == "breaking" for f in diff_documents(old, new, lifecycle=policy))


# -- removing an operation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifecycle", "days", "rule", "level"),
    [
        ({}, 0, "operation-removed", "breaking"),
        ({"deprecated": True, "x-sunset": "2026-06-01"}, 0, "operation-removed-after-sunset", "info"),
        ({"deprecated": True, "x-sunset": "2026-06-15"}, 0, "operation-removed-after-sunset", "info"),
        (
            {"deprecated": True, "x-sunset": "2026-06-15T00:00:00Z"},
            90,
            "operation-removed-after-sunset",
            "info",
        ),
        ({"deprecated": True, "x-sunset": "2026-06-16"}, 0, "operation-removed-before-sunset", "breaking"),
        ({"deprecated": True}, 0, "operation-removed-deprecated", "info"),
        ({"deprecated": True}, 30, "operation-removed-without-sunset", "breaking"),
        ({"deprecated": True, "x-sunset": "soon"}, 0, "operation-removed-before-sunset", "breaking"),
        ({"x-sunset": "2026-01-01"}, 0, "operation-removed", "breaking"),  # a sunset without a deprecation
    ],
    ids=[
        "never-deprecated",
        "sunset-passed",
        "sunset-today",
        "sunset-passed-date-time",
        "before-sunset",
        "deprecated-no-sunset",
        "deprecated-no-sunset-with-notice",
        "unreadable-sunset",
        "sunset-not-deprecated",
    ],
)
def test_removing_an_operation(lifecycle: dict[str, Any], days: int, rule: str, level: str) -> None:
    old = doc(**lifecycle)
    findings = diff_documents(old, removed(old), lifecycle=Lifecycle(TODAY, days))
    assert levels(findings) == {rule: level}


def test_the_day_decides_and_can_be_injected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = doc(deprecated=True, **{"x-sunset": "2026-06-15"})
    paths = [tmp_path / "old.json", tmp_path / "new.json"]
    paths[0].write_text(json.dumps(old))
    paths[1].write_text(json.dumps(removed(old)))
    args = [str(p) for p in paths]
    assert main([*args, "--today", "2026-06-14"]) == 1
    assert "removed before its sunset (2026-06-15)" in capsys.readouterr().out
    assert main([*args, "--today", "2026-06-15"]) == 0
    assert "after its sunset" in capsys.readouterr().out
    assert main([*args, "--today", "2026-06-15", "--ignore-lifecycle"]) == 1
    assert "[operation-removed]" in capsys.readouterr().out
    # The default day is the real one: this sunset is long past.
    old = doc(deprecated=True, **{"x-sunset": "2001-01-01"})
    paths[0].write_text(json.dumps(old))
    paths[1].write_text(json.dumps(removed(old)))
    assert main(args) == 0


@pytest.mark.parametrize(
    "value", ["--today=2026-6-1", "--today=tomorrow", "--deprecation-days=-3", "--deprecation-days=x"]
)
def test_bad_lifecycle_options_are_usage_errors(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc()))
    with pytest.raises(SystemExit) as exited:
        main([str(path), str(path), value])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1


# -- deprecating ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "days", "expected"),
    [
        ({"deprecated": True, "x-sunset": "2026-07-01"}, 0, {"operation-deprecated": "info"}),
        (
            {"deprecated": True, "x-sunset": "2026-07-01"},
            30,
            {"operation-deprecated": "info", "operation-sunset-too-soon": "breaking"},
        ),
        ({"deprecated": True, "x-sunset": "2026-07-15"}, 30, {"operation-deprecated": "info"}),
        (
            {"deprecated": True},
            30,
            {"operation-deprecated": "info", "operation-deprecated-without-sunset": "breaking"},
        ),
        ({"deprecated": True}, 0, {"operation-deprecated": "info"}),
    ],
    ids=[
        "sunset-no-notice-asked",
        "sunset-too-soon",
        "sunset-far-enough",
        "no-sunset-with-notice",
        "no-sunset",
    ],
)
def test_deprecating_an_operation(new: dict[str, Any], days: int, expected: dict[str, str]) -> None:
    assert levels(diff_documents(doc(), doc(**new), lifecycle=Lifecycle(TODAY, days))) == expected


def test_moving_a_sunset_earlier_breaks_and_later_does_not() -> None:
    old = doc(deprecated=True, **{"x-sunset": "2026-12-31"})
    earlier = doc(deprecated=True, **{"x-sunset": "2026-09-01"})
    assert levels(diff_documents(old, earlier, lifecycle=POLICY)) == {"operation-sunset-earlier": "breaking"}
    assert not verdict(earlier, old)


@pytest.mark.parametrize("value", ["next year", "2026-02-30", "31/12/2026", 20261231, True])
def test_a_malformed_sunset_is_an_error(
    value: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = doc(deprecated=True, **{"x-sunset": value})
    [finding] = [f for f in diff_documents(doc(), new, lifecycle=POLICY) if f.level == "breaking"]
    assert finding.rule == "lifecycle-sunset-invalid" and finding.new_pointer == "/paths/~1gone/get/x-sunset"
    (tmp_path / "old.json").write_text(json.dumps(doc()))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert main([str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 1
    assert "is not a date" in capsys.readouterr().out
    assert main([str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--ignore-lifecycle"]) == 0


def test_a_yaml_date_is_a_sunset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /gone:\n    get:\n      deprecated: true\n      x-sunset: 2026-01-01\n"
        "      responses: {'200': {description: ok}}\n"
    )
    new = tmp_path / "new.yaml"
    new.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    assert main([str(old), str(new), "--today", "2026-06-15"]) == 0
    assert "after its sunset (2026-01-01)" in capsys.readouterr().out


# -- stability levels ------------------------------------------------------------------------------------


def narrowed(d: dict[str, Any]) -> dict[str, Any]:
    """/gone's response loses its required `id`: breaking for a stable operation."""
    out = copy.deepcopy(d)
    schema = out["paths"]["/gone"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    schema["properties"] = {}
    schema["required"] = []
    return out


@pytest.mark.parametrize(
    ("level", "expected"),
    [("draft", "info"), ("alpha", "info"), ("beta", "warning"), ("stable", "breaking"), (None, "breaking")],
)
def test_stability_softens_changes(level: str | None, expected: str) -> None:
    old = doc(**({"x-stability-level": level} if level else {}))
    [finding] = [f for f in diff_documents(old, narrowed(old), lifecycle=POLICY) if "property" in f.rule]
    assert finding.level == expected
    [gone] = diff_documents(old, removed(old), lifecycle=POLICY)
    assert gone.level == expected
    assert [f.level for f in diff_documents(old, narrowed(old), lifecycle=None) if "property" in f.rule] == [
        "breaking"
    ]


def test_the_old_documents_level_is_the_promise() -> None:
    old, new = doc(), narrowed(doc(**{"x-stability-level": "alpha"}))
    assert verdict(old, new), "declaring an operation alpha does not excuse this version's changes"


@pytest.mark.parametrize(
    ("before", "after", "breaks"),
    [("stable", "beta", True), ("beta", "alpha", True), ("alpha", "stable", False), ("draft", "beta", False)],
)
def test_lowering_a_stability_level_breaks(before: str, after: str, breaks: bool) -> None:
    findings = diff_documents(
        doc(**{"x-stability-level": before}), doc(**{"x-stability-level": after}), lifecycle=POLICY
    )
    assert (levels(findings) == {"operation-stability-decreased": "breaking"}) is breaks
    assert bool(findings) is breaks


@pytest.mark.parametrize("value", ["experimental", "Beta", 3])
def test_a_malformed_stability_level_is_an_error(value: Any) -> None:
    findings = diff_documents(doc(), doc(**{"x-stability-level": value}), lifecycle=POLICY)
    assert levels(findings) == {"lifecycle-stability-invalid": "breaking"}
    assert diff_documents(doc(), doc(**{"x-stability-level": value}), lifecycle=None) == []


# -- parameters -------------------------------------------------------------------------------------------


def with_param(**extra: Any) -> dict[str, Any]:
    d = doc()
    d["paths"]["/gone"]["get"]["parameters"][0].update(extra)
    return d


def without_param() -> dict[str, Any]:
    d = doc()
    d["paths"]["/gone"]["get"]["parameters"] = []
    return d


@pytest.mark.parametrize(
    ("lifecycle", "days", "rule", "level"),
    [
        ({}, 0, "request-parameter-removed", "warning"),  # nothing was promised about it
        ({"deprecated": True, "x-sunset": "2026-01-01"}, 0, "request-parameter-removed-after-sunset", "info"),
        (
            {"deprecated": True, "x-sunset": "2026-12-01"},
            0,
            "request-parameter-removed-before-sunset",
            "breaking",
        ),
        ({"deprecated": True}, 0, "request-parameter-removed-deprecated", "info"),
        ({"deprecated": True}, 30, "request-parameter-removed-without-sunset", "breaking"),
    ],
    ids=["not-deprecated", "sunset-passed", "before-sunset", "deprecated", "deprecated-with-notice"],
)
def test_removing_a_parameter(lifecycle: dict[str, Any], days: int, rule: str, level: str) -> None:
    findings = diff_documents(with_param(**lifecycle), without_param(), lifecycle=Lifecycle(TODAY, days))
    assert levels(findings) == {rule: level}


def test_deprecating_a_parameter_with_too_short_a_notice() -> None:
    new = with_param(deprecated=True, **{"x-sunset": "2026-06-20"})
    findings = diff_documents(doc(), new, lifecycle=Lifecycle(TODAY, 30))
    assert levels(findings) == {
        "request-parameter-deprecated": "info",
        "request-parameter-sunset-too-soon": "breaking",
    }
    assert levels(diff_documents(doc(), new, lifecycle=Lifecycle(TODAY, 3))) == {
        "request-parameter-deprecated": "info"
    }


def test_an_alpha_parameter_may_change() -> None:
    old = with_param(**{"x-stability-level": "alpha"})
    new = with_param(**{"x-stability-level": "alpha", "schema": {"type": "integer", "maximum": 10}})
    [finding] = diff_documents(old, new, lifecycle=POLICY)
    assert (finding.rule, finding.level) == ("request-parameter-maximum-narrowed", "info")
    new["paths"]["/keep"]["get"]["parameters"][0]["schema"]["maximum"] = 10  # another operation's: not alpha
    assert verdict(old, new)


def test_assert_no_breaking_changes_takes_a_lifecycle() -> None:
    old = doc(deprecated=True, **{"x-sunset": "2026-06-30"})
    with pytest.raises(AssertionError, match="before its sunset"):
        assert_no_breaking_changes(old, removed(old), lifecycle=POLICY)
    assert_no_breaking_changes(old, removed(old), lifecycle=Lifecycle(datetime.date(2026, 7, 1)))
