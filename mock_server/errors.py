"""The kit's errors, one small tree.

    MockError                 base: every error the kit raises on purpose
     ├── ContractError        the OpenAPI document cannot be read, parsed or is not valid
     │                         (.source: the file, .pointer: a JSON pointer into it, or "")
     └── UsageError           a command-line value that makes no sense

User-facing code (the CLIs) catches `MockError` only and prints `str(error)`: one line.

A problem in a document that does not stop serving is not raised: it is a `DocumentWarning`,
returned with the loaded contract (the CLIs print one line each; `--strict` raises the first).
"""

from __future__ import annotations

from dataclasses import dataclass


class MockError(Exception):
    pass


class ContractError(MockError):
    def __init__(self, source: str, message: str, *, pointer: str = "") -> None:
        self.source = source
        self.message = message
        self.pointer = pointer
        # A pointer is made of the document's own keys: a line stays readable however deep it is.
        shown = pointer if len(pointer) <= 200 else f"{pointer[:120]}…{pointer[-60:]}"
        where = f"{source} at {shown}" if pointer else source
        super().__init__(f"{where}: {message}")


class UsageError(MockError):
    pass


def one_line(text: str, limit: int = 400) -> str:
    """The first line of a third-party message, whole when it fits. A longer one loses its middle,
    not its end: the echoed value (a schema, a pattern, part of the document) sits in the middle,
    and what is wrong with it comes last (`… is not a "regex"`)."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if len(line) <= limit:
        return line
    keep = (limit - 3) // 2
    return f"{line[:keep]} … {line[-keep:]}"


@dataclass(frozen=True)
class DocumentWarning:
    pointer: str
    message: str

    def line(self, source: str) -> str:
        return f"{source} at {self.pointer or '/'}: {self.message}"
