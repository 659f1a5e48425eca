"""The Slack messages the product sends (agreements, escalations, held replies, stale threads,
run failures, API errors, campaign starts, takeovers, resolutions), each built from the blocks
of blocks.py with a plain-text fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.integrations.slack.blocks import (
    DEFAULT_NEXT_STEPS,
    SECTION_TEXT_MAX,
    Block,
    SlackChannel,
    SlackMessage,
    bullets,
    context,
    escape,
    fields,
    header,
    link,
    message,
    money_text,
    quoted,
    section,
    thread_context,
    truncate,
)

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
        ("CPM achieved", money_text(cpm_achieved)),
    ]
    if platform:
        pairs.append(("Platform", platform))
    blocks = [
        header(f"Deal agreed: {influencer_name}"),
        *fields(pairs),
        section(f"*Deliverables*\n{bullets(deliverables) or 'n/a'}"),
        section(f"*Next steps*\n{bullets(next_steps)}"),
        thread_context(thread_id),
    ]
    fallback = f"Deal agreed: {influencer_name} ({client_name}) at {format_usd(agreed_rate)}"
    return message(SlackChannel.AGREEMENTS, fallback, blocks)


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
                ("Their rate", money_text(their_rate)),
                ("Our rate", money_text(our_rate)),
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
    blocks.append(thread_context(thread_id))
    fallback = f"Escalation: {influencer_name} ({client_name}): {reason}"
    return message(SlackChannel.ESCALATIONS, fallback, blocks)


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
    blocks = [header(f"Stale: {influencer_name}"), section(text), thread_context(thread_id)]
    fallback = f"Stale: {influencer_name} ({client_name}), {days_without_reply} days without reply"
    return message(SlackChannel.ESCALATIONS, fallback, blocks)


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
    return message(SlackChannel.ERRORS, f"Run failed: {job_name} ({run_id}): {first_line}", blocks)


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
    return message(SlackChannel.ERRORS, fallback, blocks)


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
        ("Budget", money_text(budget)),
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
        blocks.append(section(f"*Skipped*\n{bullets(shown)}"))
    if task_url:
        blocks.append(context(link(task_url, "ClickUp task")))
    noun = "influencer" if listed == 1 else "influencers"
    fallback = (
        f"Campaign started: {client_name} (task {campaign_id}), {platform}: "
        f"{listed} {noun} listed, {found} found, {len(skipped)} skipped, "
        f"{opened} negotiations opened"
    )
    return message(SlackChannel.ESCALATIONS, fallback, blocks)


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
        thread_context(thread_id),
    ]
    fallback = (
        f"Reply held: {escape(influencer_name)} ({escape(client_name)}), "
        f"from {escape(sender or 'no sender')}: not processed"
    )
    return message(SlackChannel.ESCALATIONS, fallback, blocks)


def takeover_notice(
    *, influencer_name: str, client_name: str, actor: str, thread_id: str | None = None
) -> SlackMessage:
    """A person on our side answered in the thread: the agent stops working on it."""
    text = (
        f"*{escape(actor)}* answered *{escape(influencer_name)}* ({escape(client_name)}) by "
        "hand. The agent no longer answers or follows up in this thread; "
        "`negotiation-pipeline control resume` hands it back."
    )
    blocks = [header(f"Taken over: {influencer_name}"), section(text), thread_context(thread_id)]
    fallback = f"Taken over by {escape(actor)}: {escape(influencer_name)} ({escape(client_name)})"
    return message(SlackChannel.ESCALATIONS, fallback, blocks)


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
    blocks = [header(f"Resolved: {influencer_name}"), section(text), thread_context(thread_id)]
    fallback = (
        f"Resolved: {escape(influencer_name)} ({escape(client_name)}) by {escape(decided_by)}"
    )
    return message(SlackChannel.ESCALATIONS, fallback, blocks)
