"""Opening offers: one negotiation + one queued email per influencer, never twice."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, OutboxStatus, SQLiteStore
from negotiation_pipeline.workflow.events import Escalated, FinalState, NegotiationsStarted
from negotiation_pipeline.workflow.opening import (
    CampaignNotReadyError,
    flexibility_rows_from_records,
    open_campaign_negotiations,
)
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation, thread_id_for
from tests.domain.negotiation.engine_support import make_campaign
from tests.workflow.support import (
    AGENT,
    NOW,
    crowd,
    engine_config,
    flex_row,
    sent_by_recipient,
    stored_campaign,
)


def _open(store: SQLiteStore, rows: list, campaign_id: str = "cmp-1"):
    return open_campaign_negotiations(
        store, campaign_id, engine_config(), rows=rows, sender=AGENT, now=NOW
    )


def test_opens_one_negotiation_and_one_email_per_influencer(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    campaign = stored_campaign(store)
    rows = crowd(3)
    result = _open(store, rows)

    assert len(result.opened) == 3 and result.already_open == 0 and result.escalated == 0
    assert result.events[0] == NegotiationsStarted(
        "cmp-1", campaign.client_name, 3, result.opened, listed=3, found=3
    )
    for row in rows:
        stored = store.states.load(thread_id_for("cmp-1", row.email))
        assert stored is not None
        assert stored.state is NegotiationState.AWAITING_REPLY
        assert stored.influencer_email == row.email
        negotiation = load_negotiation(stored)
        assert negotiation.our_last_offer == Decimal("1000.00")
        assert negotiation.terms.ceiling_rate == Decimal("1620.00")
    pending = store.outbox.pending()
    assert len(pending) == 3
    assert all(e.message_id.endswith("@agency.test>") and "$1,000.00" in e.body for e in pending)
    assert len(store.audit.query(AuditQuery(event_type=EventType.CAMPAIGN_START))) == 1
    assert len(store.audit.query(AuditQuery(event_type=EventType.STATE_TRANSITION))) == 3

    delivery = deliver_pending(store, mailbox)
    assert (delivery.sent, delivery.already_sent, delivery.failed) == (3, 0, ())
    assert sorted(sent_by_recipient(mailbox)) == sorted(r.email for r in rows)
    assert store.outbox.pending() == []
    assert len(store.audit.query(AuditQuery(event_type=EventType.EMAIL_SENT))) == 3


def test_rerun_never_emails_twice(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    stored_campaign(store)
    first = _open(store, crowd(2))
    deliver_pending(store, mailbox)
    # Same table plus one new influencer (a late roster addition): only the new one is opened.
    second = _open(store, [*crowd(2), flex_row("Late Comer", "late@gmail.com")])
    third = _open(store, [*crowd(2), flex_row("Late Comer", "late@gmail.com")])
    deliver_pending(store, mailbox)

    assert len(first.opened) == 2
    assert second.opened == (thread_id_for("cmp-1", "late@gmail.com"),)
    assert second.already_open == 2
    assert third.opened == () and third.already_open == 3 and third.events == ()
    sent = sent_by_recipient(mailbox)
    assert {address: len(emails) for address, emails in sent.items()} == {
        "creator0@gmail.com": 1,
        "creator1@gmail.com": 1,
        "late@gmail.com": 1,
    }
    assert len(store.audit.query(AuditQuery(event_type=EventType.CAMPAIGN_START))) == 1


def test_same_email_twice_in_the_table_opens_once(store: SQLiteStore) -> None:
    stored_campaign(store)
    result = _open(store, [flex_row(), flex_row(name="Jane D.", email_="JANE@gmail.com ")])
    assert len(result.opened) == 1 and result.already_open == 1
    assert len(store.outbox.pending()) == 1


def test_infeasible_price_escalates_without_email(store: SQLiteStore) -> None:
    # Minimum cost $5,000 is above this creator's $1,620 ceiling: no offer can be made.
    campaign = make_campaign(
        budget_constraints={"min_cost": "5000", "max_cost_without_approval": "9000"}
    )
    stored_campaign(store, campaign)
    result = _open(store, [flex_row()])

    assert result.escalated == 1 and len(result.opened) == 1
    escalations = [e for e in result.events if isinstance(e, Escalated)]
    assert escalations[0].reason == "no_feasible_price"
    assert (
        FinalState(result.opened[0], "cmp-1", "Jane Doe", NegotiationState.ESCALATED)
        in result.events
    )
    assert store.outbox.pending() == []
    stored = store.states.load(result.opened[0])
    assert stored is not None and stored.state is NegotiationState.ESCALATED
    assert len(store.audit.query(AuditQuery(event_type=EventType.ESCALATION))) == 1


def test_unusable_row_is_audited_and_skipped(store: SQLiteStore) -> None:
    stored_campaign(store)
    bad = flex_row(name="No Address", email_="not-an-address")
    result = _open(store, [bad, flex_row()])
    assert len(result.opened) == 1
    assert result.skipped[0][0] == "not-an-address" and "not an address" in result.skipped[0][1]
    skips = store.audit.query(AuditQuery(event_type=EventType.CAMPAIGN_INFLUENCER_SKIP))
    assert skips[0].metadata is not None and skips[0].metadata["email"] == "not-an-address"


def test_unknown_or_invalid_campaign_is_a_clear_error(store: SQLiteStore) -> None:
    with pytest.raises(CampaignNotReadyError, match="not in the store"):
        _open(store, [flex_row()], campaign_id="nope")
    store.campaigns.upsert("raw-only", client_name="Acme", status="invalid")
    with pytest.raises(CampaignNotReadyError, match="has not validated"):
        _open(store, [flex_row()], campaign_id="raw-only")


def test_rows_from_a_cpm_flexibility_frame_keep_decimals() -> None:
    row = flex_row(engagement=None)
    frame = pd.DataFrame.from_records([row.as_record()]).astype(
        {"opening_rate": object, "ceiling_rate": object}
    )
    (back,) = flexibility_rows_from_records(frame.to_dict("records"))
    assert back == row
    assert isinstance(back.ceiling_rate, Decimal) and isinstance(back.average_views, int)


def test_thread_ids_are_deterministic_and_distinct() -> None:
    assert thread_id_for("c", "A.B@x.com") == thread_id_for("c", " a.b@X.com")
    assert thread_id_for("c", "a.b@x.com") != thread_id_for("c", "a-b@x.com")
    assert "@" not in thread_id_for("c", "a.b@x.com")


def test_outbox_status_after_delivery(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    stored_campaign(store)
    (thread,) = _open(store, [flex_row()]).opened
    deliver_pending(store, mailbox)
    (email,) = store.outbox.for_thread(thread)
    assert email.status is OutboxStatus.SENT and email.sent_at is not None


def test_the_start_counts_listed_found_and_skipped_influencers(store: SQLiteStore) -> None:
    """Six listed: four in the roster (one of them without a usable address), two the roster join
    left out. A stale skip of a name that is now found, and a repeated one, count once or not."""
    rows = crowd(3)
    listed = [row.name for row in rows] + ["not-an-address", "@nobody.here", "Ghost Doe"]
    stored_campaign(store, make_campaign(influencers=listed))
    store.audit.insert_many(
        AuditEntry(
            event_type=EventType.CAMPAIGN_INFLUENCER_SKIP,
            campaign_id="cmp-1",
            influencer_name=identifier,
            metadata={"reason": reason},
        )
        for identifier, reason in [
            (rows[0].name, "not found in the roster"),  # an earlier roster: found now
            ("@nobody.here", "not found in the roster"),
            ("Ghost Doe", "in the roster only on tiktok, but the campaign is on instagram"),
            ("@nobody.here", "not found in the roster"),  # the join ran twice
            ("Someone Else", "not found in the roster"),  # no longer listed
        ]
    )
    unusable = flex_row("Bad Address", "not-an-address")

    result = _open(store, [*rows, unusable])

    started = result.events[0]
    assert isinstance(started, NegotiationsStarted)
    assert (started.listed, started.found, started.influencer_count) == (6, 3, 3)
    assert sorted(started.skipped) == sorted(
        [
            "@nobody.here: not found in the roster",
            "Ghost Doe: in the roster only on tiktok, but the campaign is on instagram",
            f"not-an-address: {result.skipped[0][1]}",
        ]
    )
    [message] = [n for n in store.notifications.with_status("pending") if "started" in n.text]
    assert message.text == (
        "Campaign started: Glow Labs (task cmp-1), instagram: 6 influencers listed, 3 found, "
        "3 skipped, 3 negotiations opened"
    )
