"""The escalation alert tells the operator how to decide: the thread id, the exact commands to
paste, and (when the Dagster UI's address is known) a link to the resolve_escalation Launchpad.
Checked on the JSON the loopback Slack fake received over chat.postMessage."""

from __future__ import annotations

import json
import re
import shlex
from decimal import Decimal
from typing import Any

import pytest

from negotiation_pipeline.integrations.slack.blocks import SlackChannel
from negotiation_pipeline.integrations.slack.client import BotSlack
from negotiation_pipeline.workflow.events import Escalated
from negotiation_pipeline.workflow.notify import slack_messages_for
from tests.fakes.slack_server import SlackFake, slack_fake

__all__ = ["slack_fake"]

CHANNELS = {
    SlackChannel.AGREEMENTS: "C_AGREEMENTS",
    SlackChannel.ESCALATIONS: "C_ESCALATIONS",
    SlackChannel.ERRORS: "C_ERRORS",
}
THREAD = "86b1aa001:theo-runs-example-test-a1b2c3"
UI = "http://127.0.0.1:3999/"
LAUNCHPAD = (
    "http://127.0.0.1:3999/locations/negotiation_pipeline/jobs/resolve_escalation/playground"
)


def _escalated(thread_id: str = THREAD, draft: str | None = "Hi Theo, could we do $1,450?") -> Any:
    return Escalated(
        thread_id=thread_id,
        campaign_id="86b1aa001",
        influencer_name="Theo Martins",
        reason="over_approval_limit",
        detail="ask $9,000.00 is above max cost without approval $8,000.00",
        their_rate=Decimal("9000"),
        our_rate=Decimal("1325.00"),
        draft_body=draft,
    )


def _received(slack_fake: SlackFake, event: Escalated) -> dict[str, Any]:
    [message] = slack_messages_for([event])
    BotSlack(slack_fake.token, CHANNELS, api_base=slack_fake.api_base).post(message)
    [request] = slack_fake.requests
    assert isinstance(request.json, dict)
    return request.json


def _section_texts(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b]


def _decide_commands(payload: dict[str, Any]) -> list[str]:
    [decide] = [text for text in _section_texts(payload) if text.startswith("*Decide*")]
    match = re.fullmatch(r"\*Decide\*\n```\n(.*)\n```", decide, flags=re.DOTALL)
    assert match is not None, decide
    return match.group(1).split("\n")


def test_names_the_thread_the_commands_and_links_the_launchpad(
    slack_fake: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", UI)
    payload = _received(slack_fake, _escalated())

    assert payload["channel"] == "C_ESCALATIONS"
    context = [b for b in payload["blocks"] if b["type"] == "context"]
    assert context[-1]["elements"] == [{"type": "mrkdwn", "text": f"Thread `{THREAD}`"}]
    assert _decide_commands(payload) == [
        f"negotiation-pipeline control accept {THREAD} [--rate AMOUNT]",
        f"negotiation-pipeline control counter {THREAD} AMOUNT [--scenario N]",
        f"negotiation-pipeline control send-draft {THREAD} [--edit FILE]",
        f"negotiation-pipeline control decline {THREAD}",
    ]
    assert f"<{LAUNCHPAD}|Resolve in the Dagster UI (resolve_escalation)>" in _section_texts(
        payload
    )
    assert payload["text"].startswith("Escalation: Theo Martins (n/a): over approval limit")


def test_without_a_draft_there_is_no_send_draft_and_without_the_ui_no_link(
    slack_fake: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_WEBSERVER_URL", raising=False)
    payload = _received(slack_fake, _escalated(draft=None))

    commands = _decide_commands(payload)
    assert [command.split()[2] for command in commands] == ["accept", "counter", "decline"]
    assert "playground" not in json.dumps(payload) and "Dagster UI" not in json.dumps(payload)


def test_a_thread_id_with_shell_characters_is_quoted_so_it_pastes_as_one_argument(
    slack_fake: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", UI)
    odd = "cmp 1:$(rm -rf ~);`x`"
    payload = _received(slack_fake, _escalated(thread_id=odd))

    for command in _decide_commands(payload):
        words = shlex.split(command.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
        assert words[:3] == ["negotiation-pipeline", "control", words[2]]
        assert words[3] == odd  # the whole id, one argument, nothing the shell would run
