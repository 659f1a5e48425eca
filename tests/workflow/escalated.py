"""An escalated negotiation on a real SQLite store and Maildir, for the resolution tests."""

from __future__ import annotations

from email.message import EmailMessage

from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import NegotiationStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
    stored_campaign,
)

JANE = "jane@gmail.com"
JANE_THREAD = thread_id_for("cmp-1", JANE)
AGENT_ADDRESSES = [f"Alex Morgan <{AGENT.address}>"]


def last_sent(mailbox: MaildirMailbox, address: str = JANE) -> EmailMessage:
    return sent_by_recipient(mailbox)[address][-1]


def advance(store: NegotiationStore, mailbox: MaildirMailbox) -> None:
    advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=AGENT_ADDRESSES,
        now=NOW,
    )


def escalate_jane(store: NegotiationStore, mailbox: MaildirMailbox, ask: str = "$9,000") -> None:
    """Jane gets the opening offer, then asks above the campaign's approval limit ($5,000)."""
    stored_campaign(store)
    rows = [flex_row(), flex_row("Sam Lee", "sam@gmail.com")]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=AGENT, now=NOW)
    deliver_pending(store, mailbox)
    mailbox.append_to_inbox(
        reply_to(last_sent(mailbox), f"My rate is {ask} for this.", message_id="<ask@gmail.com>")
    )
    advance(store, mailbox)
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.ESCALATED
