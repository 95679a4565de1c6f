"""The domain's rules for a batch execution, as plain functions over JSON values.

What the document's schema cannot say: counts that add up, timestamps in order, the request
echoed back. Written from the domain alone — nothing here imports the mock — so that a bug in
the mock's fixtures cannot hide itself behind the same bug in its checker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

STATUSES = ("pending", "running", "completed", "failed", "cancelled")
UNFINISHED = ("pending", "running")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def execution_violations(answer: Any) -> list[str]:
    """Everything wrong with one BatchExecutionResponse on its own."""
    if not isinstance(answer, Mapping):
        return []
    problems: list[str] = []
    total, succeeded, failed = (_int(answer.get(k)) for k in ("total_items", "succeeded", "failed"))
    if total is not None and succeeded is not None and failed is not None and succeeded + failed > total:
        problems.append(f"succeeded ({succeeded}) + failed ({failed}) > total_items ({total})")
    for name, count in (("total_items", total), ("succeeded", succeeded), ("failed", failed)):
        if count is not None and count < 0:
            problems.append(f"{name} is negative ({count})")
    status = answer.get("status")
    if isinstance(status, str) and status not in STATUSES:
        problems.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
    items = answer.get("items")
    if isinstance(items, list):
        problems += _item_violations(items, total, succeeded, failed)
    problems += _time_violations(answer, status)
    error = answer.get("error")
    if status == "failed" and not error:
        problems.append("status is failed but the execution carries no error")
    if status != "failed" and error not in (None, ""):
        problems.append(f"error is set ({error!r}) but status is {status!r}, not failed")
    return problems


def _item_violations(
    items: list[Any], total: int | None, succeeded: int | None, failed: int | None
) -> list[str]:
    problems = []
    if total is not None and len(items) != total:
        problems.append(f"{len(items)} items but total_items is {total}")
    statuses = [item.get("status") if isinstance(item, Mapping) else None for item in items]
    if succeeded is not None and statuses.count("completed") != succeeded:
        problems.append(f"{statuses.count('completed')} completed items but succeeded is {succeeded}")
    if failed is not None and statuses.count("failed") != failed:
        problems.append(f"{statuses.count('failed')} failed items but failed is {failed}")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        if item.get("status") not in STATUSES:
            problems.append(
                f"items[{index}].status {item.get('status')!r} is not one of {', '.join(STATUSES)}"
            )
        if item.get("status") == "failed" and not item.get("error"):
            problems.append(f"items[{index}] failed without an error")
        attempts = _int(item.get("attempts"))
        if attempts is not None and attempts < 0:
            problems.append(f"items[{index}].attempts is negative ({attempts})")
    return problems


def _time_violations(answer: Mapping[str, Any], status: Any) -> list[str]:
    problems = []
    stamps = {}
    for name in ("start_time", "end_time"):
        raw = answer.get(name)
        if raw is None:
            continue
        stamp = parse_timestamp(raw)
        if stamp is None:
            problems.append(f"{name} {raw!r} is not an ISO 8601 timestamp")
        elif stamp.tzinfo is None or stamp.utcoffset() is None:
            problems.append(f"{name} {raw!r} has no timezone")
        else:
            stamps[name] = stamp
    if "start_time" in stamps and "end_time" in stamps and stamps["end_time"] < stamps["start_time"]:
        problems.append(f"end_time {answer['end_time']} is before start_time {answer['start_time']}")
    if status in UNFINISHED and answer.get("end_time") is not None:
        problems.append(f"end_time is set while the execution is {status}")
    return problems


def echo_violations(request: Any, answer: Any) -> list[str]:
    """What the answer says about the request that the request did not say."""
    if not isinstance(request, Mapping) or not isinstance(answer, Mapping):
        return []
    spec = request.get("batch_spec_json")
    if not isinstance(spec, Mapping):
        return []
    problems = []
    source: Mapping[str, Any] = spec["input"] if isinstance(spec.get("input"), Mapping) else {}
    output: Mapping[str, Any] = spec["output"] if isinstance(spec.get("output"), Mapping) else {}
    if "input_datasource_id" in answer and "datasource_id" in source:  # noqa: SIM102
        if answer["input_datasource_id"] != source["datasource_id"]:
            problems.append(
                f"input_datasource_id {answer['input_datasource_id']!r} is not the request's "
                f"input.datasource_id {source['datasource_id']!r}"
            )
    if "output_datasource_id" in answer:
        expected = output.get("datasource_id")
        if answer["output_datasource_id"] != expected:
            problems.append(
                f"output_datasource_id {answer['output_datasource_id']!r} is not the request's "
                f"output.datasource_id {expected!r}"
            )
    echoed = answer.get("batch_spec_json")
    if isinstance(echoed, Mapping):
        for key in ("name", "agent", "input"):
            if key in spec and key not in echoed:
                problems.append(f"batch_spec_json.{key} was sent but is missing from the answer")
    if echoed is not None:
        problems += [f"batch_spec_json{where}" for where in _not_echoed(spec, echoed, "")]
    return problems


def _not_echoed(sent: Any, echoed: Any, path: str) -> list[str]:
    # Every field the request set comes back unchanged; the service may add defaults and nulls,
    # and drop keys no schema declares, so only what was sent and kept is compared.
    if isinstance(sent, Mapping):
        if not isinstance(echoed, Mapping):
            return [f"{path or ''} is {echoed!r}, the request sent an object"]
        out = []
        for key, value in sent.items():
            if key in echoed:
                out += _not_echoed(value, echoed[key], f"{path}.{key}")
        return out
    if _number(sent) and _number(echoed):
        same = sent == echoed  # a service may well answer 2 for 2.0 in an integer field
    else:
        same = sent == echoed and type(sent) is type(echoed)
    return [] if same else [f"{path} is {echoed!r}, the request sent {sent!r}"]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
