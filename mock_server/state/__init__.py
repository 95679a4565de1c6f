"""What the mock remembers between requests: the journal, queued behaviours, latency and faults,
and the state `--workers N` processes share."""
