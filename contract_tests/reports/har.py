"""Every request a live run sent and its answer, as HAR 1.2 (`--report-har PATH`).

A HAR opens in a browser's devtools, Insomnia or Charles, and is what a service team asks for.
The log holds the requests exactly as they went out (headers, body bytes) and the answers as they
came back, with the run's key replaced by `[Filtered]` wherever it appears. A body that is not
UTF-8 is kept as base64 (`content.encoding`, HAR's own field for answers; a request body gets a
`comment` with its base64, since HAR 1.2 has no encoding for `postData`).

The log is bounded: each body keeps at most `BODY_LIMIT` bytes (the rest is counted in a comment),
and the whole log at most `LOG_LIMIT` bytes; entries past it are counted in the log's comment,
not kept. Spec: http://www.softwareishard.com/blog/har-12-spec/
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BODY_LIMIT = 256 * 1024
LOG_LIMIT = 64 * 1024 * 1024
FILTERED = "[Filtered]"


class HarLog:
    def __init__(
        self, *, secrets: Iterable[str] = (), body_limit: int = BODY_LIMIT, log_limit: int = LOG_LIMIT
    ):
        self.secrets = [s for s in secrets if s]
        self.body_limit = body_limit
        self.log_limit = log_limit
        self.entries: list[dict[str, Any]] = []
        self.size = 0
        self.left_out = 0
        self._lock = threading.Lock()

    # -- adding, from each client's objects ------------------------------------------------------

    def add_requests(self, request: Any, response: Any, started: float, elapsed: float) -> None:
        """A `requests` PreparedRequest and its Response (None: no answer came)."""
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.add(
            method=str(request.method),
            url=str(request.url),
            headers=[(str(k), str(v)) for k, v in request.headers.items()],
            body=body if isinstance(body, bytes) else None,
            status=None if response is None else int(response.status_code),
            reason=None if response is None else str(response.reason or ""),
            answer_headers=[]
            if response is None
            else [(str(k), str(v)) for k, v in response.headers.items()],
            answer=b"" if response is None else bytes(response.content or b""),
            started=started,
            elapsed=elapsed,
        )

    def add_httpx(self, response: Any, started: float, elapsed: float) -> None:
        """An `httpx` Response (the preflight's), with the request it answered."""
        request = response.request
        self.add(
            method=str(request.method),
            url=str(request.url),
            headers=[(str(k), str(v)) for k, v in request.headers.items()],
            body=bytes(request.content or b"") or None,
            status=int(response.status_code),
            reason=str(response.reason_phrase or ""),
            answer_headers=[(str(k), str(v)) for k, v in response.headers.items()],
            answer=bytes(response.content or b""),
            started=started,
            elapsed=elapsed,
        )

    def add(
        self,
        *,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        status: int | None,
        reason: str | None,
        answer_headers: list[tuple[str, str]],
        answer: bytes,
        started: float,
        elapsed: float,
    ) -> None:
        entry = self._entry(
            method, url, headers, body, status, reason, answer_headers, answer, started, elapsed
        )
        size = len(json.dumps(entry))
        with self._lock:
            if self.size + size > self.log_limit:
                self.left_out += 1
                return
            self.size += size
            self.entries.append(entry)

    def extend(self, other: HarLog) -> None:
        with self._lock:
            self.entries.extend(other.entries)
            self.size += other.size
            self.left_out += other.left_out

    # -- the document ----------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        with self._lock:
            entries = sorted(self.entries, key=lambda e: str(e["startedDateTime"]))
            log: dict[str, Any] = {
                "version": "1.2",
                "creator": {"name": "meibel-contract", "version": _version()},
                "entries": entries,
            }
            if self.left_out:
                log["comment"] = (
                    f"{self.left_out} more entries left out: the log is capped at {self.log_limit} bytes"
                )
        return {"log": log}

    def write(self, path: str | Path) -> None:
        Path(path).write_text(
            json.dumps(self.document(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    # -- one entry -------------------------------------------------------------------------------

    def _entry(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        status: int | None,
        reason: str | None,
        answer_headers: list[tuple[str, str]],
        answer: bytes,
        started: float,
        elapsed: float,
    ) -> dict[str, Any]:
        url = self._hide(url)
        request: dict[str, Any] = {
            "method": method.upper(),
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": self._headers(headers),
            "queryString": [
                {"name": n, "value": v} for n, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
            ],
            "headersSize": -1,
            "bodySize": len(body) if body is not None else 0,
        }
        if body is not None:
            mime = next((v for n, v in headers if n.lower() == "content-type"), "")
            text, comment = self._text(self._hide_bytes(body))
            request["postData"] = {"mimeType": mime, "text": text}
            if comment:
                request["postData"]["comment"] = comment
        answer = self._hide_bytes(answer)
        content: dict[str, Any] = {
            "size": len(answer),
            "mimeType": next((v for n, v in answer_headers if n.lower() == "content-type"), ""),
        }
        text, comment = self._text(answer, base64_ok=True)
        if answer:
            content["text"] = text
        if comment == "base64":
            content["encoding"] = "base64"
        elif comment:
            content["comment"] = comment
        response: dict[str, Any] = {
            "status": status or 0,
            "statusText": reason if reason is not None else "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": self._headers(answer_headers),
            "content": content,
            "redirectURL": next((v for n, v in answer_headers if n.lower() == "location"), ""),
            "headersSize": -1,
            "bodySize": len(answer) if status is not None else -1,
        }
        if status is None:
            response["comment"] = "no answer: the connection failed or timed out"
        elif not reason:
            response["statusText"] = _reason(status)
        milliseconds = max(elapsed, 0.0) * 1000
        return {
            "startedDateTime": datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds"),
            "time": round(milliseconds, 3),
            "request": request,
            "response": response,
            "cache": {},
            # The client does not split the time it waited: all of it is `wait`.
            "timings": {"send": 0, "wait": round(milliseconds, 3), "receive": 0},
        }

    def _headers(self, headers: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"name": name, "value": self._hide(value)} for name, value in headers]

    def _text(self, body: bytes, *, base64_ok: bool = False) -> tuple[str, str]:
        """The body as HAR text, and a comment (or "base64", for an answer kept as base64)."""
        kept, cut = body[: self.body_limit], len(body) - self.body_limit
        note = f"{cut} more bytes left out (bodies are capped at {self.body_limit} bytes)" if cut > 0 else ""
        try:
            return kept.decode("utf-8"), note
        except UnicodeDecodeError:
            encoded = base64.b64encode(kept).decode("ascii")
            if base64_ok and not note:
                return encoded, "base64"
            return kept.decode("utf-8", "replace"), f"not UTF-8; the bytes, base64: {encoded} {note}".strip()

    def _hide(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, FILTERED)
        return text

    def _hide_bytes(self, body: bytes) -> bytes:
        for secret in self.secrets:
            body = body.replace(secret.encode("utf-8", "replace"), FILTERED.encode())
        return body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _version() -> str:
    try:
        return version("meibel-contract-kit")
    except PackageNotFoundError:
        return "0"
