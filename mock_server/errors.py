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


@dataclass(frozen=True)
class DocumentWarning:
    pointer: str
    message: str

    def line(self, source: str) -> str:
        return f"{source} at {self.pointer or '/'}: {self.message}"
