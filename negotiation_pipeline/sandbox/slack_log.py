"""The sandbox SlackNotifier: each message appended to a JSONL file and logged; no network.

It is delivered through the same notification outbox as real Slack, so the sandbox shows
exactly the messages (and the once-only delivery) production would."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from negotiation_pipeline.integrations.resilience import Deadline
from negotiation_pipeline.integrations.slack.blocks import SlackMessage

_default_logger = logging.getLogger("negotiation_pipeline.slack.sandbox")


class LogSlack:
    def __init__(self, jsonl_path: Path | str, logger: logging.Logger | None = None) -> None:
        self.path = Path(jsonl_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._logger = logger or _default_logger
        self._lock = threading.Lock()

    def post(self, message: SlackMessage, *, deadline: Deadline | None = None) -> None:
        record = {
            "posted_at": datetime.now(UTC).isoformat(),
            "channel": message.channel.value,
            "text": message.text,
            "blocks": list(message.blocks),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)  # one write per line: concurrent appenders do not interleave
            handle.flush()
            os.fsync(handle.fileno())
        self._logger.info("slack[%s] %s", message.channel.value, message.text)

    def read_all(self) -> list[dict[str, object]]:
        """Every message posted so far (for tests and the simulator's summary)."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
