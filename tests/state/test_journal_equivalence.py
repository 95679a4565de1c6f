"""The journal's fast path keeps exactly what the straightforward one kept.

`prepare` takes a shortcut for the common request (no key anywhere, every part within its cap).
Here the reference is the straightforward implementation it replaced, kept verbatim below (its
redactor too, so that a change to `Redactor` cannot hide behind a shared bug): over many
adversarial requests — a key in every place it can hide, in every form, cut in two by every cap —
both must keep the same entry, with the same cost in bytes, and the journal the same figures.
"""

from __future__ import annotations

import functools
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest

import mock_server.state.journal as journal_module
from mock_server import DEV_KEY
from mock_server.state.journal import (
    MAX_BODY_KEPT,
    MAX_HEADER_BYTES,
    MAX_HEADER_VALUE,
    MAX_RESPONSE_KEPT,
    MAX_URL_PART,
    Journal,
    prepare,
    typed,
)
from mock_server.state.redaction import Redactor

# ---------------------------------------------------------------------------------------------
# The reference: `redaction.Redactor` and `journal.prepare` as they were before the fast path,
# with the two fixes to the redaction that came with it (a key sent unencoded in a query, split
# by its own `&`, `=` or `+`; a JSON body escaping its slashes as `\/`), marked `(fix)`.

_REDACTED = "[redacted]"
_REDACTED_BYTES = _REDACTED.encode()
_ALWAYS_SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
)
_SECRET_PARAMS = frozenset(
    {
        "apikey",
        "key",
        "token",
        "auth",
        "authorization",
        "password",
        "passwd",
        "pwd",
        "secret",
        "signature",
        "sig",
        "credential",
        "credentials",
        "sessionid",
        "jwt",
        "bearer",
    }
)
_SECRET_SUFFIXES = ("token", "secret", "password", "apikey", "signature", "credential", "credentials")
_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\(?:u00([2-7][0-9a-fA-F])|/)")  # (fix: `\/`)
_LONGEST_ESCAPE = 6
_ENTRY_OVERHEAD = 512
_MIN_HIDDEN = 4


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _is_secret_param(name: str, extra: frozenset[str] = frozenset()) -> bool:
    normal = _normal(name)
    return normal in _SECRET_PARAMS or normal in extra or normal.endswith(_SECRET_SUFFIXES)


class ReferenceRedactor:
    def __init__(
        self,
        keys: Iterable[str] = (),
        *,
        secret_headers: Iterable[str] = (),
        secret_params: Iterable[str] = (),
    ) -> None:
        plain = {key for key in keys if key}
        forms = {form for key in plain for form in (key, quote(key, safe=""), quote_plus(key))}
        self.keys = sorted(forms, key=len, reverse=True)
        self._key_bytes = [form.encode("utf-8", "surrogateescape") for form in self.keys]
        self.headers = frozenset(name.lower() for name in (*_ALWAYS_SECRET_HEADERS, *secret_headers))
        self._params = frozenset(_normal(name) for name in secret_params)
        self.reach = _LONGEST_ESCAPE * max((len(k) for k in self._key_bytes), default=0)

    def text(self, value: str) -> str:
        for key in self.keys:
            if key in value:
                value = value.replace(key, _REDACTED)
        return value

    def header(self, name: str, value: str) -> str:
        return _REDACTED if name in self.headers else self.text(value)

    def params(self, encoded: str, hidden: list[str] | None = None) -> str:
        if not encoded:
            return encoded
        parts = []
        for part in encoded.split("&"):
            raw_name, sep, raw_value = part.partition("=")
            name, value = unquote_plus(raw_name), unquote_plus(raw_value)
            if self.text(name) != name:
                raw_name = _REDACTED
            if value and (_is_secret_param(name, self._params) or self.text(value) != value):
                if hidden is not None:
                    hidden.extend((value, raw_value))
                raw_value = _REDACTED
            parts.append(raw_name + sep + raw_value)
        return self.text("&".join(parts))  # (fix)

    def body(self, raw: bytes, limit: int, also: Iterable[str] = ()) -> tuple[bytes, bool]:
        secrets = self._key_bytes
        reach = self.reach
        if also:
            extra = {value.encode("utf-8", "surrogateescape") for value in also}
            secrets = sorted({*secrets, *extra}, key=len, reverse=True)
            reach = max(reach, _LONGEST_ESCAPE * max(map(len, extra)))
        window = raw if len(raw) <= limit + reach else raw[: limit + reach]
        hidden = _hide(window, secrets)
        if b"\\" in hidden and secrets:  # (fix: was `\\u`)
            unescaped = _ESCAPE.sub(_unescape, hidden)
            if _hide(unescaped, secrets) != unescaped:
                hidden = _hide(unescaped, secrets)
        return hidden[:limit], len(raw) > len(window) or len(hidden) > limit


def _hide(data: bytes, secrets: Iterable[bytes]) -> bytes:
    for secret in secrets:
        if secret in data:
            data = data.replace(secret, _REDACTED_BYTES)
    return data


def _unescape(found: re.Match[bytes]) -> bytes:
    if found.group(2) is None:  # (fix)
        return found.group(1) + b"/"
    code = int(found.group(2), 16)
    if code in (0x22, 0x5C) or code > 0x7E:
        return found.group(0)
    return found.group(1) + bytes([code])


def reference_prepare(
    redactor: ReferenceRedactor,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes | None,
    status: int,
    response: bytes,
    pid: int,
) -> tuple[Any, ...]:
    kept_headers: list[tuple[str, str]] = []
    header_bytes = 0
    headers_cut = False
    for name, value in headers.items():
        if len(value) > MAX_HEADER_VALUE:
            value = redactor.header(name, value[: MAX_HEADER_VALUE + redactor.reach])[:MAX_HEADER_VALUE]
            headers_cut = True
        else:
            value = redactor.header(name, value)
        name = redactor.text(name)
        if header_bytes + len(name) + len(value) > MAX_HEADER_BYTES:
            headers_cut = True
            break
        header_bytes += len(name) + len(value)
        kept_headers.append((name, value))
    path = redactor.text(path[: MAX_URL_PART + redactor.reach])[:MAX_URL_PART]
    hidden: list[str] = []
    query = redactor.params(query[: MAX_URL_PART + redactor.reach], hidden)[:MAX_URL_PART] if query else ""
    if body is not None and "x-www-form-urlencoded" in headers.get("content-type", ""):
        redactor.params(body[:MAX_BODY_KEPT].decode("latin-1"), hidden)
    also = [value for value in hidden if len(value) >= _MIN_HIDDEN]
    kept_body, body_cut = (None, False) if body is None else redactor.body(body, MAX_BODY_KEPT, also)
    kept_response, response_cut = redactor.body(response, MAX_RESPONSE_KEPT, also)
    cost = (
        _ENTRY_OVERHEAD
        + len(method)
        + len(path)
        + len(query)
        + header_bytes
        + len(kept_body or b"")
        + len(kept_response)
    )
    return (
        0.0,
        method,
        path,
        query,
        tuple(kept_headers),
        headers_cut,
        kept_body,
        body_cut,
        status,
        kept_response,
        response_cut,
        pid,
        cost,
    )


# ---------------------------------------------------------------------------------------------
# Adversarial material.

ODD_KEY = "sk+live/ä é&=Key"  # its raw, percent-encoded and `+` forms all differ
SHORT_KEY = "k3y"
REDACTORS: dict[str, dict[str, Any]] = {
    "no keys": {},
    "the dev key": {"keys": [DEV_KEY], "secret_headers": ["Meibel-API-Key"]},
    "several keys, custom names": {
        "keys": [DEV_KEY, ODD_KEY, SHORT_KEY, ""],
        "secret_headers": ["X-Custom-Key"],
        "secret_params": ["sessionToken", "my_pass"],
    },
}


def _forms(key: str) -> list[str]:
    return [key, quote(key, safe=""), quote_plus(key)]


def _escaped(key: str) -> bytes:
    """`key` as JSON may spell it: every printable ASCII character as `\\u00XX`."""
    return "".join(f"\\u{ord(c):04x}" if 0x20 <= ord(c) < 0x7F else c for c in key).encode()


def _straddling(text: str, limit: int, filler: str = "x") -> list[str]:
    """`text` placed across the cut at `limit`, at every offset it can straddle it from."""
    return [filler * (limit - offset) + text + "tail" for offset in range(0, len(text) + 1, 3)]


def header_sets() -> list[Mapping[str, str]]:
    base = {"host": "127.0.0.1:8000", "content-type": "application/json", "content-length": "251"}
    sets: list[Mapping[str, str]] = [
        {},
        dict(base),
        {**base, "meibel-api-key": DEV_KEY},
        {**base, "meibel-api-key": ""},
        {**base, "x-empty": ""},
        {**base, "x-latin": "caf\xe9 \xff\x00\x7f", "x-ünï": "v"},
        {**base, "content-type": "application/x-www-form-urlencoded"},
        {**base, "content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        {**base, "content-type": "text/plain"},
        {"host": "h", "cookie": "session=" + "c" * (MAX_HEADER_VALUE + 10)},  # a long secret
        {"host": "h", "authorization": "Bearer " + DEV_KEY},
        {"x-custom-key": "whatever", "X-Custom-Key": "case matters"},
        {"x-big": "v" * (MAX_HEADER_VALUE - 1), "x-more": "w" * 20},
        {"x-big": "v" * MAX_HEADER_VALUE},
        {"x-big": "v" * (MAX_HEADER_VALUE + 1)},
        {f"x-h{i}": "v" * 100 for i in range(400)},  # past the total cap
        {f"x-h{i}": "v" * 1000 for i in range(40)},  # past the total cap, each value under its own
        {f"x-h{i}": "v" * (MAX_HEADER_VALUE // 2) for i in range(3)},  # over 4 KiB in all, each under
    ]
    for key in (DEV_KEY, ODD_KEY, SHORT_KEY):
        for form in _forms(key):
            sets.append({**base, "x-trace": f"user {form} end"})
            sets.append({**base, form: "1"})  # a key as a header's name
            sets.append({**base, f"x-{form}": form})
            sets.append({"x-a": form[:2], "x-b": form[2:]})  # across two parts of the probe
            sets.append({"x-a": "1", form[:3]: form[3:]})
            for value in _straddling(form, MAX_HEADER_VALUE):
                sets.append({"x-long": value})
            sets.append({"x-long": "v" * (MAX_HEADER_VALUE + 100) + form})  # past the reach
            sets.append({f"x-h{i}": "v" * 1000 for i in range(32)} | {"x-last": form})
    sets.append(_NotADict({"a": "1", "meibel-api-key": DEV_KEY}))
    sets.append(_Repeating([("x-a", "1"), ("x-a", DEV_KEY), ("cookie", "c")]))
    sets.append(_DictChild({"x-a": DEV_KEY, "host": "h"}))
    return sets


class _NotADict(Mapping[str, str]):
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    def __getitem__(self, name: str) -> str:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _Repeating(Mapping[str, str]):
    """A multi-dict: its items repeat a name, as raw HTTP headers can."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> str:
        for key, value in self._items:
            if key == name:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> Any:
        return list(self._items)


class _DictChild(dict[str, str]):
    pass


def paths() -> list[str]:
    found = ["/v2/batch-executions", "/", "", "/v2/ünï/caf\xe9", "/" + "p" * (MAX_URL_PART + 5)]
    for key in (DEV_KEY, ODD_KEY, SHORT_KEY):
        for form in _forms(key):
            found.append(f"/v2/{form}/x")
            found.extend("/" + value for value in _straddling(form, MAX_URL_PART - 1))
    return found


def queries() -> list[str]:
    found = [
        "",
        "a=1",
        "a=1&a=2&b=",
        "=",
        "&&",
        "a",
        "token=1",  # too short to hide in the bodies
        "token=abcd",
        "api_key=whatever-it-is",
        "X-Api-Key=whatever-it-is",
        "access_token=whatever-it-is&q=2",
        "sessionToken=zzzzzz&my-pass=pppppp",
        "q=caf%C3%A9+%26+more",
        "q=%ZZ&r=%",
        "x=" + "q" * (MAX_URL_PART + 10),
    ]
    for key in (DEV_KEY, ODD_KEY, SHORT_KEY):
        for form in _forms(key):
            found.append(f"q={form}")
            found.append(f"{form}=1")
            found.append(f"a=1&note={form}&b=2")
            found.extend("a=" + value for value in _straddling(form, MAX_URL_PART - 2))
    return found


def bodies() -> list[bytes | None]:
    json_body = b'{"batch_spec_json":{"name":"Quarterly invoices","agent":"a","input":{"datasource_id":"d"}}}'
    found: list[bytes | None] = [
        None,
        b"",
        json_body,
        b'{"x": "caf\\u00e9 \\n \\" \\\\ \\u0041"}',  # escapes, none spelling a key
        b'{"x": "a\\\\u006deibel-mock-key"}',  # an escaped backslash, then the key
        b"\\u00",
        b"\xff\xfe not utf-8 \x00",
        "ünï café".encode(),
        b"password=hunter2&note=hello",
        b"token=abcd&x=whatever-it-is",
        b"b" * (MAX_BODY_KEPT + 10),
        b"b" * MAX_BODY_KEPT,
        b"b" * (2 * MAX_BODY_KEPT),
    ]
    for key in (DEV_KEY, ODD_KEY, SHORT_KEY):
        for form in _forms(key):
            raw = form.encode()
            found.append(b'{"name": "' + raw + b'"}')
            found.append(b"note=" + raw + b"&password=hunter2")
            found.append(b"note=" + quote_plus(form).encode())
            for value in _straddling(form, MAX_BODY_KEPT):
                found.append(value.encode())
        escaped = _escaped(key)
        found.append(b'{"name": "' + escaped + b'"}')
        found.append(b'{"name": "' + key.replace("/", "\\/").encode() + b'"}')  # slashes escaped
        found.append(b'{"name": "' + escaped.replace(b"\\u002f", b"\\/") + b'"}')
        found.append(b'{"name": "\\\\' + escaped + b'"}')  # a backslash escaped before it
        for value in _straddling(escaped.decode(), MAX_BODY_KEPT):
            found.append(value.encode())
    found.append(b"x" * (MAX_BODY_KEPT - 4) + b"whatever-it-is")  # a hidden value across the cap
    found.append(b'{"echo": "whatever-it-is", "t": "abcd", "s": "zzzzzz", "p": "pppppp"}')
    found.append(b"note=whatever-it-is&t=abcd")
    return found


@functools.cache
def _material() -> tuple[list[Any], ...]:
    return header_sets(), paths(), queries(), bodies(), [b for b in bodies() if b is not None]


def _normalized(stored: tuple[Any, ...]) -> tuple[Any, ...]:
    """The new layout (names and values apart) as the reference's (name, value) pairs, without
    the time."""
    at, method, path, query, names, values, *rest = stored
    assert isinstance(at, float)
    return (method, path, query, tuple(zip(names, values, strict=True)), *rest)


PLAIN = (
    {"host": "127.0.0.1:8000", "content-type": "application/json", "meibel-api-key": DEV_KEY},
    "/v2/batch-executions",
    "",
    b'{"batch_spec_json":{"name":"Quarterly invoices"}}',
    b'{"id":"bf446a6e-47fa-455d-97be-47afc2ce2c19","status":"pending"}',
)


def _requests(rng: random.Random, count: int, *, each: bool = True) -> Iterator[tuple[Any, ...]]:
    """With `each`, each header set, path, query, body and answer in a plain request (so that
    it alone decides which path is taken), and some combinations; then `count` requests of them
    mixed at random."""
    material = _material()
    yield from _each(material) if each else ()
    for _ in range(count):
        headers, path, query, body, response = (rng.choice(choices) for choices in material)
        method = rng.choice(["POST", "GET", "OPTIONS", "DELETE"])
        yield method, path, query, headers, body, rng.choice([201, 200, 404, 422]), response


def _each(material: tuple[list[Any], ...]) -> Iterator[tuple[Any, ...]]:
    for position, choices in enumerate(material):
        for choice in choices:
            parts = list(PLAIN)
            parts[position] = choice
            headers, path, query, body, response = parts
            yield "POST", path, query, headers, body, 201, response
    # What only a combination shows: a form body's credentials, and a query's credential values
    # hidden in the bodies too.
    headers_sets, _, queries_, bodies_, _ = material
    forms = [h for h in headers_sets if "x-www-form-urlencoded" in h.get("content-type", "")]
    for headers in forms:
        for body in bodies_:
            yield "POST", PLAIN[1], "", headers, body, 201, PLAIN[4]
    echoes = [b for b in bodies_ if b is not None and (b"whatever-it-is" in b or b"abcd" in b)]
    for query in queries_:
        for echo in echoes:
            yield "POST", PLAIN[1], query, PLAIN[0], echo, 201, echo
            yield "POST", PLAIN[1], query, forms[0], PLAIN[3], 201, echo


@pytest.mark.parametrize("name", list(REDACTORS))
def test_prepare_keeps_what_the_reference_kept(name: str) -> None:
    options = REDACTORS[name]
    redactor, reference = Redactor(**options), ReferenceRedactor(**options)
    assert redactor.keys == reference.keys and redactor.reach == reference.reach
    compared = 0
    for method, path, query, headers, body, status, response in _requests(random.Random(name), 500):
        new = prepare(redactor, method, path, query, headers, body, status, response, 7)
        old = reference_prepare(reference, method, path, query, headers, body, status, response, 7)
        assert _normalized(new) == old[1:], (method, path[:80], query[:80], headers, (body or b"")[:80])
        compared += 1
    assert compared >= 500 + sum(map(len, _material()))  # (and the combinations)


def test_the_typed_entry_is_the_reference_s() -> None:
    """What a test reads back (`JournalEntry`) from both layouts is the same."""
    options = REDACTORS["several keys, custom names"]
    redactor, reference = Redactor(**options), ReferenceRedactor(**options)
    for method, path, query, headers, body, status, response in _requests(random.Random(3), 300, each=False):
        new = prepare(redactor, method, path, query, headers, body, status, response, 7)
        old = reference_prepare(reference, method, path, query, headers, body, status, response, 7)
        _, method_, path_, query_, pairs, *rest = old
        as_new = (
            new[0],
            method_,
            path_,
            query_,
            tuple(k for k, _ in pairs),
            tuple(v for _, v in pairs),
            *rest,
        )
        assert typed(new) == typed(as_new)


def test_no_key_survives_in_any_form() -> None:
    """Whatever path each request took, the entry holds no key (the check the cut leaves: the
    last few bytes before a cap may hold the start of one, as `[reda` may)."""
    options = REDACTORS["several keys, custom names"]
    redactor = Redactor(**options)
    long_forms = [form for key in (DEV_KEY, ODD_KEY) for form in _forms(key)]
    for method, path, query, headers, body, status, response in _requests(random.Random(5), 800):
        entry = prepare(redactor, method, path, query, headers, body, status, response, 7)
        texts = [entry[2], entry[3], *entry[4], *entry[5]]
        blobs = [entry[7] or b"", entry[10]]
        for form in long_forms:
            assert not any(form in text for text in texts)
            spellings = (form.encode(), _escaped(form), form.replace("/", "\\/").encode())
            assert not any(spelling in blob for spelling in spellings for blob in blobs)


def test_the_common_request_takes_no_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut is really taken: a plain request never reaches the header-by-header or the
    body-by-body path, and each kind of trouble does."""
    calls: list[str] = []
    exact_headers, exact_bodies = journal_module._headers, journal_module._bodies

    def headers_spy(*args: Any) -> Any:
        calls.append("headers")
        return exact_headers(*args)

    def bodies_spy(*args: Any) -> Any:
        calls.append("bodies")
        return exact_bodies(*args)

    monkeypatch.setattr(journal_module, "_headers", headers_spy)
    monkeypatch.setattr(journal_module, "_bodies", bodies_spy)
    redactor = Redactor([DEV_KEY], secret_headers=["meibel-api-key"])
    plain = {"host": "h", "content-type": "application/json", "meibel-api-key": DEV_KEY}
    body = b'{"name": "Quarterly invoices"}'

    def taken(**changes: Any) -> list[str]:
        request: dict[str, Any] = {
            "method": "POST",
            "path": "/v2/x",
            "query": "",
            "headers": plain,
            "body": body,
            "status": 201,
            "response": b'{"id": "1"}',
            "pid": 1,
        }
        calls.clear()
        prepare(redactor, **{**request, **changes})
        return sorted(calls)

    assert taken() == []
    assert taken(body=None, response=b"") == []
    assert taken(headers={**plain, "x-trace": DEV_KEY}) == ["headers"]
    assert taken(headers={**plain, "x-big": "v" * (MAX_HEADER_VALUE + 1)}) == ["headers"]
    assert taken(path="/v2/" + DEV_KEY) == ["headers"]
    assert taken(body=b'{"name": "' + DEV_KEY.encode() + b'"}') == ["bodies"]
    assert taken(body=b'{"name": "\\u006d"}') == ["bodies"]
    assert taken(response=b"r" * (MAX_RESPONSE_KEPT + 1)) == ["bodies"]
    assert taken(query="token=abcdef") == ["bodies"]


def _reference_journal(
    entries: list[tuple[Any, ...]], size: int, max_bytes: int
) -> tuple[list[tuple[Any, ...]], int, int]:
    """The journal's eviction as it was: what it keeps, its bytes, and how many it dropped."""
    kept: deque[tuple[Any, ...]] = deque()
    used = evicted = 0
    for entry in entries:
        kept.append(entry)
        used += entry[-1]
        while len(kept) > 1 and (len(kept) > size or used > max_bytes):
            used -= kept.popleft()[-1]
            evicted += 1
    return list(kept), used, evicted


@pytest.mark.parametrize(("size", "max_bytes"), [(1, 10**9), (1000, 40_000), (7, 9_000)])
def test_the_journal_s_figures_are_the_reference_s(size: int, max_bytes: int) -> None:
    options = REDACTORS["the dev key"]
    journal = Journal(size, max_bytes=max_bytes, redactor=Redactor(**options))
    reference = ReferenceRedactor(**options)
    expected = []
    for method, path, query, headers, body, status, response in _requests(
        random.Random(size), 300, each=False
    ):
        journal.record(method, path, query, headers, body, status, response, journal.generation)
        expected.append(reference_prepare(reference, method, path, query, headers, body, status, response, 0))
    kept, used, evicted = _reference_journal(expected, size, max_bytes)
    snapshot = journal.snapshot()
    assert (snapshot.used_bytes, snapshot.evicted) == (used, evicted)
    assert [(e.method, e.path, e.query_string, list(e.headers.items())) for e in snapshot.entries] == [
        (e[1], e[2], e[3], list(dict(e[4]).items())) for e in kept
    ]
