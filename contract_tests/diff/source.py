"""Read one side of a diff: a JSON or YAML file, or `git:REV:PATH` read from a git revision.

Documents are read with the mock's own loader (`mock_server.document.loader`), so the diff and the mock read
a document alike: lenient JSON/YAML, and `$ref`s to other files followed and bundled in, bounded in
files and bytes and confined to the document's folder. A name without a `.json`/`.yaml`/`.yml`
extension is read as JSON when it starts with `{`, as YAML otherwise.

For `git:REV:PATH` the document is read with `git show`; when it refers to other files, the JSON and
YAML files of its folder at that same revision are written to a temporary folder (bounded in count
and bytes) and the document is loaded from there, exactly as from a working tree.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from mock_server.document.loader import MAX_FILES, MAX_TOTAL_BYTES, parse_document
from mock_server.document.loader import read_document as load
from mock_server.errors import ContractError

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024  # the root document; with the files it refers to, the loader's limit
GIT_TIMEOUT = 30.0
GIT_PREFIX = "git:"
_DOCUMENT_FILES = (".json", ".yaml", ".yml")
# A `$ref` whose value does not start with `#` (JSON or YAML, quoted or not): the document refers to
# another file. A false alarm only costs reading the folder from git.
_EXTERNAL_REF = re.compile(r"""\$ref['"]?\s*:\s*['"]?(?!['"]?#)\S""")


def read_document(
    spec: str,
    *,
    cwd: str | Path | None = None,
    timeout: float = GIT_TIMEOUT,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> tuple[dict[str, Any], str]:
    """The parsed document named by `spec` (other files bundled in), and the label to show for it."""
    if spec.startswith(GIT_PREFIX):
        rev, _, path = spec[len(GIT_PREFIX) :].partition(":")
        if not rev or not path:
            raise ContractError(spec, "expected git:REV:PATH, e.g. git:origin/main:spec/api-v2.json")
        return _from_git(spec, rev, path, cwd=cwd, timeout=timeout, max_bytes=max_bytes), spec
    file = Path(cwd or ".") / spec
    _check_size(spec, file, max_bytes)
    return _load(spec, file), spec


def _load(label: str, file: Path, root: Path | None = None) -> dict[str, Any]:
    try:
        return load(file, warn=False).document  # the diff shows no warnings
    except ContractError as exc:  # name the side as the user wrote it, and another file as written
        message = exc.message
        if exc.source != str(file):
            other = exc.source.removeprefix(str(file) + ": ")
            if root is not None:
                other = other.replace(str(root.resolve()) + "/", "").replace(str(root) + "/", "")
            message = f"{other}: {message}"
        raise ContractError(label, message, pointer=exc.pointer) from None
    except RecursionError:
        raise ContractError(label, "nested too deeply to be read") from None


def parse(text: str, name: str, *, label: str) -> dict[str, Any]:
    """Text → a document (no other files): how a single-file `git:` side is read."""
    if not name.lower().endswith(_DOCUMENT_FILES):
        name = "document.json" if text.lstrip().startswith("{") else "document.yaml"
    elif name.lower() != name:
        name = name.lower()
    try:
        return parse_document(text, name)
    except ContractError as exc:
        raise ContractError(label, exc.message, pointer=exc.pointer) from None


def _check_size(spec: str, file: Path, max_bytes: int) -> None:
    try:
        if file.is_dir():
            raise ContractError(spec, "is a directory, not an OpenAPI document")
        if file.is_file() and file.stat().st_size > max_bytes:
            raise ContractError(spec, f"larger than {max_bytes} bytes")
    except OSError as exc:
        raise ContractError(spec, f"cannot read: {exc.strerror or exc}") from None


def _from_git(
    spec: str, rev: str, path: str, *, cwd: str | Path | None, timeout: float, max_bytes: int
) -> dict[str, Any]:
    data = _git_show(spec, rev, path, cwd=cwd, timeout=timeout, max_bytes=max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractError(spec, "not UTF-8 text") from None
    if not _EXTERNAL_REF.search(text):
        return parse(text, path, label=spec)
    import tempfile  # here: a plain diff of two files should not pay for it

    with tempfile.TemporaryDirectory(prefix="meibel-diff-") as tmp:
        root = Path(tmp)
        _checkout_folder(spec, rev, path, root, cwd=cwd, timeout=timeout)
        file = root / PurePosixPath(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        return _load(spec, file, root)


def _checkout_folder(
    spec: str, rev: str, path: str, root: Path, *, cwd: str | Path | None, timeout: float
) -> None:
    """Write the JSON/YAML files under the document's folder at `rev` into `root`, bounded."""
    folder = str(PurePosixPath(path).parent)
    where = [] if folder == "." else ["--", folder]  # a document at the root: the whole tree
    listing = _git(spec, ["ls-tree", "-r", "-l", "-z", "--full-tree", rev, *where], cwd=cwd, timeout=timeout)
    blobs: list[tuple[str, str]] = []
    total = 0
    for entry in listing.split("\0"):
        head, _, name = entry.partition("\t")
        fields = head.split()
        if len(fields) != 4 or fields[1] != "blob" or not name.lower().endswith(_DOCUMENT_FILES):
            continue
        total += int(fields[3]) if fields[3].isdigit() else 0
        blobs.append((fields[2], name))
        if len(blobs) > MAX_FILES or total > MAX_TOTAL_BYTES:
            raise ContractError(
                spec,
                f"its folder at {rev} holds more than {MAX_FILES} documents or "
                f"{MAX_TOTAL_BYTES // 2**20} MiB: too much to read for its $refs",
            )
    if not blobs:
        return
    request = "".join(f"{sha}\n" for sha, _ in blobs).encode()
    out: bytes = _git(spec, ["cat-file", "--batch"], cwd=cwd, timeout=timeout, text=False, stdin=request)
    at = 0
    for _, name in blobs:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        content = out[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
        target = root / PurePosixPath(name)
        if not target.resolve().is_relative_to(root.resolve()):  # git paths are relative; be sure
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


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


def _git(
    spec: str,
    args: list[str],
    *,
    cwd: str | Path | None,
    timeout: float,
    text: bool = True,
    stdin: bytes | None = None,
) -> Any:
    import subprocess  # here: only `git:` sides need it

    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ContractError(spec, "git is not installed (needed for git:REV:PATH)") from None
    except subprocess.TimeoutExpired:
        raise ContractError(spec, f"git did not answer within {timeout:g} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise ContractError(spec, f"git {args[0]} failed: {reason}")
    return done.stdout.decode("utf-8", "replace") if text else done.stdout
