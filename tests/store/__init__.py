"""Tests for negotiation_pipeline.store (real SQLite files in tmp_path)."""
