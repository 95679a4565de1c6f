"""Load benchmark: the mock against a bare Starlette reference."""
