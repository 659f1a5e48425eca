"""Adapters that talk to the outside world (ClickUp, mail, Slack, roster)."""
