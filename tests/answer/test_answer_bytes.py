"""The createExecution answers, byte for byte: a change that makes them faster must not change them.

`--seed` promises the same bytes for the same requests, fixtures are written from these answers,
and users pin them in their own tests. So a few hundred varied requests (every scenario, dynamic
answers, repeated and new bodies, several keys, bodies that differ only in their spelling) are
answered here, and the SHA-256 of all the answers is compared with a digest recorded from the
code as it was before the answer's build was optimised (commit 324d96e: the closure-based
`Materializer`, frozen-dataclass plans, field-by-field `iso`). A different digest means an answer
changed: if that is meant, say so in the commit and record the new digest.

Without a seed, ids and times are random and the clock is the wall clock: those runs are compared
on everything else (the counts, statuses, filenames, definition ids, the echoed request...).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from datetime import UTC, datetime
from typing import Any

from mock_server import Contract, Settings
from mock_server.answer.exchange import Answer, Request
from mock_server.answer.scenarios import SCENARIOS, BatchExecutions
from mock_server.contract import contract_from_dict
from mock_server.engine import Engine

KEYS = ("key-one", "another-key", "k3-\u00e9")
# Recorded from the code before the optimisation (commit 324d96e), with this module's requests.
SEEDED = "8b29c63ac370808cf281b3a9ea835de6676fc16ef41743b6809b79d63d997314"
SEEDED_AGAIN = "029383628cfde84fc60ae81f466c4f3265f3a8ede329c360305b3687aa8155da"
UNSEEDED = "1e24e1e8fa0fd8882bdc0ecd4ab2fe4035112dcb98599e7c24460ca65911d641"
CHANGED_DOCUMENT = "7df75200d2a4626c829b66e4df8480f8ede46a8e8fe4678995fa57c36c861700"
DIRECT = "cf48d82b93267e64e08564fc6fff2f6116a10e46c13845766bf91a28929b5bb1"

_NAMES = (
    "Quarterly invoices",
    "n",
    "",
    "Relev\u00e9s \u00e9t\u00e9",
    "\U0001f4c4 scans",
    'quo"te\\',
    "x" * 70,
)
_MEDIA = ("application/pdf", "text/csv", "IMAGE/PNG", "md", "x-y", 3, "application/json", "weird type")


def _body(draw: random.Random) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": draw.choice(_NAMES) + (str(draw.randint(0, 9999)) if draw.random() < 0.7 else ""),
        "agent": draw.choice(("agent_invoice_extractor", "a", "agent-\u00fc")),
        "input": {"datasource_id": draw.choice(("ds_in", "ds_invoices_2026q3", ""))},
    }
    if draw.random() < 0.7:
        filters: dict[str, Any] = {}
        if draw.random() < 0.5:
            filters["element_ids"] = [f"el_{i}_{draw.randint(0, 99)}" for i in range(draw.randint(0, 14))]
        elif draw.random() < 0.2:
            filters["element_ids"] = None
        if draw.random() < 0.6:
            types = [draw.choice(_MEDIA) for _ in range(draw.randint(0, 3))]
            filters["media_types"] = [t for t in types if isinstance(t, str)]
        elif draw.random() < 0.2:
            filters["media_types"] = None
        if draw.random() < 0.3:
            filters["regex"] = draw.choice((".*", None))
        if draw.random() < 0.2:
            filters["additional_properties"] = {"depth": draw.randint(0, 3)}
        if draw.random() < 0.2:
            filters["undeclared"] = "dropped"
        spec["input"]["filters"] = filters if draw.random() < 0.9 else None
    if draw.random() < 0.6:
        spec["output"] = draw.choice(
            ({"datasource_id": "ds_out"}, {"datasource_id": None}, {}, None, {"datasource_id": "o", "z": 1})
        )
    if draw.random() < 0.6:
        execution: dict[str, Any] = {}
        if draw.random() < 0.6:
            execution["concurrency"] = draw.choice((1, 4, 999, None))
        if draw.random() < 0.7:
            execution["retry_limit"] = draw.choice((0, 2, 5, 999, None))
        spec["execution"] = execution if draw.random() < 0.9 else None
    if draw.random() < 0.3:
        spec["version"] = draw.choice(("3", None))
    if draw.random() < 0.3:
        spec["user_message"] = draw.choice(("extract totals", None))
    if draw.random() < 0.3:
        spec["additional_properties"] = {"priority": draw.choice(("high", "low")), "n": [1, {"a": None}]}
    if draw.random() < 0.2:
        spec["undeclared_key"] = {"kept": False}
    body: dict[str, Any] = {"batch_spec_json": spec}
    if draw.random() < 0.1:
        body["extra_top_level"] = 1
    return body


def _raw(body: dict[str, Any], draw: random.Random) -> bytes:
    # The same request spelled differently is another request to the answer's shape (its bytes key it).
    style = draw.randint(0, 3)
    if style == 0:
        return json.dumps(body).encode()
    if style == 1:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if style == 2:
        return json.dumps(body, sort_keys=True, indent=1).encode()
    return b"  " + json.dumps(body, separators=(",", ":")).encode() + b"\n"


def _requests(draw: random.Random, count: int, *, dynamic: bool) -> list[tuple[bytes, str | None, str]]:
    """(raw body, Prefer header or None, key) triples; some bodies come back (a remembered shape)."""
    seen: list[bytes] = []
    out = []
    prefers: list[str | None] = [None, *(f"example={s}" for s in SCENARIOS), "code=201"]
    if dynamic:
        prefers += ["dynamic=true", "example=completed, dynamic=true"]
    for _ in range(count):
        if seen and draw.random() < 0.25:
            raw = draw.choice(seen)
        else:
            raw = _raw(_body(draw), draw)
            seen.append(raw)
        out.append((raw, draw.choice(prefers), draw.choice(KEYS)))
    return out


def _engine(contract: Contract, seed: int | None) -> Engine:
    return Engine(contract, Settings(seed=seed, api_keys=KEYS))


def _answer(engine: Engine, raw: bytes, prefer: str | None, key: str) -> Answer:
    headers = {"content-type": "application/json", "meibel-api-key": key}
    if prefer is not None:
        headers["prefer"] = prefer
    routed = engine.route("POST", "/v2/batch-executions")
    assert not isinstance(routed, Answer)
    op, params = routed
    return engine.respond(op, Request(headers, "", raw, params))


def _transcript(engine: Engine, requests: list[tuple[bytes, str | None, str]], *, scenarios: bool) -> str:
    digest = hashlib.sha256()
    server_wide: list[str | None] = [None, *SCENARIOS, "dynamic"] if scenarios else [None]
    for index, (raw, prefer, key) in enumerate(requests):
        if index % 50 == 0:  # the server-wide scenario a test sets through /__mock/scenario
            engine.scenario = server_wide[(index // 50) % len(server_wide)]
        answer = _answer(engine, raw, prefer, key)
        assert answer.status == 201, answer.body
        digest.update(b"%d\x00" % answer.status + answer.encode() + b"\x00")
    return digest.hexdigest()


def test_seeded_answers_are_the_recorded_bytes(contract: Contract) -> None:
    requests = _requests(random.Random(20261130), 400, dynamic=True)
    assert _transcript(_engine(contract, 7), requests, scenarios=True) == SEEDED
    again = _requests(random.Random(5), 150, dynamic=True)
    assert _transcript(_engine(contract, 123456789), again, scenarios=True) == SEEDED_AGAIN


def _deterministic_part(answer: dict[str, Any]) -> dict[str, Any]:
    # What does not depend on the random generator or the clock when no seed is set.
    kept = {k: v for k, v in answer.items() if k not in ("id", "start_time", "end_time", "items")}
    if answer.get("items") is not None:
        kept["items"] = [
            {
                **{k: v for k, v in item.items() if k != "output_artifacts"},
                "input_data_element_id": (
                    None
                    if item["input_data_element_id"].startswith("el_")
                    and len(item["input_data_element_id"]) == 15
                    else item["input_data_element_id"]
                ),
                "artifacts": [a["datasource_id"] for a in item["output_artifacts"] or []],
            }
            for item in answer["items"]
        ]
    return kept


def test_unseeded_answers_agree_wherever_no_random_draw_decides(contract: Contract) -> None:
    engine = _engine(contract, None)
    digest = hashlib.sha256()
    for raw, prefer, key in _requests(random.Random(99), 300, dynamic=False):
        answer = _answer(engine, raw, prefer, key)
        assert answer.status == 201
        digest.update(json.dumps(_deterministic_part(answer.body), sort_keys=True).encode() + b"\x00")
        start = datetime.fromisoformat(answer.body["start_time"])
        assert start.year >= 2026 and start.tzinfo is not None  # the wall clock, not a seeded one
    assert digest.hexdigest() == UNSEEDED


def _changed(contract: Contract) -> Contract:
    # A later document: one field the domain fills is gone, a required one it does not know is added.
    document = copy.deepcopy(contract.document)
    response = document["components"]["schemas"]["BatchExecutionResponse"]
    del response["properties"]["agent_spec_json"]
    response["properties"]["region"] = {"type": "string", "enum": ["eu", "us", "ap"]}
    response["required"] = [*response["required"], "region"]
    return contract_from_dict(document)


def test_answers_of_a_changed_document_are_the_recorded_bytes(contract: Contract) -> None:
    requests = _requests(random.Random(11), 120, dynamic=True)
    assert _transcript(_engine(_changed(contract), 3), requests, scenarios=False) == CHANGED_DOCUMENT


def test_answers_built_without_the_raw_request_are_the_recorded_bytes(contract: Contract) -> None:
    # `build` called without the request's bytes keys its shape on the parsed body.
    engine = _engine(contract, 1)
    domain: BatchExecutions = next(iter(engine.domains.values()))
    draw = random.Random(42)
    digest = hashlib.sha256()
    now = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    for index in range(120):
        body = _body(draw)
        scenario = SCENARIOS[index % len(SCENARIOS)]
        answer = domain.build(body, KEYS[index % 3], scenario, engine.rng, now, dynamic=index % 7 == 0)
        digest.update(Answer(201, answer).encode() + b"\x00")
    assert digest.hexdigest() == DIRECT


def test_another_seed_gives_other_bytes(contract: Contract) -> None:
    # The check can fail: the same requests answered from another seed give another digest.
    requests = _requests(random.Random(20261130), 400, dynamic=True)
    assert _transcript(_engine(contract, 8), requests, scenarios=True) != SEEDED
