"""The Dagster-layer fixtures (real test instance, ClickUp fake with the sandbox tasks, ClickUp
environment and definitions), shared with tests/defs."""

from tests.defs.conftest import clickup_defs, clickup_env, fake_clickup, instance

__all__ = ["clickup_defs", "clickup_env", "fake_clickup", "instance"]
