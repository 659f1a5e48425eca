"""advance_negotiations over 1,000 pending replies: replies handled per second.

Run:  uv run python bench/bench_advance.py [--replies 1000] [--seed 7] [--dovecot]
Target: >= 100 replies/s on the Maildir sandbox (SQLite store + outbox delivery included).

Setup (not timed): 5 campaigns share the replies' influencers; every negotiation is opened and
its opening offer delivered; simulated influencers (sandbox/simulation/ personas: accepters,
hard bargainers, managers, decliners, question askers, euro askers) answer it, each reply a real
threaded email in the inbox. Timed: ONE advance_negotiations run: fetch + parse, one SQLite
transaction per reply (dedupe, state, outbox, agreement, CPM tracker, audit), cursor, then
delivery of every answer.

--dovecot runs the same against a loopback Dovecot (IMAP: list, fetch, Sent folder) and aiosmtpd
(SMTP), like production mail. Prints one JSON line at the end:
{"bench": ..., "replies_per_second": ...}.
"""

from __future__ import annotations

import argparse
import email.policy
import email.utils
import json
import logging
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from bench._results import emit
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, FlexibilityRow
from negotiation_pipeline.domain.money import quantize_cents, rate_for_cpm
from negotiation_pipeline.domain.negotiation.emails import EmailKind, OutgoingEmail
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.integrations.mail import (
    ImapReader,
    ImapSmtpMailbox,
    Mailbox,
    MaildirMailbox,
    SenderIdentity,
    SmtpSender,
)
from negotiation_pipeline.sandbox.simulation.simulator import (
    PERSONA_WEIGHTS,
    Persona,
    SimulatedInfluencer,
)
from negotiation_pipeline.settings.engine import load_engine_config
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.domain.negotiation.engine_support import make_campaign

TARGET_PER_SECOND = 100.0
CAMPAIGNS = 5
AGENT = SenderIdentity("partnerships@agency.test", "Alex Morgan")
_MANAGER_EMAIL = "jordan@brighttalent.com"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_FIRST = ("Maya", "Leo", "Ava", "Noah", "Zoe", "Eli", "Ivy", "Kai", "Nia", "Sam")
_LAST = ("Rivera", "Chen", "Patel", "Kim", "Okafor", "Novak", "Silva", "Berg")


@dataclass
class Workspace:
    store: SQLiteStore
    mailbox: Mailbox
    people: dict[str, SimulatedInfluencer]  # by influencer email


def _rows(campaign: Campaign, count: int, rng: random.Random, offset: int) -> list[FlexibilityRow]:
    tracker = CampaignCPMTracker(
        campaign.campaign_id, campaign.cpm_range.min_cpm, campaign.cpm_range.max_cpm, count
    )
    rows = []
    for n in range(count):
        views = rng.randint(10, 150) * 1000
        engagement = Decimal(rng.randint(10, 80)) / 10
        flex = tracker.get_flexibility(engagement)
        opening = max(rate_for_cpm(views, campaign.cpm_range.min_cpm), Decimal("500.00"))
        ceiling = max(rate_for_cpm(views, flex.max_allowed_cpm), opening)
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        rows.append(
            FlexibilityRow(
                name=name,
                email=f"creator{offset + n}@gmail.com",
                platform=campaign.platform,
                average_views=views,
                engagement_rate=engagement,
                floor_cpm=campaign.cpm_range.min_cpm,
                max_allowed_cpm=flex.max_allowed_cpm,
                opening_rate=opening,
                ceiling_rate=ceiling,
                reason=flex.reason,
                manager_emails=(_MANAGER_EMAIL,),  # the talent-manager persona writes from it
            )
        )
    return rows


def _person(row: FlexibilityRow, rng: random.Random) -> SimulatedInfluencer:
    personas = [p for p in PERSONA_WEIGHTS if p is not Persona.GHOST]  # everyone answers
    persona = rng.choices(personas, weights=[PERSONA_WEIGHTS[p] for p in personas])[0]
    person = SimulatedInfluencer(
        persona=persona,
        name=row.name,
        email=row.email,
        reservation=quantize_cents(row.ceiling_rate * Decimal(rng.randint(60, 130)) / 100),
        followers=row.average_views * rng.randint(3, 12),
        rng=random.Random(rng.random()),
    )
    if persona is Persona.TALENT_MANAGER:
        person.manager_name, person.agency = "Jordan Miles", "Bright Talent"
        person.manager_email = _MANAGER_EMAIL
    return person


def _reply_bytes(person: SimulatedInfluencer, text: str, ours_id: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = person.sender
    message["To"] = f"{AGENT.name} <{AGENT.address}>"
    message["Subject"] = f"Re: {subject}"
    message["Date"] = email.utils.format_datetime(NOW)
    message["Message-ID"] = email.utils.make_msgid(domain="gmail.com")
    message["In-Reply-To"] = ours_id
    message["References"] = ours_id
    message.set_content(text)
    return message.as_bytes(policy=email.policy.SMTP)


def prepare(store: SQLiteStore, mailbox: Mailbox, replies: int, seed: int, config: EngineConfig):
    """Open every negotiation, deliver the offers, drop one simulated reply per offer."""
    rng = random.Random(seed)
    people: dict[str, SimulatedInfluencer] = {}
    per_campaign = -(-replies // CAMPAIGNS)
    campaigns: dict[str, Campaign] = {}
    for index in range(CAMPAIGNS):
        count = min(per_campaign, replies - index * per_campaign)
        if count <= 0:
            break
        campaign = make_campaign(campaign_id=f"bench-{index}", client_name=f"Client {index}")
        campaigns[campaign.campaign_id] = campaign
        store.campaigns.upsert(
            campaign.campaign_id, client_name=campaign.client_name, status="ok", campaign=campaign
        )
        rows = _rows(campaign, count, rng, index * per_campaign)
        for row in rows:
            people[row.email] = _person(row, rng)
        open_campaign_negotiations(
            store, campaign.campaign_id, config, rows=rows, sender=AGENT, now=NOW
        )
    deliver_pending(store, mailbox)
    for campaign_id, campaign in campaigns.items():
        for stored in store.states.list_for_campaign(campaign_id):
            (ours,) = store.outbox.for_thread(stored.thread_id)
            offer = OutgoingEmail(ours.to_addr, ours.subject, ours.body, EmailKind.OPENING)
            person = people[ours.to_addr]
            text = person.answer(offer, load_negotiation(stored), campaign)
            assert text is not None
            mailbox.append_to_inbox(_reply_bytes(person, text, ours.message_id, ours.subject))
    return people


def measure(store: SQLiteStore, mailbox: Mailbox, replies: int, config: EngineConfig) -> dict:
    started = time.perf_counter()
    result = advance_negotiations(
        store,
        mailbox,
        config,
        mailbox_name="bench",
        agent_addresses=[AGENT.address],
        now=NOW,
        limit=replies + 10,
    )
    seconds = time.perf_counter() - started
    handled = result.processed + result.skipped + result.unmatched + result.quarantined
    states = Counter(
        stored.state.value
        for index in range(CAMPAIGNS)
        for stored in store.states.list_for_campaign(f"bench-{index}")
    )
    return {
        "replies": replies,
        "processed": result.processed,
        "unmatched": result.unmatched,
        "skipped": result.skipped,
        "quarantined": result.quarantined,
        "emails_sent": result.delivery.sent,
        "delivery_failures": len(result.delivery.failed),
        "seconds": round(seconds, 3),
        "replies_per_second": round(handled / seconds, 1),
        "states_after": dict(sorted(states.items())),
        "events": len(result.events),
    }


@contextmanager
def maildir_workspace(root: Path) -> Iterator[tuple[SQLiteStore, Mailbox]]:
    (root / "mail").mkdir(parents=True)
    yield SQLiteStore(root / "negotiation.db"), MaildirMailbox(root / "mail", AGENT)


@contextmanager
def dovecot_workspace(root: Path) -> Iterator[tuple[SQLiteStore, Mailbox]]:
    from tests.servers.dovecot import running_dovecot
    from tests.servers.smtp import running_smtp

    # aiosmtpd warns on every session that the loopback test server allows AUTH without TLS.
    warnings.filterwarnings("ignore", module="aiosmtpd")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    with running_dovecot({AGENT.address: "agent-secret"}, pool_size=0) as dovecot:
        account = dovecot.account(AGENT.address)
        with running_smtp() as smtp:
            reader = ImapReader(account.imap_config())
            mailbox = ImapSmtpMailbox(reader, SmtpSender(smtp.smtp_config(), AGENT))
            with reader.connected():  # one IMAP login for the whole run
                yield SQLiteStore(root / "negotiation.db"), mailbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dovecot", action="store_true", help="loopback Dovecot + aiosmtpd")
    args = parser.parse_args()
    config = load_engine_config()
    workspace = dovecot_workspace if args.dovecot else maildir_workspace
    name = "advance_negotiations " + ("dovecot+smtp" if args.dovecot else "maildir")
    with (
        tempfile.TemporaryDirectory(prefix="bench-advance-") as tmp,
        workspace(Path(tmp)) as (store, mailbox),
    ):
        setup_started = time.perf_counter()
        prepare(store, mailbox, args.replies, args.seed, config)
        setup = time.perf_counter() - setup_started
        summary = measure(store, mailbox, args.replies, config)
    summary["setup_seconds_not_timed"] = round(setup, 1)
    print(json.dumps(summary, indent=2), file=sys.stderr)
    rate = float(summary["replies_per_second"])
    target = f">= {TARGET_PER_SECOND:.0f}/s" if not args.dovecot else ""
    emit(
        f"{name}: {args.replies} replies",
        rate,
        "replies/s",
        target=target,
        ok=rate >= TARGET_PER_SECOND if not args.dovecot else None,
        digits=1,
    )
    print(json.dumps({"bench": name, "replies": args.replies, "replies_per_second": rate}))


if __name__ == "__main__":
    main()
