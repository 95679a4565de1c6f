"""What the domain knows that the schema does not: coherent batch executions.

This is the one module that names the Meibel API's paths, fields and statuses. It only adds
coherence on top of the document: every body it builds is also checked against the schema in
the kit's tests, and any property it does not know is still filled by the generic generator.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import uuid
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypeVar

from mock_server.answer.materialize import Materializer
from mock_server.contract import Operation
from mock_server.document.refs import schema_at
from mock_server.schema.generation import Generator, iso, random_uuid
from mock_server.schema.lru import ByteLRU

T = TypeVar("T")
SCENARIOS = ("pending", "running", "completed", "completed_with_failures", "failed", "cancelled")
DEFAULT_SCENARIO = "pending"
DYNAMIC = "dynamic"
_TERMINAL = {"completed", "completed_with_failures", "failed", "cancelled"}
_NAMESPACE = uuid.UUID("6f1c2b3e-2d4a-4b8e-9a57-0c4f6e1d2a90")
_EXTENSIONS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/csv": "csv",
    "text/markdown": "md",
    "text/html": "html",
    "application/json": "json",
    "image/png": "png",
    "image/jpeg": "jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
_STEMS = ("invoice", "contract", "report", "memo", "statement", "claim", "policy", "receipt")
_ITEM_ERRORS = (
    "Agent run timed out after 300 s",
    "Document could not be parsed: unsupported encoding",
    "Tool call failed: upstream returned 503",
    "Output did not match the artifact schema",
)


def recognises(op: Operation) -> bool:
    success = op.response("201")
    props = (success.schema or {}).get("$ref", "") if success else ""
    return (
        op.method == "post"
        and op.path.endswith("/batch-executions")
        and props.endswith("/BatchExecutionResponse")
    )


class Draw(Protocol):
    def random(self) -> float: ...
    def randint(self, a: int, b: int) -> int: ...
    def uniform(self, a: float, b: float) -> float: ...
    def choice(self, seq: Sequence[T]) -> T: ...
    def shuffle(self, x: list[Any]) -> None: ...


_MASK = (1 << 64) - 1


class SplitMix:
    """splitmix64: seeding is free where `random.Random(seed)` costs microseconds per request."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK

    def _next(self) -> int:
        self.state = z = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / (1 << 53))

    def randint(self, a: int, b: int) -> int:
        # `_next()` written out: a new request's plan draws this first, and often only this.
        self.state = z = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return a + (z ^ (z >> 31)) % (b - a + 1)  # the modulo bias is far below anything a fixture shows

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * ((self._next() >> 11) * (1.0 / (1 << 53)))  # `random()`, one call less

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self._next() % len(seq)]

    def shuffle(self, x: list[Any]) -> None:
        for i in range(len(x) - 1, 0, -1):
            j = self._next() % (i + 1)
            x[i], x[j] = x[j], x[i]


# The static shapes of distinct requests, remembered: at most this many, and within a byte budget
# (a shape holds the echoed request and one tuple per item, so it grows with the request). A shape
# estimated past `_PLAN_MAX_BYTES` is made afresh each time: large bodies are rare and parsing
# them already costs more than making their shape.
_PLANS_KEPT = 1024
_PLANS_BYTES = 16 * 1024 * 1024
_PLAN_MAX_BYTES = 1024 * 1024
_NO_TIME = timedelta(0)


ItemPlan = tuple[str | None, str, str, str | None, int]  # see `_item_plans`
# What an answer takes from its request and scenario alone (ids and times are per answer):
# (the answer with its per-answer values empty, the time between start_time and now, whether it
# has finished, its items' plans or None). A plain tuple: a new request makes one, and a
# class's constructor costs several times more.
Plan = tuple[dict[str, Any], timedelta, bool, list[ItemPlan] | None]


class Counts(NamedTuple):
    total: int
    succeeded: int
    failed: int
    cancelled: int  # items never run because the execution stopped


class BatchExecutions:
    """The createExecution operation: the 201 body follows from the request and the scenario."""

    scenarios = SCENARIOS

    def __init__(self, op: Operation, generator: Generator, root: Mapping[str, Any]) -> None:
        """`root`: what the schemas' references name (the document's normalized schemas)."""
        self.op = op
        self.generator = generator
        success = op.response("201")
        assert success is not None and success.schema is not None
        self.response_schema = schema_at(root, success.schema)
        request_schema = schema_at(root, op.body.schema if op.body else {})
        spec_schema = (request_schema.get("properties") or {}).get("batch_spec_json", {})
        self.materialize = Materializer(root).compile(spec_schema)
        props = self.response_schema.get("properties") or {}
        self.fields = set(props)
        self._plans: ByteLRU[tuple[bytes, str], Plan] = ByteLRU(
            max_entries=_PLANS_KEPT, max_bytes=_PLANS_BYTES, max_entry_bytes=_PLAN_MAX_BYTES
        )
        self.undeclared = bool(_DOMAIN_FIELDS - self.fields)  # fields a later document may drop
        # Whatever a later document adds is still served, from the schema alone.
        self.filler = {
            name: generator.compile(props[name])
            for name in self.response_schema.get("required", [])
            if name not in _DOMAIN_FIELDS
        }

    def build(
        self,
        body: dict[str, Any],
        api_key: str | None,
        scenario: str,
        rng: random.Random,
        now: datetime,
        *,
        dynamic: bool = False,
        fingerprint: bytes = b"",
    ) -> dict[str, Any]:
        """The answer to `body`. Treat it as read-only: parts of it are shared between answers."""
        plan: Plan | None
        if dynamic:
            plan = self._plan(body, rng.choice(SCENARIOS), rng, shared=True)
        else:
            # Static answers take their shape from the request itself: the same request, the same
            # counts. That makes the shape a pure function of the request, so it is made once.
            # (`fingerprint`: the raw request, cheaper to hash than the parsed one re-serialized.)
            raw = fingerprint or json.dumps(body, sort_keys=True).encode("utf-8", "backslashreplace")
            key = (raw, scenario)
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plan(body, scenario, SplitMix(_digest(raw, scenario.encode())))
                self._plans.put(key, plan, _plan_cost(raw, plan))
        return self._instance(plan, api_key, rng, now)

    def _plan(self, body: dict[str, Any], scenario: str, shape: Draw, *, shared: bool = False) -> Plan:
        """`shared`: `shape` is the engine's generator, whose every draw moves the answers after
        this one (otherwise it is this plan's own, and a draw nothing uses may be left out)."""
        spec = self.materialize(body.get("batch_spec_json") or {})
        source = spec.get("input") or {}
        filters = source.get("filters") or {}
        element_ids = filters.get("element_ids")
        total = len(element_ids) if isinstance(element_ids, list) else shape.randint(3, 12)
        # The whole answer in its order, the per-answer parts empty: an answer is a copy of it
        # with those set (a dict's copy is one block copy; building it anew is a dozen inserts).
        # As written here it is the pending answer; the other scenarios count and date it below.
        static: dict[str, Any] = {
            "id": None,
            "customer_id": None,
            "project_id": None,
            "batch_definition_id": _definition_id(spec.get("name"), spec.get("agent")),
            "agent_urn": f"urn:meibel:agent:{spec.get('agent')}",
            "batch_spec_json": spec,
            "agent_spec_json": None,
            "input_datasource_id": source.get("datasource_id"),
            "output_datasource_id": (spec.get("output") or {}).get("datasource_id"),
            "input_overrides": None,
            "total_items": total,
            "succeeded": 0,
            "failed": 0,
            "status": scenario,
            "error": None,
            "items": None,
            "start_time": None,
            "end_time": None,
        }
        if scenario == "pending" and not shared:  # not started: nothing more to count or draw
            return static, _NO_TIME, False, None
        counts = _counts(scenario, total, shape)
        static["succeeded"], static["failed"] = counts.succeeded, counts.failed
        if scenario == "completed_with_failures":
            static["status"] = "completed"
        elif scenario == "failed":
            static["error"] = _execution_error(counts)
        duration = round(max(1, total) * shape.uniform(2.0, 8.0), 3)
        if scenario in _TERMINAL:
            elapsed, finished = duration, True
        elif scenario == "running":
            elapsed, finished = duration * shape.uniform(0.1, 0.9), False
        else:
            elapsed, finished = 0.0, False
        items = None
        if scenario in _TERMINAL:
            execution = spec.get("execution") or {}
            retry_limit = execution.get("retry_limit")
            retries = retry_limit if isinstance(retry_limit, int) else 2
            items = _item_plans(counts, element_ids, filters.get("media_types"), retries, shape)
        return static, timedelta(seconds=elapsed) if elapsed else _NO_TIME, finished, items

    def _instance(self, plan: Plan, api_key: str | None, rng: random.Random, now: datetime) -> dict[str, Any]:
        static, elapsed, finished, items = plan
        answer = static.copy()
        answer["id"] = random_uuid(rng)
        answer["customer_id"], answer["project_id"] = _tenants(api_key)
        answer["start_time"] = iso(now - elapsed)
        if finished:
            answer["end_time"] = iso(now)
        if items is not None:
            output_datasource_id = static["output_datasource_id"]
            answer["items"] = [
                {
                    "input_data_element_id": element
                    if element is not None
                    else f"el_{rng.getrandbits(48):012x}",
                    "filename": filename,
                    "status": status,
                    "error": error,
                    "output_artifacts": (
                        [{"artifact_id": random_uuid(rng), "datasource_id": output_datasource_id}]
                        if status == "completed"
                        else None
                    ),
                    "attempts": attempts,
                }
                for element, filename, status, error, attempts in items
            ]
        for name, fill in self.filler.items():
            answer[name] = fill(rng, 0)
        if self.undeclared:
            return {k: v for k, v in answer.items() if k in self.fields}
        return answer

    def example_request(self) -> dict[str, Any]:
        """A small, readable valid request (fixtures and documentation answer it)."""
        return {
            "batch_spec_json": {
                "name": "Quarterly invoices",
                "agent": "agent_invoice_extractor",
                "input": {
                    "datasource_id": "ds_invoices_2026q3",
                    "filters": {"media_types": ["application/pdf"]},
                },
                "output": {"datasource_id": "ds_invoice_fields"},
                "execution": {"concurrency": 4, "retry_limit": 2},
            }
        }

    def validation_error_example(self) -> dict[str, Any]:
        return {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["body", "batch_spec_json", "input", "datasource_id"],
                    "msg": "Field required",
                    "input": {},
                }
            ]
        }


_DOMAIN_FIELDS = {
    "id",
    "batch_definition_id",
    "customer_id",
    "project_id",
    "agent_urn",
    "batch_spec_json",
    "agent_spec_json",
    "input_datasource_id",
    "output_datasource_id",
    "input_overrides",
    "total_items",
    "succeeded",
    "failed",
    "start_time",
    "end_time",
    "status",
    "error",
    "items",
}


def _plan_cost(raw: bytes, plan: Plan) -> int:
    # Measured with tracemalloc: a parsed and echoed request holds up to ~8 times its raw size,
    # an item plan ~150 bytes (bench/memory.py checks the whole under load). The key is `raw`.
    return 9 * len(raw) + 200 * len(plan[3] or ()) + 2048


def _counts(scenario: str, total: int, rng: Draw) -> Counts:
    if scenario == "pending" or total == 0:
        return Counts(total, 0, 0, 0 if scenario == "pending" else total)
    if scenario == "running":
        done = rng.randint(0, total - 1)
        failed = rng.randint(0, min(1, done))
        return Counts(total, done - failed, failed, 0)
    if scenario == "completed":
        return Counts(total, total, 0, 0)
    if scenario == "completed_with_failures":
        failed = rng.randint(1, max(1, total // 3))
        return Counts(total, total - failed, failed, 0)
    processed = rng.randint(1, total) if scenario == "failed" else rng.randint(0, total - 1)
    failed = rng.randint(1, processed) if scenario == "failed" else rng.randint(0, min(1, processed))
    return Counts(total, processed - failed, failed, total - processed)


def _item_plans(
    counts: Counts, element_ids: Any, media_types: Any, retries: int, shape: Draw
) -> list[ItemPlan]:
    """(element id or None for a fresh one, filename, status, error, attempts) per item."""
    statuses = (
        ["completed"] * counts.succeeded + ["failed"] * counts.failed + ["cancelled"] * counts.cancelled
    )
    shape.shuffle(statuses)
    extension = _extension(media_types)
    ids = element_ids if isinstance(element_ids, list) else None
    plans = []
    for index, status in enumerate(statuses):
        # Drawn in this order for every item: stem, error (failed items only), retried or not.
        stem = shape.choice(_STEMS)
        error = shape.choice(_ITEM_ERRORS) if status == "failed" else None
        retried = shape.random() < 0.2
        attempts = 1 + retried if status == "completed" else retries + 1 if status == "failed" else 0
        element = ids[index] if ids is not None else None
        plans.append((element, f"{stem}-{index + 1:03d}.{extension}", status, error, attempts))
    return plans


def _extension(media_types: Any) -> str:
    for media_type in media_types or []:
        if isinstance(media_type, str):
            known = _EXTENSIONS.get(media_type.lower())
            if known:
                return known
            if media_type.isalnum():
                return media_type.lower()
    return "pdf"


def _execution_error(counts: Counts) -> str:
    return f"Batch stopped after {counts.failed} of {counts.total} items failed their final attempt"


def _definition_id(name: Any, agent: Any) -> str:
    # uuid.uuid5, spelled out on the hex digits: the uuid module's objects, or an int's masks and
    # formatting, cost most of the time here. The version digit is 5; the variant digit keeps its
    # two low bits under the two bits 10 (`_VARIANT`).
    hashed = _NAMESPACE_SHA1.copy()  # the namespace's part hashed once
    hashed.update(f"{name}\x00{agent}".encode("utf-8", "surrogatepass"))
    h = hashed.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_NAMESPACE_SHA1 = hashlib.sha1(_NAMESPACE.bytes)
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


@functools.lru_cache(maxsize=256)  # only accepted keys get here: a handful
def _tenants(api_key: str | None) -> tuple[str, str]:
    """The customer and project ids of a key (one cache look-up per answer, not two)."""
    return _tenant(api_key, "customer"), _tenant(api_key, "project")


def _tenant(api_key: str | None, kind: str) -> str:
    # A keyed hash: stable per key, and the key cannot be read back from the id.
    digest = hashlib.blake2b((api_key or "").encode(), digest_size=16, person=kind.encode()[:16]).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _digest(data: bytes, suffix: bytes) -> int:
    # Seeds the shape of a static answer, nothing secret: a fast checksum spread over 64 bits, of
    # `data + suffix` (both checksums run on, so the request is never copied to append the suffix).
    return (zlib.crc32(suffix, zlib.crc32(data)) << 32) | zlib.adler32(suffix, zlib.adler32(data))
