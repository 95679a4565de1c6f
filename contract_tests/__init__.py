"""The contract suite: the live check (`meibel-contract`, `pytest contract_tests`) and the document diff."""

from __future__ import annotations

from mock_server import MovedModules, _install

# Modules that moved in 0.3.0 (the document diff into diff/, the run's outputs into reports/): old
# name → new name. The old names keep importing, with a DeprecationWarning; they go in 0.4.0.
MOVED = {
    "diff_cli": "diff.cli",
    "diff_findings": "diff.findings",
    "diff_lifecycle": "diff.lifecycle",
    "diff_operation": "diff.operation",
    "diff_report": "diff.report",
    "diff_resolve": "diff.resolve",
    "diff_security": "diff.security",
    "diff_source": "diff.source",
    "diff_unchanged": "diff.unchanged",
    "diff_schema": "diff.schemas.compare",
    "diff_change": "diff.schemas.change",
    "diff_keywords": "diff.schemas.keywords",
    "diff_object": "diff.schemas.objects",
    "diff_pattern": "diff.schemas.pattern",
    "diff_variants": "diff.schemas.variants",
    "report": "reports.summary",
    "report_md": "reports.markdown",
    "har": "reports.har",
    "reproduce": "reports.reproduce",
}

_install(MovedModules(__name__, MOVED))
