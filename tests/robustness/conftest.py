"""The Dagster-layer fixtures (real test instance, ClickUp fake with the sandbox tasks, ClickUp
environment and definitions, and the store they write to), shared with tests/defs."""

from tests.defs.conftest import (
    clickup_defs,
    clickup_env,
    fake_clickup,
    instance,
    store_backend,
    store_env,
    store_location,
)

__all__ = [
    "clickup_defs",
    "clickup_env",
    "fake_clickup",
    "instance",
    "store_backend",
    "store_env",
    "store_location",
]
