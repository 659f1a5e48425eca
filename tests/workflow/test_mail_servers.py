"""The workflow against real mail servers: Dovecot (IMAP) and aiosmtpd (SMTP) on loopback.

Our SMTP sends are delivered into the influencer's Dovecot INBOX, the influencer answers over
SMTP into our INBOX, and advance_negotiations reads it over IMAP and answers in the thread.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import list_new_mail
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.workflow.mail_servers_support import advance, agent_mail, inbox, send_over_smtp
from tests.workflow.support import NOW, engine_config, flex_row, reply_to, stored_campaign

pytestmark = pytest.mark.mail


def test_conversation_over_imap_and_smtp(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, tmp_path: Path
) -> None:
    ours = agent_mail(dovecot_server, smtp_to_dovecot)
    agent, mailbox = ours.identity, ours.mailbox
    influencer_account = dovecot_server.add_user()
    influencer = influencer_account.user
    store = SQLiteStore(tmp_path / "negotiation.db")
    stored_campaign(store)
    thread_id = thread_id_for("cmp-1", influencer)

    opened = open_campaign_negotiations(
        store,
        "cmp-1",
        engine_config(),
        rows=[flex_row(email_=influencer)],
        sender=agent,
        now=NOW,
    )
    delivery = deliver_pending(store, mailbox)
    assert opened.opened == (thread_id,) and delivery.sent == 1
    (offer,) = inbox(influencer_account)
    assert "$1,000.00" in offer.get_content()
    (queued,) = store.outbox.for_thread(thread_id)
    assert str(offer["Message-ID"]).strip() == queued.message_id
    assert mailbox.already_sent(queued.message_id)  # filed in the agent's Sent folder

    answer = reply_to(offer, "Thanks! My rate for this would be $1,500.", sender=influencer)
    send_over_smtp(smtp_to_dovecot, influencer, answer, agent.address)
    batch = list_new_mail(store, mailbox, "imap", 100)
    assert len(batch.uids) == 1

    result = advance(store, ours, uids=batch.uids, uidvalidity=batch.uidvalidity)

    assert (result.processed, result.delivery.sent) == (1, 1)
    first, counter = inbox(influencer_account)
    answer_id = email.message_from_bytes(answer, policy=email.policy.default)["Message-ID"]
    assert str(counter["In-Reply-To"]).strip() == str(answer_id).strip()
    assert str(counter["Subject"]) == "Re: " + str(first["Subject"])
    assert "$1,040.00" in counter.get_content()
    stored = store.states.load(thread_id)
    assert stored is not None and stored.state is NegotiationState.COUNTER_SENT
    cursor = store.mail_cursors.get("imap")
    assert cursor is not None and cursor.uidvalidity == batch.uidvalidity
    assert cursor.last_uid == batch.uids[-1]

    again = advance(store, ours)
    assert (again.processed, again.duplicates, again.delivery.sent) == (0, 0, 0)
    assert len(inbox(influencer_account)) == 2  # nothing sent twice
