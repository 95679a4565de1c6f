"""meibel-contract's report, read as a team reads it: reproductions that replay the very request
that failed (run through bash against a recording server), answers shown, counts that add up,
the kit's own lines only, a HAR 1.2 of exactly what was sent, a Markdown summary, no key anywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from contract_tests.cli import main
from contract_tests.reports.summary import NO_SUCCESS
from mock_server.testing import serve_in_thread
from tests import broken
from tests.contract.test_checker import outer_run_kept

KEY = "distinctive-staging-key-7c1e9"  # the run's key: it must appear in no output and no file
FAST = ["--rate-limit=2000", "--max-examples=10"]
# What every client sets for itself: not part of what a request says.
CLIENT_HEADERS = {"user-agent", "accept-encoding", "accept", "connection", "host", "content-length"}
CLIENT_HEADERS |= {"x-schemathesis-testcaseid"}


@dataclass(frozen=True)
class Seen:
    method: str
    target: bytes  # the raw path and query, as sent
    headers: tuple[tuple[str, str], ...]  # what matters, sorted
    body: bytes

    def key(self) -> str | None:
        return dict(self.headers).get("meibel-api-key")


class Recording:
    """The mock (accepting KEY), with one fault, recording every request as it arrived."""

    def __init__(self, fault: str = "") -> None:
        self.app = broken.mock(api_keys=(KEY,))
        self.fault = fault
        self.seen: list[Seen] = []
        self.faulted: list[Seen] = []
        self._lock = threading.Lock()

    def _faulty(self, request: Seen) -> bool:
        key, body = request.key(), request.body
        if request.method != "POST":
            return False
        if self.fault == "keyless":
            return key is None
        if self.fault == "wrong-key":
            return key is not None and key != KEY
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self.fault == "malformed" and bool(body)
        if self.fault == "valid":
            spec = parsed.get("batch_spec_json") if isinstance(parsed, dict) else None
            return key == KEY and isinstance(spec, dict) and isinstance(spec.get("input"), dict)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        target = scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b"")
        headers = tuple(
            sorted(
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in scope["headers"]
                if k.decode("latin-1").lower() not in CLIENT_HEADERS
            )
        )
        request = Seen(scope["method"], target, headers, body)
        with self._lock:
            self.seen.append(request)
        if self._faulty(request):
            with self._lock:
                self.faulted.append(request)
            # The answer echoes the key it got: the report must show the body, with the key filtered.
            answer = f"boom ({self.fault}): traceback in worker 3, key={request.key()}".encode()
            await send(
                {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]}
            )
            await send({"type": "http.response.body", "body": answer})
            return

        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with outer_run_kept():
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _reproductions(out: str) -> list[str]:
    return re.findall(r"^   Reproduce with:\n {5}(curl .*)$", out, re.M)


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash"
)
@pytest.mark.parametrize(
    ("fault", "extra"),
    [
        ("keyless", []),
        ("keyless", ["--max-writes=3"]),  # ignored_auth's own probe fails too: its request is shown
        ("wrong-key", []),
        ("malformed", []),
        ("valid", ["--max-writes=3"]),
    ],
)
def test_each_reproduction_sends_the_bytes_of_the_request_that_failed(
    fault: str, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    app = Recording(fault)
    with serve_in_thread(app) as server:
        code, out, err = run(
            f"--base-url={server.origin}/v2", f"--api-key={KEY}", *FAST, *extra, capsys=capsys
        )
        assert code == 1, out + err
        commands = _reproductions(out)
        assert commands, out
        originals = set(app.faulted)
        for command in commands:
            before = len(app.seen)
            subprocess.run(
                ["bash", "-c", command],
                env={"MEIBEL_API_KEY": KEY, "PATH": "/usr/bin:/bin"},
                check=True,
                capture_output=True,
                timeout=30,
            )
            [replayed] = app.seen[before:]
            # The replay is byte for byte one of the requests that got the fault (each failure here
            # is one): method, target, every header a client does not set itself, and the body.
            assert replayed in originals, (command, replayed, originals)
    assert KEY not in out + err
    replayed_keys = {Seen.key(s) for s in app.seen[-len(commands) :]}
    if extra and fault == "keyless":
        assert "[ignored_auth]" in out, out
    if fault == "keyless":
        assert replayed_keys == {None}
        assert all("Meibel-API-Key" not in c for c in commands)
    elif fault == "wrong-key":
        assert None not in replayed_keys and KEY not in replayed_keys  # the made-up key, as it went
        assert all("$MEIBEL_API_KEY" not in c for c in commands)
    elif fault == "valid":
        assert replayed_keys == {KEY}
        assert all('"Meibel-API-Key: $MEIBEL_API_KEY"' in c for c in commands)


def test_a_server_error_shows_its_answer_and_the_output_is_the_kits_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = Recording("keyless")
    with serve_in_thread(app) as server:
        code, out, err = run(f"--base-url={server.origin}/v2", f"--api-key={KEY}", *FAST, capsys=capsys)
    assert code == 1, out + err
    assert "500, text/plain, " in out and "boom (keyless): traceback in worker 3, key=None" in out
    output = out + err
    # No pytest lines: no lone progress dots, no "1 failed in 3.2s", no test ids.
    for line in output.splitlines():
        assert line.strip() not in (".", "F", "E"), output
        assert not re.search(r"\b\d+ (passed|failed|error)s? in [\d.]+s", line), line
        assert "test_contract.py" not in line and "test_operation_conforms" not in line, line
    assert output.count(NO_SUCCESS) == 1, output  # the hint once, in the Verdict line
    assert out.rstrip().splitlines()[-1].startswith("Verdict: FAIL (")


def test_a_5xx_answer_shows_the_key_filtered(capsys: pytest.CaptureFixture[str]) -> None:
    app = Recording("valid")  # the 500 echoes the run's own key
    with serve_in_thread(app) as server:
        code, out, err = run(
            f"--base-url={server.origin}/v2", f"--api-key={KEY}", "--max-writes=2", *FAST, capsys=capsys
        )
    assert code == 1, out + err
    assert "boom (valid): traceback in worker 3, key=[Filtered]" in out
    assert KEY not in out + err


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+) (?!of\b)", text)]


@pytest.mark.parametrize("examples", ["60", "10"])
def test_the_counts_add_up(examples: str, capsys: pytest.CaptureFixture[str]) -> None:
    app = Recording()
    with serve_in_thread(app) as server:
        code, out, err = run(
            f"--base-url={server.origin}/v2",
            f"--api-key={KEY}",
            f"--max-examples={examples}",
            "--rate-limit=2000",
            capsys=capsys,
        )
    assert code == 0, out + err
    cases = re.search(r"^cases: (\d+) generated = (.*)$", out, re.M)
    requests = re.search(
        r"^requests: (\d+) sent = (\d+) for the cases \+ (\d+) probes by checks \((.*)\)$", out, re.M
    )
    assert cases and requests, out
    parts = re.findall(r"(\d+) ([a-z ]+)", cases.group(2))
    assert int(cases.group(1)) == sum(int(n) for n, _ in parts), cases.group(0)
    assert [name.split()[0] for _, name in parts][:1] == ["sent"]
    total, by_cases, probes = (int(requests.group(i)) for i in (1, 2, 3))
    assert (
        total
        == by_cases + probes
        == sum(int(n) for n in re.findall(r"(\d+) \w+", requests.group(4))) + by_cases
    )
    assert len(app.seen) == total + 1  # and the server saw exactly those, plus the reachability check


def test_writes_are_spent_on_success_answers_and_accounted(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(broken.mock(api_keys=(KEY,))) as server:
        code, out, err = run(
            f"--base-url={server.origin}/v2", f"--api-key={KEY}", "--max-writes=5", *FAST, capsys=capsys
        )
    assert code == 0, out + err
    line = re.search(r"^writes: 5 of --max-writes 5: (\d+) accepted \((.*?)\)(.*)$", out, re.M)
    assert line, out
    # 5 writes: success answers first; the first success answer's ignored_auth probes cost two.
    assert int(line.group(1)) >= 3, line.group(0)
    assert re.search(r"(\d+) success answers? checked", out)


@pytest.mark.parametrize(
    "args",
    [
        ["--agent-id", ""],
        ["--agent-id="],
        ["--datasource-id", " "],
        ["--api-key="],
        ["--base-url="],
        ["--junit-xml="],
        ["--report-har="],
        ["--report-md", ""],
        ["--seed="],
    ],
)
def test_an_empty_option_value_is_a_usage_error_and_sends_nothing(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    app = Recording()
    with serve_in_thread(app) as server:
        base = [] if args[0].startswith("--base-url") else [f"--base-url={server.origin}/v2"]
        code, out, err = run(*base, f"--api-key={KEY}", *args, capsys=capsys)
    assert code == 2
    assert out == "" and err.count("\n") == 1 and "is empty" in err, err
    assert app.seen == []


def test_an_empty_key_variable_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEIBEL_API_KEY", "")
    app = Recording()
    with serve_in_thread(app) as server:
        code, _out, err = run(f"--base-url={server.origin}/v2", capsys=capsys)
    assert code == 2 and "$MEIBEL_API_KEY is set but empty" in err and err.count("\n") == 1, err
    assert app.seen == []


# -- HAR 1.2: the structure of the specification (http://www.softwareishard.com/blog/har-12-spec/) ---

NAME_VALUE = {"name": str, "value": str}
REQUIRED: dict[str, dict[str, Any]] = {
    "log": {"version": str, "creator": dict, "entries": list},
    "creator": {"name": str, "version": str},
    "entry": {
        "startedDateTime": str,
        "time": (int, float),
        "request": dict,
        "response": dict,
        "cache": dict,
        "timings": dict,
    },
    "request": {
        "method": str,
        "url": str,
        "httpVersion": str,
        "cookies": list,
        "headers": list,
        "queryString": list,
        "headersSize": int,
        "bodySize": int,
    },
    "response": {
        "status": int,
        "statusText": str,
        "httpVersion": str,
        "cookies": list,
        "headers": list,
        "content": dict,
        "redirectURL": str,
        "headersSize": int,
        "bodySize": int,
    },
    "content": {"size": int, "mimeType": str},
    "postData": {"mimeType": str, "text": str},
    "timings": {"send": (int, float), "wait": (int, float), "receive": (int, float)},
}


def _fields(kind: str, node: Any, where: str) -> None:
    assert isinstance(node, dict), f"{where} is not an object"
    for name, types in REQUIRED[kind].items():
        assert name in node, f"{where}.{name} is missing"
        assert isinstance(node[name], types) and not isinstance(node[name], bool), (
            f"{where}.{name}: {node[name]!r}"
        )


def validate_har(document: Any) -> list[dict[str, Any]]:
    assert isinstance(document, dict) and set(document) == {"log"}
    log = document["log"]
    _fields("log", log, "log")
    assert log["version"] == "1.2"
    _fields("creator", log["creator"], "log.creator")
    for index, entry in enumerate(log["entries"]):
        where = f"log.entries[{index}]"
        _fields("entry", entry, where)
        assert re.match(
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", entry["startedDateTime"]
        )
        assert entry["time"] >= 0
        _fields("request", entry["request"], f"{where}.request")
        _fields("response", entry["response"], f"{where}.response")
        _fields("content", entry["response"]["content"], f"{where}.response.content")
        _fields("timings", entry["timings"], f"{where}.timings")
        assert all(entry["timings"][t] >= 0 for t in ("send", "wait", "receive"))
        for part in ("request", "response"):
            for header in entry[part]["headers"]:
                assert {k: type(v) for k, v in header.items()} == NAME_VALUE, header
        for item in entry["request"]["queryString"]:
            assert {k: type(v) for k, v in item.items()} == NAME_VALUE
        if "postData" in entry["request"]:
            _fields("postData", entry["request"]["postData"], f"{where}.request.postData")
        content = entry["response"]["content"]
        assert "text" not in content or isinstance(content["text"], str)
        assert content.get("encoding", "base64") == "base64"
    return list(log["entries"])


def test_the_har_holds_exactly_the_requests_sent_and_no_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    app = Recording("keyless")
    har, md, junit = tmp_path / "run.har", tmp_path / "run.md", tmp_path / "run.xml"
    with serve_in_thread(app) as server:
        code, out, err = run(
            f"--base-url={server.origin}/v2",
            f"--api-key={KEY}",
            "--max-writes=2",
            f"--report-har={har}",
            f"--report-md={md}",
            f"--junit-xml={junit}",
            *FAST,
            capsys=capsys,
        )
    assert code == 1, out + err
    entries = validate_har(json.loads(har.read_text()))
    # Exactly the requests the server saw (the reachability check included), in the same order.
    sent = [
        (e["request"]["method"], e["request"]["url"].split("/", 3)[3], e["response"]["status"])
        for e in entries
    ]
    seen = [(s.method, s.target.decode().lstrip("/"), 0) for s in app.seen]
    assert [(m, t) for m, t, _ in sent] == [(m, t) for m, t, _ in seen]
    assert {status for *_, status in sent} >= {500, 422}
    for entry, seen_request in zip(entries, app.seen, strict=True):
        post = entry["request"].get("postData")
        text = post["text"] if post else ""
        try:
            assert text == seen_request.body.decode("utf-8"), entry["request"]
        except UnicodeDecodeError:  # kept as base64, in a comment
            assert post is not None and "not UTF-8" in post["comment"]
    # The Markdown: the checks table, the failures with their reproductions, the Verdict.
    text = md.read_text()
    assert "| `not_a_server_error` |" in text and "Reproduce with:" in text and "```sh" in text
    assert re.search(r"^\*\*Verdict: FAIL \(", text, re.M)
    assert step_summary.read_text() == "earlier step\n" + text + "\n"  # appended, as GitHub reads it
    for output in (out, err, har.read_text(), text, junit.read_text(), step_summary.read_text()):
        assert KEY not in output
    assert "[Filtered]" in har.read_text()
    # JUnit speaks English: "1 answer passed", "12 answers passed".
    for system_out in ET.parse(junit).getroot().iter("system-out"):
        for found in re.finditer(r"\b(\d+) (answers?) passed", system_out.text or ""):
            assert found.group(2) == ("answer" if found.group(1) == "1" else "answers"), found.group(0)


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash"
)
@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("POST", "/v2/x", {}, b'{"no": "content type"}'),  # curl must not add its form Content-Type
        ("POST", "/v2/x", {"Content-Type": "application/json"}, b'{"a": "\xff\xfe"}'),  # not UTF-8
        ("POST", "/v2/x", {"Content-Type": "text/plain"}, b"\x00nul, 'quotes', 100% \\ $HOME `x`"),
        ("PUT", "/v2/x", {"X-Empty": "", "X-Quote": 'it\'s "$HOME"'}, b""),  # a header sent empty
        ("GET", "/v2/a/../b/{x}[1]?q={y}&r=[2]", {}, None),  # no globbing, no dot segments resolved
        ("POST", "/v2/x", {"Authorization": f"Bearer {KEY}", "Meibel-API-Key": KEY}, b"{}"),
    ],
    ids=["no-content-type", "not-utf8", "nul-and-quotes", "empty-header", "globs-and-dots", "key-in-bearer"],
)
def test_a_curl_command_replays_the_bytes_of_a_request(
    method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    import requests

    from contract_tests.reports.reproduce import curl_command

    app = Recording()
    with serve_in_thread(app) as server, requests.Session() as session:
        prepared = requests.Request(method, server.origin + path, headers=headers, data=body).prepare()
        session.send(prepared, timeout=10)
        sent = {str(k): str(v) for k, v in prepared.headers.items()}
        command = curl_command(method, str(prepared.url), sent, body, secrets=[KEY])
        assert KEY not in command
        subprocess.run(
            ["bash", "-c", command],
            env={"MEIBEL_API_KEY": KEY, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
            check=True,
            capture_output=True,
            timeout=30,
        )
    original, replayed = app.seen
    assert replayed == original, command
