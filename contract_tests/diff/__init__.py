"""meibel-contract diff: does a new version of an OpenAPI document break the clients of the old one?

The public names (`diff_documents`, `assert_no_breaking_changes`, `Lifecycle`, `Finding`,
`BreakingChangeError`) are importable from here, as they were from the module this package replaced.
"""

from contract_tests.diff.compare import (
    BreakingChangeError,
    Finding,
    Lifecycle,
    assert_no_breaking_changes,
    diff_documents,
)

__all__ = ["BreakingChangeError", "Finding", "Lifecycle", "assert_no_breaking_changes", "diff_documents"]
