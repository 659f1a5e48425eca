"""Delivery failures are classified, on real servers: Dovecot (the agent's IMAP, the influencers'
INBOXes) and aiosmtpd refusing what a test tells it to.

A 5xx (or an address no server can take) fails that email for good: its thread escalates once,
Slack hears once, the other emails and later runs go on. A 4xx is retried with backoff across
runs and given up after the configured attempts. SMTPUTF8 is used when the server offers it; a
non-ASCII address to a server without it is a permanent failure with a clear reason.
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.domain.negotiation.policy import DeliveryPolicy
from negotiation_pipeline.integrations.mail import (
    ImapReader,
    ImapSmtpMailbox,
    SenderIdentity,
    SmtpSender,
)
from negotiation_pipeline.store import AuditQuery, OutboxStatus, SQLiteStore, build_audit_query
from negotiation_pipeline.workflow.notify import clickup_comments_for, slack_messages_for
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.servers.dovecot import DovecotServer, ImapAccount
from tests.servers.smtp import SmtpServer, deliver_into, running_smtp
from tests.workflow.support import NOW, engine_config, flex_row, reply_to, stored_campaign

pytestmark = pytest.mark.mail

GHOST = "ghost@creators.test"


@dataclass
class Refusals:
    """What the SMTP server answers, per recipient, and how often it was asked."""

    rcpt: dict[str, list[str]] = field(default_factory=dict)  # address → answers, in turn
    asked: Counter[str] = field(default_factory=Counter)

    def __call__(self, stage: str, address: str) -> str | None:
        if stage != "RCPT":
            return None
        self.asked[address] += 1
        answers = self.rcpt.get(address)
        return answers.pop(0) if answers else None


@dataclass
class World:
    dovecot: DovecotServer
    smtp: SmtpServer
    refusals: Refusals
    agent: ImapAccount
    store: SQLiteStore

    def mailbox(self, **smtp_overrides: object) -> ImapSmtpMailbox:
        sender = SenderIdentity(self.agent.user, "Alex Morgan")
        smtp = SmtpSender(self.smtp.smtp_config(**smtp_overrides), sender)
        return ImapSmtpMailbox(ImapReader(self.agent.imap_config()), smtp)

    def open(self, *addresses: str) -> list[str]:
        rows = [flex_row(f"Creator {n} Smith", a) for n, a in enumerate(addresses)]
        sender = SenderIdentity(self.agent.user, "Alex Morgan")
        open_campaign_negotiations(
            self.store, "cmp-1", engine_config(), rows=rows, sender=sender, now=NOW
        )
        return [thread_id_for("cmp-1", a) for a in addresses]

    def deliver(self, at: datetime = NOW, retry: DeliveryPolicy | None = None) -> DeliveryResult:
        return deliver_pending(self.store, self.mailbox(), now=at, retry=retry)


def _world(
    dovecot: DovecotServer, tmp_path: Path, *, into_dovecot: bool = True, smtputf8: bool = False
) -> Iterator[World]:
    refusals = Refusals()
    deliver = deliver_into(dovecot) if into_dovecot else None
    with running_smtp(
        deliver, user=None, password=None, answer=refusals, smtputf8=smtputf8
    ) as smtp:
        store = SQLiteStore(tmp_path / "negotiation.db")
        stored_campaign(store)
        yield World(dovecot, smtp, refusals, dovecot.add_user(), store)
        store.close()


@pytest.fixture
def world(dovecot_server: DovecotServer, tmp_path: Path) -> Iterator[World]:
    yield from _world(dovecot_server, tmp_path)


def _inbox_ids(account: ImapAccount) -> list[str]:
    fetched = ImapReader(account.imap_config()).fetch_new(None, 100)
    return [m.parsed.message_id or "" for m in fetched.messages]


def test_a_550_fails_that_email_escalates_its_thread_once_and_the_rest_go_on(
    world: World,
) -> None:
    jane, sam = world.dovecot.add_user(), world.dovecot.add_user()
    world.refusals.rcpt[GHOST] = ["550 5.1.1 <ghost@creators.test>: no such user"] * 5
    jane_thread, ghost_thread, sam_thread = world.open(jane.user, GHOST, sam.user)

    first = world.deliver()

    assert (first.sent, len(first.failed), first.retrying, first.transport_error) == (
        2,
        1,
        (),
        None,
    )
    (ghost_email,) = world.store.outbox.for_thread(ghost_thread)
    assert ghost_email.status is OutboxStatus.FAILED
    assert ghost_email.last_error is not None and "550 5.1.1" in ghost_email.last_error
    assert f"SMTP 127.0.0.1:{world.smtp.port}" in ghost_email.last_error  # names the server
    ghost = world.store.states.load(ghost_thread)
    assert ghost is not None and ghost.state is NegotiationState.ESCALATED
    transition = world.store.audit.query(
        build_audit_query(thread_id=ghost_thread, event_type="state_transition")
    )[0]
    assert transition.metadata is not None and transition.metadata["source"] == "delivery"
    assert transition.metadata["transitions"] == [["awaiting_reply", "escalate", "escalated"]]
    (escalation,) = world.store.audit.query(
        build_audit_query(thread_id=ghost_thread, event_type="escalation")
    )
    assert escalation.metadata is not None and escalation.metadata["reason"] == "delivery_failed"
    (event,) = first.events
    assert (event.thread_id, event.escalated, event.to_addr) == (ghost_thread, True, GHOST)
    # Slack hears it as an escalation with the reason; ClickUp gets a comment.
    (alert,) = slack_messages_for(first.events)
    assert "could not be delivered" in alert.text or any(
        "could not be delivered" in str(block) for block in alert.blocks
    )
    assert clickup_comments_for(first.events) == [
        ("cmp-1", "Creator 1 Smith: our email could not be delivered; a human follows up.")
    ]
    assert len(_inbox_ids(jane)) == len(_inbox_ids(sam)) == 1

    # Later runs neither retry it nor tell Slack again, and other threads go on.
    again = world.deliver(NOW + timedelta(hours=1))
    assert (again.sent, again.failed, again.events) == (0, (), ())
    assert world.refusals.asked[GHOST] == 1
    (offer,) = ImapReader(jane.imap_config()).fetch_new(None, 10).messages
    answer = reply_to(_as_message(offer.raw), "My rate would be $1,500.", sender=jane.user)
    world.mailbox().append_to_inbox(answer)
    advanced = advance_negotiations(
        world.store,
        world.mailbox(),
        engine_config(),
        mailbox_name="imap",
        agent_addresses=[world.agent.user],
        now=NOW + timedelta(hours=1),
    )
    assert (advanced.processed, advanced.delivery.sent, advanced.delivery.failed) == (1, 1, ())
    assert len(_inbox_ids(jane)) == 2  # our counter reached Jane
    assert sam_thread != jane_thread


def _as_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_4xx_is_retried_with_backoff_across_runs_then_sent(world: World) -> None:
    jane, sam = world.dovecot.add_user(), world.dovecot.add_user()
    world.refusals.rcpt[jane.user] = ["451 4.7.1 greylisted, try again later"] * 2
    (jane_thread, _) = world.open(jane.user, sam.user)

    first = world.deliver(NOW)
    assert first.sent == 1 and [mid for mid, _ in first.retrying] == [
        e.message_id for e in world.store.outbox.for_thread(jane_thread)
    ]
    second = world.deliver(NOW)  # the first retry is the next run
    assert second.sent == 0 and len(second.retrying) == 1
    (row,) = world.store.outbox.for_thread(jane_thread)
    assert row.attempts == 2 and row.next_attempt_at == NOW + timedelta(minutes=5)

    early = world.deliver(NOW + timedelta(minutes=4))
    assert (early.sent, early.retrying) == (0, ())
    assert world.refusals.asked[jane.user] == 2  # not even tried before its time

    due = world.deliver(NOW + timedelta(minutes=5))
    assert due.sent == 1 and due.failed == ()
    assert len(_inbox_ids(jane)) == 1
    errors = world.store.audit.query(AuditQuery(thread_id=jane_thread, event_type=EventType.ERROR))
    assert sorted(e.metadata["attempt"] for e in errors if e.metadata) == [1, 2]
    (sent_audit,) = world.store.audit.query(
        build_audit_query(thread_id=jane_thread, event_type="email_sent")
    )
    assert sent_audit.metadata is not None and sent_audit.metadata["attempts_before"] == 2


def test_a_4xx_that_never_ends_is_given_up_after_the_configured_attempts(world: World) -> None:
    jane = world.dovecot.add_user()
    world.refusals.rcpt[jane.user] = ["452 4.2.2 mailbox full"] * 10
    (thread_id,) = world.open(jane.user)
    policy = DeliveryPolicy(max_attempts=3, retry_after_minutes=1)

    runs = [world.deliver(NOW + timedelta(minutes=m), policy) for m in (0, 0, 1, 2)]

    assert [len(r.retrying) for r in runs] == [1, 1, 0, 0]
    assert [len(r.failed) for r in runs] == [0, 0, 1, 0]
    (event,) = runs[2].events
    assert "452 4.2.2 mailbox full" in event.error and "gave up after 3 attempts" in event.error
    stored = world.store.states.load(thread_id)
    assert stored is not None and stored.state is NegotiationState.ESCALATED
    assert world.refusals.asked[jane.user] == 3


def test_an_unreachable_server_defers_the_run_and_names_it(world: World) -> None:
    jane, sam = world.dovecot.add_user(), world.dovecot.add_user()
    world.open(jane.user, sam.user)
    closed = world.mailbox(port=1)  # nothing listens on port 1 of the loopback

    down = deliver_pending(world.store, closed, now=NOW)

    assert down.transport_error is not None
    assert "SMTP 127.0.0.1:1: cannot connect" in down.transport_error
    assert (len(down.retrying), down.deferred, down.failed) == (1, 1, ())  # one try, not two
    back = world.deliver(NOW)
    assert back.sent == 2 and len(_inbox_ids(jane)) == len(_inbox_ids(sam)) == 1


@pytest.mark.parametrize("offered", [True, False], ids=["smtputf8", "no-smtputf8"])
def test_a_non_ascii_address_uses_smtputf8_or_fails_clearly(
    dovecot_server: DovecotServer, tmp_path: Path, offered: bool
) -> None:
    address = "josé.núñez@créateurs.test"
    # This recipient has no Dovecot mailbox: the server keeps what it accepted instead.
    for world in _world(dovecot_server, tmp_path, into_dovecot=False, smtputf8=offered):
        (thread_id,) = world.open(address)

        result = world.deliver()

        (row,) = world.store.outbox.for_thread(thread_id)
        if offered:
            assert result.failed == () and row.status is OutboxStatus.SENT
            (accepted,) = world.smtp.messages
            ascii_domain = "créateurs.test".encode("idna").decode()
            assert ascii_domain.startswith("xn--")
            assert accepted.rcpt_tos == (f"josé.núñez@{ascii_domain}",)
            assert address.encode() in accepted.raw  # the To header, in UTF-8
        else:
            assert world.smtp.messages == [] and row.status is OutboxStatus.FAILED
            (event,) = result.events
            assert "does not offer SMTPUTF8" in event.error and address in event.error
            stored = world.store.states.load(thread_id)
            assert stored is not None and stored.state is NegotiationState.ESCALATED
