"""Prism's own test harness, run against this mock: how often the two agree.

    python -m bench.prism_harness PATH/TO/prism-checkout [--verbose] [--only SUBSTRING]

Each OpenAPI 3 scenario of a Stoplight Prism checkout (`test-harness/specs/**/*.oas3.txt`, and the
`*.oas3_1.txt`, `*.only_oas3.txt` and unmarked files whose document is OpenAPI 3) holds a document, the
command line of Prism's mock, a curl command and the answer Prism gives. Every scenario runs in
process (no socket): the document is loaded as written, the scenario's credential is passed as an
accepted key (Prism accepts any credential), `--dynamic`/`-d` become `Prefer: dynamic=true`, and the
curl command is replayed. A scenario agrees when the status matches and, where Prism's answer has a
Content-Type, the media type matches too, error style aside (Prism's `application/problem+json`
for its own errors against the kit's JSON). A document the mock refuses to load counts as "load",
apart from the disagreements, so the figure can be measured again as the loader learns more.

`--repair` first mends what the lenient loader (another branch) is meant to accept: integer status
keys, a missing `info`, a response without `description`, a parameter without `schema`. It measures
the serving side before that loader is merged; the figure without it is the one that counts.

Nothing of Prism's is copied into this project: the script reads the checkout it is given.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import yaml

from mock_server import Settings, create_app, load_contract
from mock_server.errors import ContractError


@dataclass
class Scenario:
    name: str
    spec: str
    server: str
    command: str
    status: int
    content_type: str | None


@dataclass
class Curl:
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None
    form: list[tuple[str, str]] = field(default_factory=list)


def sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("====") and line.endswith("===="):
            current = line.strip("=")
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def scenario(path: Path, root: Path) -> Scenario:
    parts = sections(path.read_text(encoding="utf-8"))
    expect = (parts.get("expect") or parts.get("expect-loose") or "").strip().splitlines()
    status = int(expect[0].split()[1])
    content_type = None
    for line in expect[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            content_type = value.strip()
    return Scenario(
        str(path.relative_to(root)),
        parts["spec"],
        parts.get("server", "").strip(),
        parts["command"].strip(),
        status,
        content_type,
    )


def parse_curl(command: str) -> Curl:
    words = shlex.split(command)
    curl = Curl()
    head = False
    i = 1
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word.startswith("http"):
            curl.url = word
        elif word in ("-X", "--request"):
            curl.method, i = following, i + 1
        elif word in ("-H", "--header"):
            name, _, value = following.partition(":")
            curl.headers[name.strip()] = value.strip()
            i += 1
        elif word in ("-d", "--data", "--data-binary", "--data-raw"):
            curl.data, i = following, i + 1
        elif word == "-F":
            name, _, value = following.partition("=")
            curl.form.append((name, value))
            i += 1
        elif word in ("-u", "--user"):
            curl.headers["Authorization"] = "Basic " + base64.b64encode(following.encode()).decode()
            i += 1
        elif word in ("-b", "--cookie"):
            curl.headers["Cookie"], i = following, i + 1
        elif word in ("-I", "--head"):
            head = True
        elif word.startswith("-") and not word.startswith("--") and "X" in word:
            # combined short options, as in -sIXGET
            flags, _, method = word[1:].partition("X")
            head = head or "I" in flags
            curl.method = method or following
            i += 0 if method else 1
        i += 1
    if head and curl.method == "GET" and not any(w.startswith("-sIX") or w == "-X" for w in words):
        curl.method = "HEAD"
    elif (curl.data is not None or curl.form) and curl.method == "GET" and "-X" not in words:
        curl.method = "POST"
    return curl


def credentials(document: Any, curl: Curl) -> tuple[str, ...]:
    """What the request presents for the document's security schemes."""
    keys: list[str] = []
    headers = {k.lower(): v for k, v in curl.headers.items()}
    query = dict(parse_qsl(urlsplit(curl.url).query, keep_blank_values=True))
    cookies = dict(p.strip().partition("=")[::2] for p in headers.get("cookie", "").split(";") if "=" in p)
    schemes = ((document or {}).get("components") or {}).get("securitySchemes") or {}
    for scheme in schemes.values():
        if not isinstance(scheme, dict):
            continue
        if scheme.get("type") == "apiKey":
            where = {"header": headers, "query": query, "cookie": cookies}.get(str(scheme.get("in")), {})
            name = str(scheme.get("name", ""))
            value = where.get(name.lower() if scheme.get("in") == "header" else name)
            if value:
                keys.append(value)
        else:
            kind, _, token = headers.get("authorization", "").partition(" ")
            if kind.lower() == "basic":
                with contextlib.suppress(ValueError):
                    keys.append(base64.b64decode(token, validate=True).decode().partition(":")[2])
            elif token:
                keys.append(token)
    return tuple(k for k in keys if k)


def repaired(text: str) -> str:
    """The document with what a lenient loader accepts mended (see the module's docstring)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(document, dict):
        return text
    document = _string_keys(document)
    document.setdefault("info", {"title": "harness", "version": "1"})
    for item in (document.get("paths") or {}).values():
        for operation in (item or {}).values() if isinstance(item, dict) else ():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters") or []:
                mendable = isinstance(parameter, dict) and "$ref" not in parameter
                if mendable and "schema" not in parameter and "content" not in parameter:
                    parameter["schema"] = {}
            for response in (operation.get("responses") or {}).values():
                if isinstance(response, dict) and "$ref" not in response:
                    response.setdefault("description", "")
    return json.dumps(document, default=str)


def _string_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def run(item: Scenario, *, repair: bool = False) -> tuple[str, str]:
    """(outcome, reason): outcome is agree, disagree or load."""
    spec = repaired(item.spec) if repair else item.spec
    suffix = ".json" if spec.lstrip().startswith("{") else ".yaml"
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / f"document{suffix}"
        file.write_text(spec, encoding="utf-8")
        try:
            contract = load_contract(file)
        except ContractError as exc:
            return "load", str(exc).replace(str(file), "document")
        except Exception as exc:  # a crash of the loader is a finding too
            return "load", f"crashed: {type(exc).__name__}: {exc}"
    try:
        raw_document = yaml.safe_load(item.spec)
    except yaml.YAMLError:
        raw_document = {}
    curl = parse_curl(item.command)
    keys = credentials(raw_document, curl)
    app = create_app(contract, settings=Settings(api_keys=keys or ("meibel-mock-key",), seed=1))
    headers = dict(curl.headers)
    server_words = item.server.split()
    if "--dynamic" in server_words or "-d" in server_words:
        headers["Prefer"] = "dynamic=true"
    response = asyncio.run(_send(app, curl, headers))
    got_type = response.headers.get("content-type")
    reason = f"Prism {item.status} {item.content_type or '-'}; mock {response.status_code} {got_type or '-'}"
    if response.status_code != item.status:
        return "disagree", reason
    if item.content_type and not _same_type(item.content_type, got_type, item.status):
        return "disagree", reason
    return "agree", reason


def _same_type(expected: str, got: str | None, status: int) -> bool:
    def essence(value: str) -> str:
        return value.split(";")[0].strip().lower()

    if got is None:
        return False
    if essence(expected) == essence(got):
        return True
    return (
        status >= 400
        and essence(expected) == "application/problem+json"
        and essence(got) == "application/json"
    )


async def _send(app: Any, curl: Curl, headers: dict[str, str]) -> httpx.Response:
    url = urlsplit(curl.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:4010"
    ) as http:
        if curl.form:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            files = {name: (None, value) for name, value in curl.form}
            return await http.request(curl.method, target, headers=headers, files=files)
        content = curl.data.encode() if curl.data is not None else None
        if content is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/x-www-form-urlencoded"  # curl's default for -d
        return await http.request(curl.method, target, headers=headers, content=content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("checkout", type=Path, help="a checkout of stoplightio/prism")
    parser.add_argument("--only", default="", help="scenarios whose path contains this")
    parser.add_argument("--verbose", action="store_true", help="print agreeing scenarios too")
    parser.add_argument(
        "--repair", action="store_true", help="mend what the lenient loader will accept first"
    )
    args = parser.parse_args(argv)
    root = args.checkout / "test-harness" / "specs"
    if not root.is_dir():
        print(f"prism_harness: no test-harness/specs under {args.checkout}", file=sys.stderr)
        return 2
    counts = {"agree": 0, "disagree": 0, "load": 0}
    for path in sorted(root.rglob("*.txt")):
        if args.only not in str(path) or not _is_openapi3(path):
            continue
        try:
            item = scenario(path, root)
        except (ValueError, IndexError, KeyError) as exc:  # a layout this script does not read
            counts["unread"] = counts.get("unread", 0) + 1
            print(f"unread   {path.relative_to(root)}: {exc}")
            continue
        outcome, reason = run(item, repair=args.repair)
        counts[outcome] += 1
        if outcome != "agree" or args.verbose:
            print(f"{outcome:8} {item.name}: {reason}")
    total = sum(counts.values())
    print(
        f"\n{counts['agree']} of {total} agree; {counts['disagree']} disagree; "
        f"{counts['load']} documents not loaded; {counts.get('unread', 0)} scenarios this script cannot read"
    )
    return 0


def _is_openapi3(path: Path) -> bool:
    """Scenarios of OpenAPI 3 documents: `*.oas3.txt`, `*.oas3_1.txt`, `*.only_oas3.txt` and the
    unmarked ones whose document says `openapi: 3…` (not Swagger 2, not Postman collections)."""
    if path.name.endswith(".oas3.txt"):
        return True  # marked OpenAPI 3 by the harness itself, whatever the loader makes of it
    if path.name.endswith((".oas2.txt", ".pc.txt")):
        return False
    text = path.read_text(errors="replace")
    spec = text.split("====spec====", 1)[-1].split("====", 1)[0]
    return any(
        line.lstrip(" '\"{").startswith(("openapi", 'openapi"')) and "3." in line
        for line in spec.splitlines()[:40]
    )


if __name__ == "__main__":
    sys.exit(main())
