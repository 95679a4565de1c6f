"""The `meibel-contract` command: `diff` goes to the document diff before anything else is imported.

The live check (`contract_tests.cli`) imports the suite's preflight, the mock and httpx; a diff needs
none of them, and a CI step running it on every push should not wait for them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        from mock_server import __version__  # the package alone: no app, no engine

        print(f"meibel-contract {__version__}")
        return 0
    if args[:1] == ["diff"]:
        from contract_tests.diff.cli import main as diff

        return diff(args[1:])
    from contract_tests.cli import main as live

    return live(argv)


if __name__ == "__main__":
    sys.exit(main())
