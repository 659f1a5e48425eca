"""Approval modes over a real SQLite store and Maildir: in `review_every_email` every email the
agent writes waits as a draft, in `approve_agreements` only the agreement does; a waiting draft
is never sent (not by any delivery, not by a fresh process on the same files) until
`send_draft` approves it, which sends it exactly once; counter and decline replace it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from negotiation_pipeline.domain.enums import ApprovalMode, EventType, NegotiationState
from negotiation_pipeline.domain.negotiation.held import DraftPurpose
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import NegotiationStore
from negotiation_pipeline.store.audit_filters import AuditQuery
from negotiation_pipeline.workflow.escalations import format_drafts, list_drafts
from negotiation_pipeline.workflow.followups import run_followups
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation
from negotiation_pipeline.workflow.resolution import (
    ResolutionRequest,
    ResolutionResult,
    ResolveAction,
    deliver_resolution,
    resolve,
)
from tests.domain.negotiation.engine_support import make_campaign
from tests.store.conftest import StoreLocation
from tests.workflow.escalated import AGENT_ADDRESSES, JANE, JANE_THREAD, advance, last_sent
from tests.workflow.support import (
    AGENT,
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
    sent_message_ids,
    stored_campaign,
)

ROOT = Path(__file__).resolve().parents[2]


def _open(store: NegotiationStore, mode: ApprovalMode | None, *, sam: bool = False) -> None:
    stored_campaign(store, make_campaign(approval_mode=mode))
    rows = [flex_row(), *([flex_row("Sam Lee", "sam@gmail.com")] if sam else [])]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=AGENT, now=NOW)


def _send_draft(
    store: NegotiationStore, target: str = JANE_THREAD, **kw: object
) -> ResolutionResult:
    request = ResolutionRequest(target=target, action=ResolveAction.SEND_DRAFT, **kw)  # type: ignore[arg-type]
    return resolve(
        store,
        request,
        config=engine_config(),
        actor="cli:reviewer",
        agent_addresses=AGENT_ADDRESSES,
        now=NOW + timedelta(minutes=5),
    )


def _resolve(store: NegotiationStore, action: ResolveAction, **kw: object) -> ResolutionResult:
    request = ResolutionRequest(target=JANE_THREAD, action=action, **kw)  # type: ignore[arg-type]
    return resolve(
        store,
        request,
        config=engine_config(),
        actor="cli:reviewer",
        agent_addresses=AGENT_ADDRESSES,
        now=NOW,
    )


def _state(store: NegotiationStore, thread_id: str = JANE_THREAD) -> NegotiationState:
    stored = store.states.load(thread_id)
    assert stored is not None
    return stored.state


def _sent_count(mailbox: MaildirMailbox) -> int:
    return sum(len(v) for v in sent_by_recipient(mailbox).values())


def _slack_texts(store: NegotiationStore) -> list[str]:
    found = store.notifications.deliverable(datetime.now(UTC) + timedelta(days=3650))
    return [n.text + json.dumps(n.blocks) for n in found]


def test_review_mode_holds_every_opening_and_posts_one_slack_message_each(
    store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _open(store, ApprovalMode.REVIEW_EVERY_EMAIL, sam=True)
    delivery = deliver_pending(store, mailbox)
    assert _sent_count(mailbox) == 0 and delivery.sent == 0
    assert store.outbox.for_thread(JANE_THREAD) == []  # nothing queued that a run could send
    negotiation = load_negotiation(store.states.load(JANE_THREAD))  # type: ignore[arg-type]
    assert (
        negotiation.state is NegotiationState.INITIAL_OFFER and negotiation.our_last_offer is None
    )
    assert negotiation.held is not None and negotiation.held.purpose is DraftPurpose.APPROVAL
    drafts = list_drafts(store)
    assert [d.influencer for d in drafts] == ["Jane Doe", "Sam Lee"]
    jane = drafts[0].to_dict()
    assert jane["status"] == "awaiting_approval" and jane["draft"]["kind"] == "opening_offer"
    assert jane["draft"]["amount"] == "1000.00" and jane["client_name"] == "Glow Labs"
    assert "awaiting_approval" in format_drafts(drafts)
    draft_alerts = [t for t in _slack_texts(store) if "Draft awaiting approval" in t]
    assert len(draft_alerts) == 2
    assert any(f"control send-draft {JANE_THREAD}" in t for t in draft_alerts)
    assert all("control decline" in t for t in draft_alerts)
    audit = store.audit.query(
        AuditQuery(thread_id=JANE_THREAD, event_type=EventType.STATE_TRANSITION)
    )
    metadata = audit[0].metadata or {}
    assert metadata["approval"] == "awaiting_approval" and metadata["queued_message_id"] is None


def test_send_draft_sends_the_held_opening_exactly_once(
    tmp_path: Path, store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _open(store, ApprovalMode.REVIEW_EVERY_EMAIL)
    result = _send_draft(store)
    assert result.state_before == "initial_offer" and result.state_after == "awaiting_reply"
    assert deliver_resolution(store, mailbox, result, now=NOW) == "sent"
    again = _send_draft(store)
    assert again.repeated and again.message_id == result.message_id
    deliver_pending(store, mailbox)
    counts = sent_message_ids(tmp_path / "mail")
    assert list(counts.values()) == [1] and result.message_id in counts
    negotiation = load_negotiation(store.states.load(JANE_THREAD))  # type: ignore[arg-type]
    assert negotiation.held is None and negotiation.our_last_offer == Decimal("1000.00")
    assert negotiation.offers == (Decimal("1000.00"),)
    assert list_drafts(store) == []


_CHILD = """
import json, sys
from datetime import timedelta
from pathlib import Path
from negotiation_pipeline.workflow.followups import run_followups
from negotiation_pipeline.workflow.outbox import deliver_pending
from tests.workflow.escalated import advance
from tests.store.conftest import StoreLocation
from tests.workflow.support import AGENT, NOW, engine_config, open_mailbox
store = StoreLocation(**json.loads(sys.argv[1])).open(create=False)
mailbox = open_mailbox(Path(sys.argv[2]))
delivered = deliver_pending(store, mailbox)
advance(store, mailbox)
late = run_followups(store, mailbox, engine_config(), sender=AGENT, now=NOW + timedelta(days=30))
print(json.dumps({"sent": delivered.sent + late.delivery.sent,
                  "sent_files": len(mailbox.sent_messages())}))
"""


def test_a_fresh_process_on_the_same_store_never_sends_an_unapproved_draft(
    tmp_path: Path, store_location: StoreLocation, store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _open(store, ApprovalMode.REVIEW_EVERY_EMAIL)
    store.close()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(asdict(store_location)), str(tmp_path / "mail")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout.strip().splitlines()[-1]) == {"sent": 0, "sent_files": 0}
    reopened = store_location.open(create=False)
    try:
        assert _state(reopened) is NegotiationState.INITIAL_OFFER  # not stale, not followed up
        (draft,) = list_drafts(reopened)
        assert draft.draft_kind == "opening_offer"
    finally:
        reopened.close()


def _approved_opening(store: NegotiationStore, mailbox: MaildirMailbox) -> None:
    _open(store, ApprovalMode.REVIEW_EVERY_EMAIL)
    deliver_resolution(store, mailbox, _send_draft(store), now=NOW)


def test_review_mode_holds_the_counter_until_approved_then_sends_it_threaded(
    tmp_path: Path, store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _approved_opening(store, mailbox)
    opening = last_sent(mailbox)
    mailbox.append_to_inbox(
        reply_to(opening, "My rate is $2,400 for this.", message_id="<ask1@gmail.com>")
    )
    advance(store, mailbox)
    assert _sent_count(mailbox) == 1  # only the approved opening
    negotiation = load_negotiation(store.states.load(JANE_THREAD))  # type: ignore[arg-type]
    assert negotiation.state is NegotiationState.COUNTER_RECEIVED and negotiation.round_count == 0
    assert negotiation.their_last_ask == Decimal("2400.00")
    assert negotiation.our_last_offer == Decimal("1000.00")  # the counter has not happened
    (draft,) = list_drafts(store)
    assert draft.draft_kind in ("counter_offer", "lever_offer")
    assert draft.draft_subject == "Re: " + str(opening["Subject"])
    # A second reply while the answer waits is recorded, not answered.
    mailbox.append_to_inbox(reply_to(opening, "Any news?", message_id="<ask2@gmail.com>"))
    advance(store, mailbox)
    assert _sent_count(mailbox) == 1 and len(list_drafts(store)) == 1
    row = store.inbound.get("<ask2@gmail.com>")
    assert row is not None and row.status.value == "skipped"
    assert "awaits approval" in (row.detail or "")
    assert draft.draft_body is not None
    edited = draft.draft_body.rstrip() + "\n\nP.S. Happy to jump on a quick call this week.\n"
    result = _send_draft(store, text=edited)
    assert result.state_after == "counter_sent"
    assert deliver_resolution(store, mailbox, result, now=NOW) == "sent"
    counter = last_sent(mailbox)
    assert str(counter["In-Reply-To"]).strip() == "<ask1@gmail.com>"
    sent_text = counter.get_content().replace("\r\n", "\n").strip()
    assert sent_text == edited.strip() and "P.S. Happy to jump" in sent_text
    after = load_negotiation(store.states.load(JANE_THREAD))  # type: ignore[arg-type]
    assert after.round_count == 1 and after.our_last_offer == Decimal(str(draft.draft_amount))
    assert list(sent_message_ids(tmp_path / "mail").values()) == [1, 1]


def test_approve_agreements_holds_only_the_agreement(
    store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _open(store, ApprovalMode.APPROVE_AGREEMENTS)
    deliver_pending(store, mailbox)
    assert _sent_count(mailbox) == 1  # the opening went out by itself
    mailbox.append_to_inbox(
        reply_to(last_sent(mailbox), "My rate is $2,400.", message_id="<a1@gmail.com>")
    )
    advance(store, mailbox)
    assert _sent_count(mailbox) == 2 and list_drafts(store) == []  # the counter too
    assert _state(store) is NegotiationState.COUNTER_SENT
    offer = load_negotiation(store.states.load(JANE_THREAD)).our_last_offer  # type: ignore[arg-type]
    assert offer is not None
    mailbox.append_to_inbox(
        reply_to(last_sent(mailbox), f"Deal, {offer} works for me.", message_id="<a2@gmail.com>")
    )
    advance(store, mailbox)
    assert _sent_count(mailbox) == 2  # the agreement waits
    assert _state(store) is NegotiationState.COUNTER_RECEIVED
    assert store.agreements.for_campaign("cmp-1") == []
    (draft,) = list_drafts(store)
    assert draft.draft_kind == "agreement_confirmation" and draft.draft_amount == str(offer)
    result = _send_draft(store)
    assert result.state_after == "agreed"
    assert deliver_resolution(store, mailbox, result, now=NOW) == "sent"
    assert _sent_count(mailbox) == 3
    (agreement,) = store.agreements.for_campaign("cmp-1")
    assert agreement.rate == offer
    assert any("Deal agreed" in t for t in _slack_texts(store))


def test_follow_up_waits_once_and_a_reply_drops_it(
    store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _approved_opening(store, mailbox)
    config = engine_config()
    days = config.policy.follow_up.first_after_days + 1
    first = run_followups(store, mailbox, config, sender=AGENT, now=NOW + timedelta(days=days))
    assert first.awaiting_approval == (JANE_THREAD,) and first.followed_up == ()
    again = run_followups(store, mailbox, config, sender=AGENT, now=NOW + timedelta(days=days + 9))
    assert again.awaiting_approval == () and again.marked_stale == ()
    assert _sent_count(mailbox) == 1 and _state(store) is NegotiationState.AWAITING_REPLY
    (draft,) = list_drafts(store)
    assert draft.draft_kind == "follow_up"
    assert sum("Draft awaiting approval" in t for t in _slack_texts(store)) == 2  # opening + f/u
    mailbox.append_to_inbox(
        reply_to(last_sent(mailbox), "My rate is $2,400.", message_id="<late@gmail.com>")
    )
    advance(store, mailbox)
    (answer,) = list_drafts(store)  # the follow-up is gone; the answer to the reply waits
    assert answer.draft_kind in ("counter_offer", "lever_offer")
    assert _state(store) is NegotiationState.COUNTER_RECEIVED and _sent_count(mailbox) == 1


def test_decline_drops_a_held_opening_without_writing_to_anyone(
    store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _open(store, ApprovalMode.REVIEW_EVERY_EMAIL)
    result = _resolve(store, ResolveAction.DECLINE)
    assert result.state_after == "stopped" and result.message_id is None
    deliver_pending(store, mailbox)
    assert _sent_count(mailbox) == 0 and list_drafts(store) == []


def test_counter_replaces_a_held_opening_with_the_amount_given(
    store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    _open(store, ApprovalMode.REVIEW_EVERY_EMAIL)
    result = _resolve(store, ResolveAction.COUNTER, amount="1100")
    assert result.state_after == "awaiting_reply"
    assert deliver_resolution(store, mailbox, result, now=NOW) == "sent"
    (sent,) = sent_by_recipient(mailbox)[JANE]
    assert "$1,100" in sent.get_content()
    assert list_drafts(store) == []


def test_policy_default_applies_when_the_campaign_has_no_mode(
    store: NegotiationStore, mailbox: MaildirMailbox
) -> None:
    policy = engine_config().policy.model_copy(
        update={"approval_mode": ApprovalMode.REVIEW_EVERY_EMAIL}
    )
    config = engine_config().__class__(
        policy=policy,
        triggers=engine_config().triggers,
        templates=engine_config().templates,
        vocabulary=engine_config().vocabulary,
    )
    stored_campaign(store, make_campaign())
    open_campaign_negotiations(store, "cmp-1", config, rows=[flex_row()], sender=AGENT, now=NOW)
    deliver_pending(store, mailbox)
    assert _sent_count(mailbox) == 0 and len(list_drafts(store)) == 1
    # The shipped default is autonomous: the same campaign opens and sends by itself.
    assert engine_config().policy.approval_mode is ApprovalMode.AUTONOMOUS
