"""Contract tests: root conftest."""
