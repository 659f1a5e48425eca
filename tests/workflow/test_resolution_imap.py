"""Resolving an escalation over real mail servers (Dovecot IMAP, aiosmtpd SMTP on loopback): the
influencer's reply is read over IMAP, the human's counter leaves over SMTP once, threaded on her
email, even when the resolution is repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.resolution import (
    ResolutionRequest,
    ResolutionResult,
    ResolveAction,
    deliver_resolution,
    resolve,
)
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.workflow.mail_servers_support import advance, agent_mail, inbox, send_over_smtp
from tests.workflow.support import NOW, engine_config, flex_row, reply_to, stored_campaign

pytestmark = pytest.mark.mail


def test_a_human_counter_goes_out_once_over_smtp_threaded_on_her_reply(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, tmp_path: Path
) -> None:
    ours = agent_mail(dovecot_server, smtp_to_dovecot)
    agent, mailbox = ours.identity, ours.mailbox
    jane_account = dovecot_server.add_user()
    store = SQLiteStore(tmp_path / "negotiation.db")
    stored_campaign(store)
    rows = [flex_row("Jane Doe", jane_account.user)]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=agent, now=NOW)
    assert deliver_pending(store, mailbox).sent == 1
    [offer] = inbox(jane_account)

    # Jane answers over SMTP with an ask above the campaign's approval limit.
    ask = reply_to(
        offer,
        "My rate is $9,000 for this.",
        sender=f"Jane Doe <{jane_account.user}>",
        message_id="<jane-ask@mail.test>",
    )
    send_over_smtp(smtp_to_dovecot, jane_account.user, ask, agent.address)
    advanced = advance(store, ours)
    thread = thread_id_for("cmp-1", jane_account.user)
    stored = store.states.load(thread)
    assert stored is not None and stored.state is NegotiationState.ESCALATED, advanced

    request = ResolutionRequest(
        target=jane_account.user, action=ResolveAction.COUNTER, amount="1500", note="client ok"
    )

    def decide() -> ResolutionResult:
        return resolve(
            store,
            request,
            config=engine_config(),
            actor="cli:lead",
            agent_addresses=[agent.address],
            now=NOW,
        )

    first = decide()
    again = decide()  # the operator runs the same command again before it was sent
    assert deliver_resolution(store, mailbox, again, now=NOW) == "sent"
    assert deliver_resolution(store, mailbox, first, now=NOW) == "sent"

    received = inbox(jane_account)
    answers = [m for m in received if m["In-Reply-To"] == "<jane-ask@mail.test>"]
    assert len(answers) == 1, [m["Subject"] for m in received]
    body = answers[0].get_body(preferencelist=("plain",))
    assert body is not None and "$1,500" in body.get_content()
    stored = store.states.load(thread)
    assert stored is not None and stored.state is NegotiationState.COUNTER_SENT
    [transition] = store.audit.query(
        AuditQuery(thread_id=thread, event_type=EventType.STATE_TRANSITION, limit=1)
    )
    assert transition.metadata is not None and transition.metadata["actor"] == "cli:lead"
