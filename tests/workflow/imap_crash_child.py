"""The process the IMAP+SMTP crash trials kill: one deliver_pending run over real servers.

Imported by the forkserver (test_crash_recovery_imap.py), so every child starts from a clean
single-threaded process that holds none of the test's sockets.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from negotiation_pipeline.integrations.mail import (
    ImapConfig,
    ImapReader,
    ImapSmtpMailbox,
    SenderIdentity,
    SmtpConfig,
    SmtpSender,
)
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.workflow.outbox import deliver_pending


@dataclass(frozen=True)
class DeliverySpec:
    db_path: str
    agent: str
    imap_port: int
    imap_password: str
    smtp_port: int
    result_path: str
    host: str = "127.0.0.1"


def mailbox_for(spec: DeliverySpec) -> ImapSmtpMailbox:
    imap = ImapConfig(
        host=spec.host,
        port=spec.imap_port,
        user=spec.agent,
        password=spec.imap_password,
        security="plain",
        timeout_seconds=10.0,
    )
    smtp = SmtpConfig(host=spec.host, port=spec.smtp_port, security="plain", timeout_seconds=10.0)
    return ImapSmtpMailbox(ImapReader(imap), SmtpSender(smtp, SenderIdentity(spec.agent)))


def run_delivery(spec: DeliverySpec) -> None:
    """One delivery run; its result as JSON (a killed child writes none)."""
    code = 0
    try:
        store = SQLiteStore(spec.db_path)
        result = deliver_pending(store, mailbox_for(spec))
        summary = {
            "sent": result.sent,
            "already_sent": result.already_sent,
            "retrying": len(result.retrying),
            "deferred": result.deferred,
            "failed": len(result.failed),
            "copies_unfiled": result.copies_unfiled,
        }
        Path(spec.result_path).write_text(json.dumps(summary))
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)
