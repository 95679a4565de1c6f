"""Read one side of a diff: a JSON or YAML file, or `git:REV:PATH` read through `git show`.

Parsing is the kit's own (`mock_server.contract.parse_document`): the extension of the path
chooses JSON or YAML; a name with neither extension is read as JSON when it starts with `{`,
as YAML otherwise. Documents are capped in bytes and git is given a timeout.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from mock_server.contract import parse_document
from mock_server.errors import ContractError

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
GIT_TIMEOUT = 30.0
GIT_PREFIX = "git:"


def read_document(
    spec: str,
    *,
    cwd: str | Path | None = None,
    timeout: float = GIT_TIMEOUT,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> tuple[dict[str, Any], str]:
    """The parsed document named by `spec`, and the label to show for it."""
    if spec.startswith(GIT_PREFIX):
        rev, _, path = spec[len(GIT_PREFIX) :].partition(":")
        if not rev or not path:
            raise ContractError(spec, "expected git:REV:PATH, e.g. git:origin/main:spec/api-v2.json")
        data = _git_show(spec, rev, path, cwd=cwd, timeout=timeout, max_bytes=max_bytes)
        name = path
    else:
        file = Path(cwd or ".") / spec
        data = _read_file(spec, file, max_bytes)
        name = spec
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractError(spec, "not UTF-8 text") from None
    return parse(text, name, label=spec), spec


def parse(text: str, name: str, *, label: str) -> dict[str, Any]:
    if not name.lower().endswith((".json", ".yaml", ".yml")):
        name = "document.json" if text.lstrip().startswith("{") else "document.yaml"
    elif name.lower() != name:
        name = name.lower()
    try:
        return parse_document(text, name)
    except ContractError as exc:  # name the side as the user wrote it
        raise ContractError(label, exc.message, pointer=exc.pointer) from None


def _read_file(spec: str, file: Path, max_bytes: int) -> bytes:
    try:
        size = file.stat().st_size
        if file.is_dir():
            raise ContractError(spec, "is a directory, not an OpenAPI document")
        if size > max_bytes:
            raise ContractError(spec, f"larger than {max_bytes} bytes")
        with file.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ContractError(spec, "no such file") from None
    except OSError as exc:
        raise ContractError(spec, f"cannot read: {exc.strerror or exc}") from None


def _git_show(
    spec: str, rev: str, path: str, *, cwd: str | Path | None, timeout: float, max_bytes: int
) -> bytes:
    object_name = f"{rev}:{path}"
    size = _git(spec, ["cat-file", "-s", object_name], cwd=cwd, timeout=timeout).strip()
    if not size.isdigit():
        raise ContractError(spec, f"git cat-file gave {size[:40]!r} for the size")
    if int(size) > max_bytes:
        raise ContractError(spec, f"larger than {max_bytes} bytes")
    data: bytes = _git(spec, ["show", object_name], cwd=cwd, timeout=timeout, text=False)
    return data


def _git(spec: str, args: list[str], *, cwd: str | Path | None, timeout: float, text: bool = True) -> Any:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ContractError(spec, "git is not installed (needed for git:REV:PATH)") from None
    except subprocess.TimeoutExpired:
        raise ContractError(spec, f"git did not answer within {timeout:g} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise ContractError(spec, f"git {args[0]} failed: {reason}")
    return done.stdout.decode("utf-8", "replace") if text else done.stdout
