"""The negotiation loop through Dagster, in the sandbox: a real test instance, the real SQLite
store, the real sandbox Maildir, the LogSlack JSONL file and the sandbox ClickUp comments file.

campaign_ingestion_job opens the negotiations → replies land in the Maildir inbox →
inbox_sensor requests advance_negotiations_job → the job answers, alerts and reports.
"""

from __future__ import annotations

import email.utils
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.jobs import campaign_ingestion_job
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.negotiations.agreements import campaign_agreements
from negotiation_pipeline.defs.negotiations.assets import campaign_report, negotiation_snapshots
from negotiation_pipeline.defs.negotiations.jobs import ADVANCE_OP
from negotiation_pipeline.defs.negotiations.sensors import inbox_sensor
from negotiation_pipeline.defs.sandbox.sensors import sandbox_influencer_sensor
from negotiation_pipeline.defs.shared.resources import ImapSmtpMailboxResource
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox, SenderIdentity, reply_subject
from negotiation_pipeline.sandbox.clickup_tasks import SandboxTaskSource
from negotiation_pipeline.sandbox.influencer_replies import answer_sent_mail
from negotiation_pipeline.settings.engine import load_policy
from negotiation_pipeline.store import AuditQuery, NegotiationStore, open_store
from negotiation_pipeline.workflow.persistence import load_negotiation, thread_id_for
from tests.defs.conftest import ON_BOTH_STORES, VALID_LUMEN
from tests.store.conftest import StoreLocation
from tests.workflow.faults import fail_inserts

MAYA = "maya.chen@example.test"
THEO = "theo@example.test"
LUMEN_INFLUENCERS = 5


@dataclass
class Sandbox:
    """One sandbox environment: definitions, instance and the files the product writes."""

    env: dict[str, str]
    defs: dg.Definitions
    instance: dg.DagsterInstance
    location: StoreLocation

    @property
    def home(self) -> Path:
        return Path(self.env["NEGOTIATION_DATA_DIR"])

    def store(self) -> NegotiationStore:
        return open_store(self.env["NEGOTIATION_DB"])

    def maildir(self) -> MaildirMailbox:
        return MaildirMailbox(self.home / "maildir", SenderIdentity("partnerships@northbeam.test"))

    def slack_messages(self) -> list[dict[str, Any]]:
        path = self.home / "slack.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def comments(self) -> list[dict[str, Any]]:
        source = SandboxTaskSource(Path(self.env["NEGOTIATION_SANDBOX_DIR"]), self.home / "clickup")
        return source.read_comments()

    def ingest(self, partition: str = VALID_LUMEN) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("campaign_ingestion_job")
        return job.execute_in_process(instance=self.instance, partition_key=partition)

    def tick(self, sensor_name: str, cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(
            instance=self.instance,
            definitions=self.defs,
            cursor=cursor,
            resources=dict(self.defs.resources or {}),
        ) as context:
            data = self.defs.resolve_sensor_def(sensor_name).evaluate_tick(context)
        return dg.SensorResult(run_requests=data.run_requests, cursor=data.cursor)

    def advance(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("advance_negotiations_job")
        return job.execute_in_process(
            run_config=request.run_config, instance=self.instance, tags=request.tags
        )


@pytest.fixture
def sandbox(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str], store_location: StoreLocation
) -> Iterator[Sandbox]:
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    yield Sandbox(sandbox_env, build_definitions(sandbox_env), instance, store_location)


def materialization_metadata(
    result: dg.ExecuteInProcessResult, key: dg.AssetKey
) -> list[dict[str, Any]]:
    return [
        {name: value.value for name, value in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
        if event.asset_key == key
    ]


def influencer_reply(sandbox: Sandbox, influencer_email: str, text: str, name: str) -> bytes:
    """A reply from the influencer to the newest email of their Lumen thread."""
    thread_id = thread_id_for(VALID_LUMEN, influencer_email)
    ours = sandbox.store().outbox.for_thread(thread_id)[-1]
    message = EmailMessage()
    message["From"] = email.utils.formataddr((name, influencer_email))
    message["To"] = "partnerships@northbeam.test"
    message["Subject"] = reply_subject(ours.subject)
    message["Message-ID"] = f"<reply-{len(text)}-{thread_id.replace(':', '.')}@example.test>"
    message["In-Reply-To"] = ours.message_id
    message["References"] = ours.message_id
    message["Date"] = email.utils.formatdate()
    message.set_content(text)
    return message.as_bytes(policy=SMTP_POLICY)


# --- negotiations asset ---------------------------------------------------------------------------
@ON_BOTH_STORES
def test_ingestion_opens_each_negotiation_once_and_reports_it(sandbox: Sandbox) -> None:
    first = sandbox.ingest()
    second = sandbox.ingest()  # the same task ingested again (e.g. the task was edited)

    assert first.success and second.success
    run = sandbox.instance.get_run_by_id(first.run_id)
    assert run is not None and run.tags["campaign_name"] == "Lumen Skincare"
    assert run.tags["dagster/partition"] == VALID_LUMEN
    [opened] = materialization_metadata(first, dg.AssetKey("negotiations"))
    assert opened["opened"] == LUMEN_INFLUENCERS and opened["already_open"] == 0
    assert opened["emails_sent"] == LUMEN_INFLUENCERS
    assert "Maya Chen" in opened["negotiations"] and "$1,325.00" in opened["negotiations"]
    [again] = materialization_metadata(second, dg.AssetKey("negotiations"))
    assert again["opened"] == 0 and again["already_open"] == LUMEN_INFLUENCERS
    assert again["emails_sent"] == 0

    # one opening offer per influencer, never a second one
    sent = sandbox.maildir().sent_messages()
    sent_to = [email.utils.parseaddr(_header(raw, "To"))[1] for raw in sent]
    assert sorted(sent_to) == sorted(set(sent_to)) and len(sent_to) == LUMEN_INFLUENCERS
    assert MAYA in sent_to
    store = sandbox.store()
    assert len(store.states.list_for_campaign(VALID_LUMEN)) == LUMEN_INFLUENCERS
    sent_audit = store.audit.query(
        AuditQuery(campaign=VALID_LUMEN, event_type=EventType.EMAIL_SENT)
    )
    assert len(sent_audit) == LUMEN_INFLUENCERS

    # announced once, on Slack (sandbox file) and as a comment on the ClickUp task
    started = [m for m in sandbox.slack_messages() if m["text"].startswith("Campaign started")]
    assert len(started) == 1 and started[0]["channel"] == "escalations"
    assert started[0]["text"] == (
        "Campaign started: Lumen Skincare (task 86b1aa001), instagram: 6 influencers listed, "
        "5 found, 1 skipped, 5 negotiations opened"
    )
    assert "@nobody.here: not found in the roster" in json.dumps(started[0]["blocks"])
    comments = [c for c in sandbox.comments() if c["task_id"] == VALID_LUMEN]
    assert [c["comment_text"] for c in comments] == [
        "Negotiations started with 5 influencers for Lumen Skincare."
    ]

    [snapshot] = materialization_metadata(second, negotiation_snapshots.key)
    assert snapshot["dagster/row_count"] == LUMEN_INFLUENCERS
    assert snapshot["by_state"] == "awaiting_reply: 5"
    assert snapshot["campaign"] == f"Lumen Skincare (task {VALID_LUMEN})"
    assert snapshot["snapshot"].startswith(f"**Lumen Skincare (task {VALID_LUMEN})**")
    [report] = materialization_metadata(second, campaign_report.key)
    assert report["negotiation_count"] == LUMEN_INFLUENCERS and report["agreed_count"] == 0
    assert report["budget_committed"] == "$0.00"
    assert report["campaign"] == f"Lumen Skincare (task {VALID_LUMEN})"
    assert f"**Lumen Skincare** (task {VALID_LUMEN})" in report["report"]


def _header(raw: bytes, name: str) -> str:
    return email.message_from_bytes(raw).get(name, "")


# --- inbox_sensor ---------------------------------------------------------------------------------
def test_inbox_sensor_requests_one_run_per_new_batch_and_nothing_on_a_repeat(
    sandbox: Sandbox,
) -> None:
    sandbox.ingest()
    maildir = sandbox.maildir()
    maildir.append_to_inbox(influencer_reply(sandbox, MAYA, "Sounds good!", "Maya Chen"))
    maildir.append_to_inbox(influencer_reply(sandbox, THEO, "I'd need $3,000.", "Theo Martins"))

    first = sandbox.tick(inbox_sensor.name, cursor=None)
    [request] = first.run_requests or []
    config = request.run_config["ops"][ADVANCE_OP]["config"]
    assert config == {"uidvalidity": maildir.uidvalidity, "uids": [1, 2]}
    assert request.run_key == f"sandbox-maildir:{maildir.uidvalidity}:1-2"

    # nothing new: no run, even though the store's cursor has not moved (no run executed yet)
    repeat = sandbox.tick(inbox_sensor.name, cursor=first.cursor)
    assert not repeat.run_requests and repeat.cursor == first.cursor

    maildir.append_to_inbox(b"From: someone@example.test\r\nSubject: hi\r\n\r\nhello\r\n")
    third = sandbox.tick(inbox_sensor.name, cursor=repeat.cursor)
    [newer] = third.run_requests or []
    assert newer.run_config["ops"][ADVANCE_OP]["config"]["uids"] == [3]
    assert newer.run_key == f"sandbox-maildir:{maildir.uidvalidity}:3-3"


@ON_BOTH_STORES
def test_mail_a_failed_run_left_unhandled_is_requested_again(sandbox: Sandbox) -> None:
    sandbox.ingest()
    maildir = sandbox.maildir()
    maildir.append_to_inbox(influencer_reply(sandbox, THEO, "I'd need $3,000.", "Theo Martins"))
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []
    first_cursor = sandbox.tick(inbox_sensor.name, cursor=None).cursor
    # A real store failure inside the reply's transaction: the run fails, the reply stays new.
    failing = fail_inserts(sandbox.location, "outbox")
    job = sandbox.defs.resolve_job_def("advance_negotiations_job")
    failed = job.execute_in_process(
        run_config=request.run_config, instance=sandbox.instance, raise_on_error=False
    )
    assert not failed.success
    failing.stop()

    retry = sandbox.tick(inbox_sensor.name, cursor=first_cursor)
    [again] = retry.run_requests or []
    assert again.run_config["ops"][ADVANCE_OP]["config"]["uids"] == [1]
    assert again.run_key is not None and again.run_key.startswith(f"{request.run_key}:retry-")
    assert sandbox.advance(again).success
    theo = sandbox.store().states.load(thread_id_for(VALID_LUMEN, THEO))
    assert theo is not None and theo.round_count >= 1  # the reply was finally answered
    # The newest run succeeded and the store caught up: nothing more to request.
    assert not sandbox.tick(inbox_sensor.name, cursor=retry.cursor).run_requests


# --- advance_negotiations_job ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "store_backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_mail_left_to_a_run_that_then_stopped_is_requested_again(sandbox: Sandbox) -> None:
    """Runs side by side: a run skips the reply another run holds and succeeds; the other run
    then stops without handling it. With no advance run left in flight the sensor asks again,
    even though the newest run succeeded (only PostgreSQL holds uids for a run)."""
    sandbox.ingest()
    maildir = sandbox.maildir()
    maildir.append_to_inbox(influencer_reply(sandbox, THEO, "I'd need $3,000.", "Theo Martins"))
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []
    requested = sandbox.tick(inbox_sensor.name, cursor=None).cursor
    other_run = sandbox.store()
    assert other_run.claim_uids("sandbox-maildir", maildir.uidvalidity, [1]) == {1}

    skipped = sandbox.advance(request)

    assert skipped.success
    assert sandbox.store().mail_cursors.get("sandbox-maildir").last_uid == 0  # type: ignore[union-attr]
    other_run.close()  # it stops, uid 1 unhandled
    retry = sandbox.tick(inbox_sensor.name, cursor=requested)
    [again] = retry.run_requests or []
    assert again.run_config["ops"][ADVANCE_OP]["config"]["uids"] == [1]
    assert sandbox.advance(again).success
    theo = sandbox.store().states.load(thread_id_for(VALID_LUMEN, THEO))
    assert theo is not None and theo.round_count >= 1


@ON_BOTH_STORES
def test_advance_job_answers_alerts_and_materializes_the_right_numbers(sandbox: Sandbox) -> None:
    sandbox.ingest()
    quiet = dg.evaluate_automation_conditions(defs=sandbox.defs, instance=sandbox.instance)
    maildir = sandbox.maildir()
    maildir.append_to_inbox(
        influencer_reply(sandbox, MAYA, "That works for me, let's do it!", "Maya Chen")
    )
    maildir.append_to_inbox(
        influencer_reply(
            sandbox,
            THEO,
            "Before anything else my lawyer needs to review the contract and the indemnification.",
            "Theo Martins",
        )
    )
    sent_before = len(maildir.sent_messages())
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []

    result = sandbox.advance(request)

    assert result.success
    assert result.output_for_node(ADVANCE_OP) == 2
    run = sandbox.instance.get_run_by_id(result.run_id)
    assert run is not None  # every reply was for Lumen: the run says so beside its task id
    assert run.tags["campaign_name"] == "Lumen Skincare"
    assert run.tags["clickup/task_id"] == VALID_LUMEN
    store = sandbox.store()
    maya = store.states.load(thread_id_for(VALID_LUMEN, MAYA))
    theo = store.states.load(thread_id_for(VALID_LUMEN, THEO))
    assert maya is not None and maya.state is NegotiationState.AGREED
    assert theo is not None and theo.state is NegotiationState.ESCALATED
    [agreement] = store.agreements.for_campaign(VALID_LUMEN)
    assert agreement.rate == Decimal("1325.00") and agreement.cpm == Decimal("18.03")
    assert store.audit.query(AuditQuery(campaign=VALID_LUMEN, event_type=EventType.AGREEMENT))
    assert store.audit.query(AuditQuery(campaign=VALID_LUMEN, event_type=EventType.ESCALATION))
    # the agreement confirmation went out; the escalation's draft did not
    sent = maildir.sent_messages()[sent_before:]
    assert [email.utils.parseaddr(_header(raw, "To"))[1] for raw in sent] == [MAYA]
    assert store.mail_cursors.get("sandbox-maildir") is not None

    texts = [m["text"] for m in sandbox.slack_messages()]
    assert any(t.startswith("Deal agreed: Maya Chen") and "$1,325.00" in t for t in texts)
    assert any(t.startswith("Escalation: Theo Martins") for t in texts)
    assert any("Maya Chen: agreed at $1,325.00" in c["comment_text"] for c in sandbox.comments())

    [agreed] = materialization_metadata(result, campaign_agreements.key)
    assert agreed["agreed_rate"] == "1325.00" and agreed["influencer"] == "Maya Chen"
    [snapshot] = materialization_metadata(result, negotiation_snapshots.key)
    assert snapshot["by_state"] == "agreed: 1, awaiting_reply: 3, escalated: 1"
    [report] = materialization_metadata(result, campaign_report.key)
    assert report["agreed_count"] == 1 and report["negotiation_count"] == LUMEN_INFLUENCERS
    assert report["close_rate"] == "0.200"
    assert report["budget_committed"] == "$1,325.00"
    assert report["average_cpm_achieved"] == "$18.03"
    partitions = {
        event.partition
        for event in result.get_asset_materialization_events()
        if event.asset_key in (campaign_report.key, negotiation_snapshots.key)
    }
    assert partitions == {VALID_LUMEN}

    # the reported agreement makes automation recompute that campaign's CPM table
    evaluation = dg.evaluate_automation_conditions(
        defs=sandbox.defs, instance=sandbox.instance, cursor=quiet.cursor
    )
    assert evaluation.get_requested_partitions(cpm_flexibility.key) == {VALID_LUMEN}

    # the same batch again (a re-executed run): nothing is processed or sent twice
    again = sandbox.advance(request)
    assert again.success and again.output_for_node(ADVANCE_OP) == 0
    assert len(maildir.sent_messages()) == sent_before + 1
    assert len(store.agreements.for_campaign(VALID_LUMEN)) == 1


# --- the sandbox loop -----------------------------------------------------------------------------
def load_negotiation_row(store: NegotiationStore, thread_id: str) -> Any:
    stored = store.states.load(thread_id)
    assert stored is not None
    return load_negotiation(stored)


def test_simulated_influencers_are_answered_until_every_thread_ends(sandbox: Sandbox) -> None:
    # The personas of this campaign's threads are three hard bargainers (reservations above our
    # ceilings), a decliner and a ghost: no deal is possible without paying above a ceiling (the
    # old engine "agreed" with one of them by raising its offer while cutting the package).
    sandbox.ingest()
    sandbox_cursor: str | None = None
    inbox_cursor: str | None = None
    answered_rounds = []
    # One tick per round: by max_rounds + 2 ticks every answered negotiation has had to end.
    for _ in range(load_policy().max_rounds + 2):
        sandbox_tick = sandbox.tick(sandbox_influencer_sensor.name, sandbox_cursor)
        sandbox_cursor = sandbox_tick.cursor
        inbox_tick = sandbox.tick(inbox_sensor.name, inbox_cursor)
        inbox_cursor = inbox_tick.cursor
        for request in inbox_tick.run_requests or []:
            assert sandbox.advance(request).success
            answered_rounds.append(len(request.run_config["ops"][ADVANCE_OP]["config"]["uids"]))

    store = sandbox.store()
    assert answered_rounds and answered_rounds[0] >= 3  # most personas answer the opening offer
    states = {s.influencer_name: s.state for s in store.states.list_for_campaign(VALID_LUMEN)}
    assert states["Jonah Brooks"] is NegotiationState.AWAITING_REPLY  # the ghost never answers
    assert states["Priya Nair"] is NegotiationState.REJECTED  # declined, and got a short close
    assert NegotiationState.AGREED not in states.values()
    assert set(states.values()) - {NegotiationState.AWAITING_REPLY} <= {
        NegotiationState.REJECTED,
        NegotiationState.ESCALATED,
    }
    priya = thread_id_for(VALID_LUMEN, "priya.nair@example.test")
    assert "just reply to this email" in store.outbox.for_thread(priya)[-1].body
    assert not store.agreements.for_campaign(VALID_LUMEN)
    # Maya walked the levers down and was let go at our best: money fell with every package.
    maya = load_negotiation_row(store, thread_id_for(VALID_LUMEN, MAYA))
    assert states["Maya Chen"] is NegotiationState.REJECTED and maya.levers.used
    assert maya.offers[-1] <= maya.terms.ceiling_rate


def test_a_replayed_simulated_reply_has_the_same_message_id_and_is_handled_once(
    sandbox: Sandbox,
) -> None:
    sandbox.ingest()
    maildir = sandbox.maildir()
    now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    first = answer_sent_mail(sandbox.store(), maildir, seen_sent=0, now=now)
    replay = answer_sent_mail(sandbox.store(), maildir, seen_sent=0, now=now)  # cursor rewound

    assert first.answered and first == replay and first.seen_sent == LUMEN_INFLUENCERS
    inbox = maildir.fetch(maildir.list_new_ids(None).uids).messages
    count = len(first.answered)
    assert [m.parsed.message_id for m in inbox[:count]] == [
        m.parsed.message_id for m in inbox[count:]
    ]
    assert [m.raw for m in inbox[:count]] == [m.raw for m in inbox[count:]]  # seeded text
    [request] = sandbox.tick(inbox_sensor.name, None).run_requests or []
    result = sandbox.advance(request)
    assert result.success and result.output_for_node(ADVANCE_OP) == count
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata  # type: ignore[union-attr]
    assert metadata["duplicates"].value == count


def test_emails_that_cannot_be_sent_fail_the_run_and_go_out_on_the_next_one(
    sandbox: Sandbox,
) -> None:
    # Real mail settings pointing at a loopback port nobody listens on: every send is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = ImapSmtpMailboxResource(
        agent_email="partnerships@northbeam.test",
        imap_host="127.0.0.1",
        imap_port=closed_port,
        imap_security="plain",
        smtp_host="127.0.0.1",
        smtp_port=closed_port,
        smtp_security="plain",
        timeout_seconds=2,
    )
    resources = {**build_resources(sandbox.env), "mailbox": unreachable}
    broken = dg.Definitions(
        assets=list(sandbox.defs.assets or []), jobs=[campaign_ingestion_job], resources=resources
    )
    failed = broken.resolve_job_def("campaign_ingestion_job").execute_in_process(
        instance=sandbox.instance, partition_key=VALID_LUMEN, raise_on_error=False
    )

    assert not failed.success
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    assert failure.step_key == "negotiations"
    failure_text = str(failure.step_failure_data)
    assert f"IMAP 127.0.0.1:{closed_port}: cannot connect" in failure_text  # names the server
    assert "5 emails stay queued and are retried by the next run" in failure_text
    store = sandbox.store()
    assert len(store.outbox.pending()) == LUMEN_INFLUENCERS  # nothing lost
    assert len(store.states.list_for_campaign(VALID_LUMEN)) == LUMEN_INFLUENCERS

    retried = sandbox.ingest()  # the sandbox mailbox works

    assert retried.success
    [opened] = materialization_metadata(retried, dg.AssetKey("negotiations"))
    assert opened["opened"] == 0 and opened["emails_sent"] == LUMEN_INFLUENCERS
    assert store.outbox.pending() == []
