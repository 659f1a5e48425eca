"""`negotiation-pipeline thread THREAD [--format text|json]`: one negotiation's conversation in
the terminal, every email in and out with what we decided, without opening the database.

THREAD is a thread id or the influencer's email; an email with negotiations in several
campaigns lists them and exits 2, so the operator picks the thread id. A missing store exits 2,
one that cannot be reached or read exits 1, as every command that reads the store does.
"""

from __future__ import annotations

import json

import click

from negotiation_pipeline.cli.common import business_store, db_option
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.conversations import (
    Conversation,
    conversation_dict,
    thread_conversation,
)
from negotiation_pipeline.workflow.snapshots import moment_text

EXIT_INVALID = 2
TERMINAL_TEXT_CHARS = 4_000  # of one email in the terminal


def _resolve(store: NegotiationStore, target: str) -> str:
    cleaned = target.strip()
    if not cleaned:
        raise click.UsageError("pass a thread id or an influencer email")
    if store.states.load(cleaned) is not None:
        return cleaned
    if "@" in cleaned:
        found = store.states.load_by_email(cleaned)
        if len(found) == 1:
            return found[0].thread_id
        if len(found) > 1:
            listed = ", ".join(f"{s.thread_id} (campaign {s.campaign_id})" for s in found)
            raise click.ClickException(f"{cleaned} has several negotiations: {listed}")
    raise click.ClickException(f"no negotiation with thread id or influencer email {cleaned!r}")


def _flat(text: str) -> str:
    return " ".join(text.split())


def conversation_text(conversation: Conversation) -> str:
    data = conversation_dict(conversation, TERMINAL_TEXT_CHARS)
    lines = [
        f"{_flat(data['influencer_name'])} <{_flat(data['influencer_email'])}> · "
        f"{_flat(data['client_name'])} ({data['campaign_id']}) · {data['state']}",
        f"thread {data['thread_id']}",
    ]
    if not conversation.emails:
        lines.append("no emails yet")
    for email, shown in zip(conversation.emails, data["emails"], strict=True):
        arrow = "OUT →" if email.direction == "out" else "IN  ←"
        lines.append("")
        lines.append(
            f"{moment_text(email.at) or 'no time'} {arrow} [{shown['status']}] "
            f"{_flat(shown['subject'])}"
        )
        if shown["decision"]:
            lines.append(f"  decision: {_flat(shown['decision'])}")
        lines.extend(f"  | {line}" for line in _printable(shown["text"]).splitlines())
    return "\n".join(lines)


def _printable(text: str) -> str:
    """Terminal escapes and other control characters shown as spaces (lines kept)."""
    return "".join(c if c == "\n" or c.isprintable() else " " for c in text)


class _Ended(click.ClickException):
    exit_code = EXIT_INVALID


@click.command(name="thread", short_help="Print one negotiation's conversation.")
@click.argument("thread")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
    show_default=True, help="Readable text, or one JSON object.",
)  # fmt: skip
@db_option
def thread_command(thread: str, output_format: str, db: str | None) -> None:
    """Print one negotiation's conversation: every email in and out, with our decisions."""
    with business_store(db) as store:
        try:
            thread_id = _resolve(store, thread)
        except click.ClickException as exc:
            raise _Ended(exc.message) from exc
        conversation = thread_conversation(store, thread_id)
    if conversation is None:  # removed between the lookup and the read
        raise _Ended(f"no negotiation with thread id {thread_id!r}")
    if output_format == "json":
        click.echo(json.dumps(conversation_dict(conversation, TERMINAL_TEXT_CHARS)))
    else:
        click.echo(conversation_text(conversation))


__all__ = ["conversation_text", "thread_command"]
