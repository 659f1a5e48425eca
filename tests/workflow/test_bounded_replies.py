"""Bounded input end to end: a huge reply is read and stored bounded, its audit row holds one
copy of the body, and Dagster metadata previews stay small whatever a roster name holds."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from negotiation_pipeline.defs.campaigns.assets import _skips_markdown
from negotiation_pipeline.defs.campaigns.cpm_assets import flexibility_frame, flexibility_metadata
from negotiation_pipeline.defs.negotiations.assets import snapshot_metadata, snapshot_rows
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker
from negotiation_pipeline.domain.campaigns.roster import RosterSkip
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.workflow.opened_threads import open_threads
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
)

LINE = "Looking forward to working together on this, the brief is really clear. "
HUGE_NAME = "Jane " + "Q" * 100_000


def test_a_huge_reply_is_read_and_stored_once_bounded(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (thread_id,) = open_threads(store, mailbox=mailbox)
    (offer,) = sent_by_recipient(mailbox)["jane@gmail.com"]
    body = "My rate would be $1,500.\n\n" + (LINE + "\n") * 12_000  # ~ 880 KB of text
    mailbox.append_to_inbox(reply_to(offer, body))

    result = advance_negotiations(
        store, mailbox, engine_config(), mailbox_name=MAILBOX, agent_addresses=[AGENT.address],
        now=NOW,
    )  # fmt: skip

    assert (result.processed, result.delivery.sent) == (1, 1)  # read and answered
    (received,) = store.audit.query(
        AuditQuery(thread_id=thread_id, event_type=EventType.EMAIL_RECEIVED)
    )
    assert received.email_body is not None and received.metadata is not None
    assert received.email_body.endswith("the rest was not read]")
    assert 256 * 1024 <= len(received.email_body) < 256 * 1024 + 200
    stored_metadata = json.dumps(received.metadata)
    assert len(stored_metadata) < 6_000  # a preview of the new text, not a second body
    assert received.metadata["new_text"].startswith("My rate would be $1,500.")


def test_metadata_previews_are_capped_whatever_a_name_holds(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "n.db")
    open_threads(store, [flex_row(HUGE_NAME, "jane@gmail.com")])

    snapshot = snapshot_metadata(snapshot_rows(store, "cmp-1"))
    skips = _skips_markdown([RosterSkip(HUGE_NAME, "bad | row\n" * 5_000)] * 500)
    frame = flexibility_frame([flex_row(HUGE_NAME).as_record()])
    tracker = CampaignCPMTracker("cmp-1", frame["floor_cpm"][0], frame["max_allowed_cpm"][0], 1)
    flexibility = flexibility_metadata(frame, tracker)

    for text in (
        _markdown(snapshot["snapshot"]),
        skips,
        _markdown(flexibility["preview"]),
    ):
        assert len(text) < 30_000, len(text)  # 100 KB names, 500 rows: still a small event
        assert "more characters]" in text  # the cut is visible
    assert "… and 450 more" in skips


def _markdown(value: object) -> str:
    assert isinstance(value, dg.MarkdownMetadataValue)
    return value.md_str or ""
