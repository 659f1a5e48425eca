"""Slack Block Kit messages with a plain-text fallback, within Slack's block limits.

Limits: header plain_text <= 150 chars; section text <= 3000; <= 10 fields of <= 2000 chars;
<= 10 context elements; <= 50 blocks. Money is Decimal, written with format_usd.

Slack reads `&`, `<` and `>` as control characters in every text it gets (`<!channel>`,
`<@U123>`, `<https://x|label>`). Every piece of data is escaped before it is placed: field
values, bullets and quoted text by their builders, the header and the top-level fallback text
(the one notifications show) as a whole, since neither ever holds markup of ours. The only
markup we emit ourselves is `link()`, built after escaping from an http(s) URL. Link previews
are off, so a URL inside data is never fetched by Slack on our behalf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.redaction import redact_data, redact_text

HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
FALLBACK_TEXT_MAX = 3000

DEFAULT_NEXT_STEPS = ("Send the contract", "Confirm deliverables", "Schedule the content calendar")
ELLIPSIS = "…"

Block = dict[str, Any]


class SlackChannel(StrEnum):
    """Which channel a message belongs in (BotSlack maps these to channel ids)."""

    AGREEMENTS = "agreements"
    ESCALATIONS = "escalations"
    ERRORS = "errors"


@dataclass(frozen=True)
class SlackMessage:
    channel: SlackChannel
    text: str  # notification / fallback text
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        """The JSON body shared by webhooks and chat.postMessage (without "channel")."""
        return {
            "text": self.text,
            "blocks": list(self.blocks),
            "unfurl_links": False,
            "unfurl_media": False,
        }


# An entity cut in half by truncation ("&am") would show as text, or swallow what follows.
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut; an escaped entity is never split."""
    if len(text) <= limit:
        return text
    kept = _PARTIAL_ENTITY.sub("", text[: limit - len(ELLIPSIS)])
    return kept + ELLIPSIS


def escape(text: str) -> str:
    """Slack's three control characters as entities: `&` `<` `>` (data then cannot mention
    anyone, link anywhere or format a date)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """Our own link `<url|label>`: only http(s), the URL's control characters and `|`
    percent-encoded so it cannot end the link early, the label escaped. Anything else is the
    label alone (escaped): a bad URL loses its link, never the message."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return escape(label)
    # "<", ">", "|", quotes, blanks and non-ASCII are percent-encoded; "&" becomes "&amp;".
    encoded = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")
    return f"<{encoded.replace('&', '&amp;')}|{escape(label)}>"


def header(text: str) -> Block:
    """A header block; `text` is data (plain_text holds no markup of ours) and is escaped."""
    escaped = truncate(escape(text), HEADER_MAX)
    return {"type": "header", "text": {"type": "plain_text", "text": escaped}}


def section(markdown: str) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(markdown, SECTION_TEXT_MAX)},
    }


def fields(pairs: Sequence[tuple[str, str]]) -> list[Block]:
    """Label/value pairs as section fields, 10 per section block (values escaped)."""
    items = [
        {"type": "mrkdwn", "text": truncate(f"*{escape(label)}:*\n{escape(value)}", FIELD_TEXT_MAX)}
        for label, value in pairs
    ]
    return [
        {"type": "section", "fields": items[start : start + FIELDS_MAX]}
        for start in range(0, len(items), FIELDS_MAX)
    ]


def context(*parts: str) -> Block:
    elements = [
        {"type": "mrkdwn", "text": truncate(part, FIELD_TEXT_MAX)} for part in parts if part
    ]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS_MAX]}


def quoted(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Outside text in a code block, escaped, fitted into one section."""
    fence = "```"
    room = limit - 2 * len(fence) - 2
    return f"{fence}\n{truncate(escape(text.strip()), room)}\n{fence}"


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"• {escape(item)}" for item in items)


def _money(amount: Decimal | None) -> str:
    return format_usd(amount) if amount is not None else "n/a"


def _message(channel: SlackChannel, fallback: str, blocks: list[Block]) -> SlackMessage:
    """`fallback` is plain words and data, never markup: it is redacted and escaped here, whole."""
    kept = redact_data([block for block in blocks if block.get("elements", True)][:BLOCKS_MAX])
    fallback_text = truncate(escape(redact_text(fallback)), FALLBACK_TEXT_MAX)
    return SlackMessage(channel, fallback_text, tuple(kept))


def _thread_context(thread_id: str | None) -> Block:
    return context(f"Thread `{escape(thread_id)}`" if thread_id else "")


# --- the messages ------------------------------------------------------------------------------


def agreement_alert(
    *,
    influencer_name: str,
    influencer_email: str,
    client_name: str,
    agreed_rate: Decimal,
    cpm_achieved: Decimal | None,
    deliverables: Sequence[str],
    next_steps: Sequence[str] = DEFAULT_NEXT_STEPS,
    platform: str | None = None,
    thread_id: str | None = None,
) -> SlackMessage:
    pairs = [
        ("Influencer", influencer_name),
        ("Email", influencer_email),
        ("Client", client_name),
        ("Agreed rate", format_usd(agreed_rate)),
        ("CPM achieved", _money(cpm_achieved)),
    ]
    if platform:
        pairs.append(("Platform", platform))
    blocks = [
        header(f"Deal agreed: {influencer_name}"),
        *fields(pairs),
        section(f"*Deliverables*\n{_bullets(deliverables) or 'n/a'}"),
        section(f"*Next steps*\n{_bullets(next_steps)}"),
        _thread_context(thread_id),
    ]
    fallback = f"Deal agreed: {influencer_name} ({client_name}) at {format_usd(agreed_rate)}"
    return _message(SlackChannel.AGREEMENTS, fallback, blocks)


_SUGGESTIONS = (
    (("cpm", "budget", "threshold", "cap", "approval"), "Approve the ask, or counter lower"),
    (("unclear", "confidence", "intent"), "Read the reply and clarify with the influencer"),
    (("hostile", "tone"), "Reply personally and de-escalate, or hand to the account manager"),
    (("legal", "contract", "lawyer"), "Forward to legal before replying"),
    (("validation", "gate"), "Review the draft, fix it, and send it manually"),
    (("round", "max"), "Review the history; make a final offer or accept"),
    (("currency",), "Convert the ask and decide; the campaign is priced in USD"),
    (("question",), "Answer the question; the campaign facts do not cover it"),
)


def suggested_action_for(reason: str) -> str:
    lowered = reason.lower()
    for keywords, action in _SUGGESTIONS:
        if any(keyword in lowered for keyword in keywords):
            return action
    return "Review the thread and reply manually"


def escalation_alert(
    *,
    influencer_name: str,
    influencer_email: str,
    client_name: str,
    reason: str,
    their_rate: Decimal | None,
    our_rate: Decimal | None,
    draft_email: str | None = None,
    suggested_action: str | None = None,
    evidence: str | None = None,
    thread_id: str | None = None,
    commands: Sequence[str] = (),
    launchpad_url: str | None = None,
) -> SlackMessage:
    """`commands` (built by the caller with shell quoting) are shown verbatim; the Launchpad
    link opens the job that does the same from the Dagster UI."""
    action = suggested_action or suggested_action_for(reason)
    blocks: list[Block] = [
        header(f"Escalation: {influencer_name}"),
        *fields(
            [
                ("Influencer", influencer_name),
                ("Email", influencer_email),
                ("Client", client_name),
                ("Reason", reason),
                ("Their rate", _money(their_rate)),
                ("Our rate", _money(our_rate)),
            ]
        ),
        section(f"*Suggested action*\n{escape(action)}"),
    ]
    if evidence:
        blocks.append(section("*From their reply*\n" + quoted(evidence, SECTION_TEXT_MAX - 30)))
    if draft_email:
        blocks.append(section("*Draft (not sent)*\n" + quoted(draft_email, SECTION_TEXT_MAX - 30)))
    if commands:
        blocks.append(section("*Decide*\n" + quoted("\n".join(commands), 1500)))
    if launchpad_url:
        blocks.append(
            section(link(launchpad_url, "Resolve in the Dagster UI (resolve_escalation)"))
        )
    blocks.append(_thread_context(thread_id))
    fallback = f"Escalation: {influencer_name} ({client_name}): {reason}"
    return _message(SlackChannel.ESCALATIONS, fallback, blocks)


def stale_notice(
    *,
    influencer_name: str,
    client_name: str,
    days_without_reply: int,
    follow_up_sent: bool,
    thread_id: str | None = None,
) -> SlackMessage:
    follow_up = "A follow-up was sent." if follow_up_sent else "No follow-up was sent."
    text = (
        f"No reply from *{escape(influencer_name)}* ({escape(client_name)}) for "
        f"{days_without_reply} days. {follow_up} The negotiation is now stale."
    )
    blocks = [header(f"Stale: {influencer_name}"), section(text), _thread_context(thread_id)]
    fallback = f"Stale: {influencer_name} ({client_name}), {days_without_reply} days without reply"
    return _message(SlackChannel.ESCALATIONS, fallback, blocks)


def run_failure(
    *, job_name: str, run_id: str, error: str, run_url: str | None = None
) -> SlackMessage:
    blocks = [
        header(f"Run failed: {job_name}"),
        *fields([("Job", job_name), ("Run", run_id)]),
        section("*Error*\n" + quoted(error, SECTION_TEXT_MAX - 20)),
        context(link(run_url, "Open the run") if run_url else ""),
    ]
    first_line = error.strip().splitlines()[0] if error.strip() else "unknown error"
    return _message(SlackChannel.ERRORS, f"Run failed: {job_name} ({run_id}): {first_line}", blocks)


def api_error(*, api_name: str, attempts: int, error: str, operation: str = "") -> SlackMessage:
    pairs = [("API", api_name), ("Attempts", str(attempts))]
    if operation:
        pairs.append(("Operation", operation))
    blocks = [
        header(f"API error: {api_name}"),
        *fields(pairs),
        section("*Last error*\n" + quoted(error, SECTION_TEXT_MAX - 20)),
    ]
    tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
    fallback = f"API error: {api_name} failed after {tries}: {error.strip()[:300]}"
    return _message(SlackChannel.ERRORS, fallback, blocks)


def campaign_started(
    *,
    client_name: str,
    campaign_id: str,
    platform: str,
    budget: Decimal | None,
    listed: int,
    found: int,
    opened: int,
    skipped: Sequence[str] = (),
    task_url: str | None = None,
) -> SlackMessage:
    """Negotiations opened for a campaign. `listed` influencers were asked for, `found` of them
    are usable roster rows, `opened` got an opening offer now; each `skipped` line names one
    we will not contact and why. It goes where people act on the pipeline's work (the
    escalations channel): a skipped influencer needs someone to fix the roster or the task."""
    pairs = [
        ("Client", client_name),
        ("ClickUp task", campaign_id),
        ("Platform", platform),
        ("Budget", _money(budget)),
        ("Influencers listed", str(listed)),
        ("Found in the roster", str(found)),
        ("Skipped", str(len(skipped))),
        ("Negotiations opened", str(opened)),
    ]
    blocks: list[Block] = [
        header(f"Campaign started: {client_name}"),
        *fields(pairs),
    ]
    if skipped:
        shown = list(skipped[:_SKIPPED_SHOWN])
        more = len(skipped) - len(shown)
        if more > 0:
            shown.append(f"… and {more} more (see the audit log)")
        blocks.append(section(f"*Skipped*\n{_bullets(shown)}"))
    if task_url:
        blocks.append(context(link(task_url, "ClickUp task")))
    noun = "influencer" if listed == 1 else "influencers"
    fallback = (
        f"Campaign started: {client_name} (task {campaign_id}), {platform}: "
        f"{listed} {noun} listed, {found} found, {len(skipped)} skipped, "
        f"{opened} negotiations opened"
    )
    return _message(SlackChannel.ESCALATIONS, fallback, blocks)


_SKIPPED_SHOWN = 20


def held_reply_alert(
    *,
    influencer_name: str,
    client_name: str,
    sender: str,
    reason: str,
    subject: str,
    held_count: int,
    next_step: str,
    command: str,
    thread_id: str | None = None,
) -> SlackMessage:
    """A message matched a negotiation but its sender may not steer it: held, thread untouched.
    `command` is shown verbatim in a code span (built by the caller with shell quoting)."""
    pairs = [
        ("Influencer", influencer_name),
        ("Client", client_name),
        ("Sender", sender or "n/a"),
        ("Subject", subject or "n/a"),
        ("Held from this sender", str(held_count)),
    ]
    blocks = [
        header(f"Reply held: {influencer_name}"),
        *fields(pairs),
        section(f"*Why*\n{escape(reason)}"),
        section(f"*Next step*\n{escape(next_step)}\n{quoted(command, 1000)}"),
        _thread_context(thread_id),
    ]
    fallback = (
        f"Reply held: {escape(influencer_name)} ({escape(client_name)}), "
        f"from {escape(sender or 'no sender')}: not processed"
    )
    return _message(SlackChannel.ESCALATIONS, fallback, blocks)


def takeover_notice(
    *, influencer_name: str, client_name: str, actor: str, thread_id: str | None = None
) -> SlackMessage:
    """A person on our side answered in the thread: the agent stops working on it."""
    text = (
        f"*{escape(actor)}* answered *{escape(influencer_name)}* ({escape(client_name)}) by "
        "hand. The agent no longer answers or follows up in this thread; "
        "`negotiation-pipeline control resume` hands it back."
    )
    blocks = [header(f"Taken over: {influencer_name}"), section(text), _thread_context(thread_id)]
    fallback = f"Taken over by {escape(actor)}: {escape(influencer_name)} ({escape(client_name)})"
    return _message(SlackChannel.ESCALATIONS, fallback, blocks)


def resolution_notice(
    *,
    influencer_name: str,
    client_name: str,
    summary: str,
    decided_by: str,
    note: str,
    thread_id: str | None = None,
) -> SlackMessage:
    """A person resolved an escalation or approved a draft: what was done, by whom, and why."""
    text = f"{escape(summary)}\nDecided by *{escape(decided_by)}*"
    if note.strip():
        text += f": {escape(truncate(note.strip(), 500))}"
    blocks = [header(f"Resolved: {influencer_name}"), section(text), _thread_context(thread_id)]
    fallback = (
        f"Resolved: {escape(influencer_name)} ({escape(client_name)}) by {escape(decided_by)}"
    )
    return _message(SlackChannel.ESCALATIONS, fallback, blocks)
