"""Pure business logic: no Dagster, no I/O. Everything here is deterministic and testable alone."""
