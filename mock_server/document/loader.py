"""Files → one document: lenient JSON/YAML parsing, and other files' `$ref`s bundled in.

YAML is read as people write OpenAPI in it: mapping keys keep their source text (`200:` is the
status "200", not the integer), and unquoted dates stay strings (`example: 2020-01-01`), since
JSON Schema has no date type and the document means the text (mock_server/document/yaml_text.py, imported
only when a YAML file is read).

A `$ref` to another file (`common.yaml#/components/schemas/Pet`) is followed, safely: only files
under the root document's folder (or under folders allowed explicitly), never the network, and
within a limit of files and bytes. Each file read is placed whole under the root's
`x-referenced-files` extension, keyed by its path relative to the root's folder, and every reference to it
is rewritten to a local one (`#/x-referenced-files/common.yaml/components/schemas/Pet`): the result is one
self-contained document that any tool, and `GET /openapi.json`, can use as it is.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mock_server.document.refs import (
    Link,
    TooDeep,
    escape,
    inline_map_refs,
    inline_operation_refs,
    pointer,
    ref_holders,
)
from mock_server.errors import ContractError, DocumentWarning

# Not `x-bundled`, nor anything it begins: Schemathesis keeps its own bundle under that name and
# takes every reference beginning `#/x-bundled` for one of its own (DigitalOcean's run crashed).
BUNDLE_KEY = "x-referenced-files"
MAX_FILES = 10_000  # DigitalOcean's public document reads some 1,500
MAX_TOTAL_BYTES = 256 * 1024 * 1024


@dataclass
class Loaded:
    document: dict[str, Any]
    files: list[Path]
    # Every object holding a `$ref` (bundled files' too), so the checks need not walk again.
    refs: list[tuple[dict[str, Any], Link]]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[DocumentWarning] = field(default_factory=list)


def read_document(path: Path, *, allowed: tuple[Path, ...] = (), warn: bool = True) -> Loaded:
    """Read the document at `path`, with every file it references bundled in. `warn=False` skips
    looking for repeated JSON keys in the root document (a third of the time a large one takes to
    parse), for a reader that shows no warnings."""
    started = time.perf_counter()
    root = path.resolve() if path.exists() else path
    text = _read(root, str(path), budget=[MAX_TOTAL_BYTES])
    read_at = time.perf_counter()
    warnings: list[DocumentWarning] = []
    document = parse_document(text, str(path), warnings if warn else None)
    parsed_at = time.perf_counter()
    bundler = _Bundler(root, str(path), allowed, len(text.encode("utf-8", "surrogatepass")), warnings)
    refs = bundler.bundle(document)
    warnings += inline_map_refs(document, refs, str(path))
    inline_operation_refs(document, refs)
    done = time.perf_counter()
    timings = {"read": read_at - started, "parse": parsed_at - read_at}
    timings["find references"] = done - parsed_at - bundler.reading
    if bundler.files:
        timings[f"read and parse {len(bundler.files)} other files"] = bundler.reading
    return Loaded(document, [root, *bundler.files], refs, timings, warnings)


def _read(file: Path, source: str, budget: list[int], *, regular: bool = False) -> str:
    """The file's text, counted against the budget of bytes. Read with a bound, not trusting its
    size: `/dev/zero` or a growing file stop at the budget. Referenced files must be regular
    files (a FIFO would wait forever); the root document may come from a pipe."""
    too_big = f"larger than the {MAX_TOTAL_BYTES // 2**20} MiB a document may total"
    try:
        if file.is_dir():
            raise ContractError(source, "is a directory, not an OpenAPI document")
        if regular and file.exists() and not file.is_file():
            raise ContractError(source, "not a regular file")
        if file.is_file() and file.stat().st_size > budget[0]:
            raise ContractError(source, too_big)
        with file.open("rb") as stream:
            data = stream.read(budget[0] + 1)
        if len(data) > budget[0]:
            raise ContractError(source, too_big)
        budget[0] -= len(data)
        return data.decode("utf-8-sig")
    except FileNotFoundError:
        raise ContractError(source, "no such file") from None
    except IsADirectoryError:
        raise ContractError(source, "is a directory, not an OpenAPI document") from None
    except UnicodeDecodeError as exc:
        raise ContractError(source, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ContractError(source, f"cannot read: {exc.strerror or exc}") from None


def parse_document(text: str, source: str, warnings: list[DocumentWarning] | None = None) -> dict[str, Any]:
    """JSON or YAML text → an object, or one line saying where it is broken. Problems that do not
    stop reading (a repeated YAML key) are added to `warnings` when it is given."""
    looks_json = not source.endswith((".yaml", ".yml")) and text.lstrip()[:1] in ("{", "[")
    if looks_json or source.endswith(".json"):
        try:
            data = _parse_json(text, warnings)
        except json.JSONDecodeError as exc:
            raise ContractError(
                source, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise ContractError(source, "not valid JSON: nested too deeply to be read") from None
    else:
        from mock_server.document.yaml_text import parse_yaml  # here: a JSON document does not pay for YAML

        data = parse_yaml(text, source, warnings)
    if not isinstance(data, dict):
        raise ContractError(source, "an OpenAPI document must be an object", pointer="")
    return data


def _parse_json(text: str, warnings: list[DocumentWarning] | None, label: str = "") -> Any:
    if warnings is None:
        return json.loads(text)

    def keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # json.loads keeps the last of repeated keys without a word; the author should hear of it.
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    message = f"{label}an object repeats key {key!r}; the last one is used"
                    warnings.append(DocumentWarning("", message))
                seen.add(key)
        return out

    return json.loads(text, object_pairs_hook=keep_last)


class _Bundler:
    def __init__(
        self, root: Path, source: str, allowed: tuple[Path, ...], size: int, warnings: list[DocumentWarning]
    ) -> None:
        self.warnings = warnings
        self.root = root
        self.source = source
        self.folders = (root.parent, *(folder.resolve() for folder in allowed))
        self.files: list[Path] = []
        self.keys: dict[Path, str] = {root: ""}
        self.budget = [MAX_TOTAL_BYTES - size]
        self.bundled: dict[str, Any] = {}
        self.reading = 0.0  # seconds spent reading and parsing other files

    def bundle(self, document: dict[str, Any]) -> list[tuple[dict[str, Any], Link]]:
        everything: list[tuple[dict[str, Any], Link]] = []
        pending: list[tuple[Path, Any, Link]] = [(self.root, document, None)]
        while pending:
            file, data, link = pending.pop()
            try:
                holders = ref_holders(data, link)
            except TooDeep as exc:
                raise ContractError(self.source, str(exc), pointer=pointer(exc.link)) from None
            everything += holders
            for node, at in holders:
                ref = node["$ref"]
                if not isinstance(ref, str) or (file == self.root and ref.startswith("#")):
                    continue
                # In another file, even `#/…` names a place in that file, and must be rewritten.
                where = pointer(("$ref", at))
                target, fragment = self._target(file, ref, where)
                if target is None:
                    continue
                if target not in self.keys:
                    key = self._key(target)
                    self.keys[target] = key
                    content = self._load(target, ref, where)
                    self.bundled[key] = content
                    pending.append((target, content, (key, (BUNDLE_KEY, None))))
                base = self.keys[target]
                node["$ref"] = "#" + (f"/{BUNDLE_KEY}/{escape(base)}" if base else "") + fragment
        if self.bundled:
            document[BUNDLE_KEY] = self.bundled
        return everything

    def _target(self, file: Path, ref: str, pointer: str) -> tuple[Path | None, str]:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            if parts.scheme in ("http", "https", "ftp") or parts.netloc:
                raise ContractError(
                    self.source, f"$ref {ref!r} is on the network; only files are followed", pointer=pointer
                )
            if parts.scheme != "file":
                # urn:, tag: and the like name schemas by identity: JSON Schema resolves them itself.
                return None, ""
        if not parts.path:
            if file == self.root:
                return None, ""
            return file, _fragment(parts.fragment)
        target = (file.parent / unquote(parts.path)).resolve()
        if not any(target.is_relative_to(folder) for folder in self.folders):
            raise ContractError(
                self.source,
                f"$ref {ref!r} leaves the document's folder (allow it with --allow-external-refs)",
                pointer=pointer,
            )
        return target, _fragment(parts.fragment)

    def _key(self, target: Path) -> str:
        if target.is_relative_to(self.root.parent):
            return target.relative_to(self.root.parent).as_posix()
        return target.as_posix().lstrip("/")

    def _load(self, target: Path, ref: str, pointer: str) -> Any:
        if len(self.files) >= MAX_FILES:
            raise ContractError(
                self.source, f"$ref {ref!r}: more than {MAX_FILES} files referenced", pointer=pointer
            )
        self.files.append(target)
        where = f"{self.source}: $ref {ref!r} at {pointer or '/'}"
        started = time.perf_counter()
        text = _read(target, where, self.budget, regular=True)
        try:
            return _parse_any(text, target, self.warnings, f"{self.keys[target]}, ")
        except ContractError as exc:
            raise ContractError(str(target), exc.message) from None
        finally:
            self.reading += time.perf_counter() - started


def _parse_any(text: str, target: Path, warnings: list[DocumentWarning], label: str) -> Any:
    # Referenced files may hold any JSON value (a bare schema, a list of parameters).
    if target.suffix == ".json":
        try:
            return _parse_json(text, warnings, label)
        except json.JSONDecodeError as exc:
            raise ContractError(
                str(target), f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise ContractError(str(target), "not valid JSON: nested too deeply to be read") from None
    from mock_server.document.yaml_text import parse_yaml

    return parse_yaml(text, str(target), warnings, label)


def _fragment(fragment: str) -> str:
    if not fragment:
        return ""
    return fragment if fragment.startswith("/") else "/" + fragment
