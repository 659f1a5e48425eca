"""Slack integration: Block Kit message builders, webhook/bot clients and a JSONL sandbox."""
