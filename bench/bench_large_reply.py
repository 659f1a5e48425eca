"""One 25 MB reply through advance_negotiations: time, peak memory, and what gets stored.

Run:  uv run python bench/bench_large_reply.py [--mb 25] [--kind plain|html|attachment]
      uv run python bench/bench_large_reply.py --unbounded     # the limits lifted, to compare

Setup (not timed): a SQLite store and the Maildir sandbox, one negotiation opened and its offer
sent, then a reply of the given size that answers it (plain text, HTML, or a short text with a
big attachment) dropped into the inbox. Timed, in a fresh process so its peak resident memory
is its own: ONE advance_negotiations run (fetch, parse, read, decide, store, send the answer).
Reported: seconds, peak RSS (VmHWM, Linux) and its growth over the RSS just before the run
(imports and config already loaded), the size of the stored
email_received audit row, the database size, and whether the text was cut.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bench._results import emit
from negotiation_pipeline.integrations.mail import MaildirMailbox, MessageLimits, SenderIdentity
from negotiation_pipeline.settings.engine import load_engine_config
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.workflow.support import flex_row, stored_campaign

AGENT = SenderIdentity("partnerships@agency.test", "Alex Morgan")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNBOUNDED = MessageLimits(max_body_chars=10**9, max_parts=10**6, max_raw_bytes=10**10)
LINE = "Thanks for the offer, the brief looks great and my audience would love it. "


def _prepare(root: Path, megabytes: int, kind: str) -> None:
    store = SQLiteStore(root / "negotiation.db")
    (root / "mail").mkdir()
    mailbox = MaildirMailbox(root / "mail", AGENT)
    stored_campaign(store)
    open_campaign_negotiations(
        store, "cmp-1", load_engine_config(), rows=[flex_row()], sender=AGENT, now=NOW
    )
    deliver_pending(store, mailbox, now=NOW)
    (offer_raw,) = mailbox.sent_messages()
    offer_id = offer_raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
    mailbox.append_to_inbox(_reply(offer_id, megabytes * 1024 * 1024, kind))
    store.close()


def _reply(offer_id: str, size: int, kind: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@gmail.com>"
    message["To"] = AGENT.address
    message["Subject"] = "Re: Paid partnership"
    message["Message-ID"] = "<big.reply.1@gmail.com>"
    message["In-Reply-To"] = offer_id
    message["References"] = offer_id
    opening = "My rate for this would be $1,500.\n\n"
    filler = (LINE + "\n") * (size // (len(LINE) + 1))
    if kind == "plain":
        message.set_content(opening + filler)
    elif kind == "html":
        message.set_content("<p>" + opening + "</p>" + filler.replace("\n", "<br>\n"), "html")
    else:
        message.set_content(opening)
        message.add_attachment(b"\x00" * size, maintype="application", subtype="pdf")
    return message.as_bytes()


def _measure(root: str, unbounded: bool, out: Any) -> None:
    """In a fresh process: one advance run, then its time and peak memory."""
    limits = UNBOUNDED if unbounded else MessageLimits()
    store = SQLiteStore(Path(root) / "negotiation.db")
    mailbox = MaildirMailbox(Path(root) / "mail", AGENT, limits)
    config = load_engine_config()
    baseline_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    result = advance_negotiations(
        store, mailbox, config, mailbox_name="bench", agent_addresses=[AGENT.address], now=NOW
    )
    seconds = time.perf_counter() - started
    peak_kb = _status_kb("VmHWM")  # this process's own peak (getrusage keeps the parent's)
    store.close()
    out.send(
        {
            "seconds": seconds,
            "peak_rss_mb": peak_kb / 1024,
            "rss_growth_mb": (peak_kb - baseline_kb) / 1024,
            "processed": result.processed,
            "answers_sent": result.delivery.sent,
        }
    )


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in KB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _stored(root: Path) -> dict[str, Any]:
    with sqlite3.connect(root / "negotiation.db") as conn:
        body, metadata = conn.execute(
            "SELECT email_body, metadata FROM audit_log WHERE event_type = 'email_received'"
        ).fetchone()
    return {
        "audit_row_kb": (len((body or "").encode()) + len((metadata or "").encode())) / 1024,
        "body_chars": len(body or ""),
        "cut": "[message cut:" in (body or ""),
        "db_mb": sum(p.stat().st_size for p in root.glob("negotiation.db*")) / 1024 / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=25)
    parser.add_argument("--kind", choices=("plain", "html", "attachment"), default="plain")
    parser.add_argument("--unbounded", action="store_true", help="lift the limits (compare)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-large-reply-") as folder:
        root = Path(folder)
        _prepare(root, args.mb, args.kind)
        receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
        child = multiprocessing.get_context("spawn").Process(
            target=_measure, args=(folder, args.unbounded, send)
        )
        child.start()
        measured = receive.recv()
        child.join()
        measured.update(_stored(root))
    label = f"{args.mb} MB {args.kind} reply" + (" (unbounded)" if args.unbounded else "")
    print(f"{label}: {json.dumps(measured)}")
    emit(f"{label}: advance run", measured["seconds"], "s")
    emit(f"{label}: peak RSS growth", measured["rss_growth_mb"], "MB")
    emit(f"{label}: stored audit row", measured["audit_row_kb"], "KB")


if __name__ == "__main__":
    main()
