"""Benchmark scripts (run each as `uv run python bench/<script>.py`) and their shared helpers."""
