"""The Slack message for an email the agent wrote that waits for a person's approval.

Built from the pieces in `messages.py`, so the same escaping, limits and redaction apply: the
draft, the subject and the names are outside data and go in as escaped text only.
"""

from __future__ import annotations

import shlex
from decimal import Decimal
from typing import Protocol

from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.integrations.slack.blocks import (
    SECTION_TEXT_MAX,
    Block,
    SlackChannel,
    SlackMessage,
    fields,
    header,
    link,
    message,
    quoted,
    section,
    thread_context,
)


class HeldDraftFacts(Protocol):
    """What the message shows of a held draft (the workflow's event has these fields)."""

    @property
    def thread_id(self) -> str: ...
    @property
    def campaign_id(self) -> str: ...
    @property
    def influencer_name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def amount(self) -> Decimal | None: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...


def approval_commands(thread_id: str) -> list[str]:
    """The exact commands that approve or replace a held draft (shell-quoted: a thread id is
    pasted into a shell)."""
    thread = shlex.quote(thread_id)
    return [
        f"negotiation-pipeline control send-draft {thread}",
        f"negotiation-pipeline control send-draft {thread} --edit FILE",
        f"negotiation-pipeline control counter {thread} AMOUNT",
        f"negotiation-pipeline control decline {thread}",
    ]


def draft_approval_alert(
    draft: HeldDraftFacts,
    influencer_email: str,
    client_name: str,
    launchpad_url: str | None = None,
) -> SlackMessage:
    """One message per held draft: who, what it says, and the commands that decide it."""
    influencer_name, thread_id, kind = draft.influencer_name, draft.thread_id, draft.kind
    amount, subject, body, campaign_id = draft.amount, draft.subject, draft.body, draft.campaign_id
    commands = approval_commands(thread_id)
    pairs = [
        ("Influencer", influencer_name),
        ("Email", influencer_email),
        ("Client", f"{client_name} ({campaign_id})"),
        ("Email kind", kind.replace("_", " ")),
        ("Amount", "n/a" if amount is None else format_usd(amount)),
        ("Subject", subject),
    ]
    blocks: list[Block] = [
        header(f"Draft awaiting approval: {influencer_name}"),
        *fields(pairs),
        section("*Draft (not sent)*\n" + quoted(body, SECTION_TEXT_MAX - 30)),
        section("*Approve or replace*\n" + quoted("\n".join(commands), 1500)),
    ]
    if launchpad_url:
        blocks.append(section(link(launchpad_url, "Decide in the Dagster UI (resolve_escalation)")))
    blocks.append(thread_context(thread_id))
    fallback = (
        f"Draft awaiting approval: {kind.replace('_', ' ')} to {influencer_name} "
        f"({client_name}), thread {thread_id}"
    )
    return message(SlackChannel.ESCALATIONS, fallback, blocks)


__all__ = ["HeldDraftFacts", "approval_commands", "draft_approval_alert"]
