"""Our Message-IDs: an HMAC of the outbox key under the installation's secret.

Unguessable from outside (two installations give different ids for the same email, and the id
says nothing about the campaign or the influencer), stable inside one installation (the same
email always gets the same id, so a crash never sends twice), and the secret itself shows up
nowhere: not in logs, audit rows, outbox rows or the mail we send.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from negotiation_pipeline.definitions import build_resources
from negotiation_pipeline.defs.shared.resources import NegotiationStoreResource
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, NegotiationStore, SQLiteStore, open_store
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import (
    keyed_message_id,
    next_message_id,
    thread_id_for,
)
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.workflow.opened_threads import open_threads
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    open_mailbox,
    reply_to,
    sent_by_recipient,
)

SECRET = "an-operator-chosen-secret-of-enough-length-0123456789"
JANE = thread_id_for("cmp-1", "jane@gmail.com")


def _opening_id(store: NegotiationStore) -> str:
    (thread_id,) = open_threads(store)
    (opening,) = store.outbox.for_thread(thread_id)
    return opening.message_id


def test_two_installations_give_the_same_email_different_ids(tmp_path: Path) -> None:
    first = _opening_id(SQLiteStore(tmp_path / "one.db"))
    second = _opening_id(SQLiteStore(tmp_path / "two.db"))

    assert first != second
    for message_id in (first, second):
        assert message_id.endswith(f"@{AGENT.domain}>")
        # Nothing in it says which campaign, thread or influencer it belongs to.
        assert "cmp-1" not in message_id and "jane" not in message_id.lower()


def test_one_installation_gives_the_same_email_the_same_id(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "n.db")
    opening = _opening_id(store)
    key = store.installation.message_id_secret()
    assert opening == keyed_message_id(key, JANE, 0, AGENT.domain)
    store.close()

    reopened = SQLiteStore(tmp_path / "n.db")  # a restarted process
    for _ in range(2):  # a transaction retried after a crash computes the same next id
        with reopened.transaction() as uow:
            assert next_message_id(uow, JANE, AGENT.domain) == keyed_message_id(
                key, JANE, 1, AGENT.domain
            )
    assert keyed_message_id(key, JANE, 1, AGENT.domain) != keyed_message_id(
        key, JANE, 2, AGENT.domain
    )


def test_a_configured_secret_is_used_by_the_store_and_by_open_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = SQLiteStore(tmp_path / "a.db", message_id_secret=SECRET)
    assert _opening_id(configured) == keyed_message_id(SECRET.encode(), JANE, 0, AGENT.domain)

    monkeypatch.setenv("NEGOTIATION_MESSAGE_ID_SECRET", SECRET)
    from_env = open_store(tmp_path / "b.db")
    assert _opening_id(from_env) == keyed_message_id(SECRET.encode(), JANE, 0, AGENT.domain)


def test_the_dagster_store_resource_binds_the_secret_from_the_environment() -> None:
    env = {"NEGOTIATION_DB": "/tmp/x/n.db", "NEGOTIATION_MESSAGE_ID_SECRET": SECRET}
    store = build_resources(env)["store"]
    assert isinstance(store, NegotiationStoreResource)
    assert SECRET not in repr(store)  # an EnvVar, resolved at run time only
    unset = build_resources({"NEGOTIATION_DB": "/tmp/x/n.db"})["store"]
    assert isinstance(unset, NegotiationStoreResource) and unset.message_id_secret == ""


@pytest.mark.parametrize("configured", [None, SECRET], ids=["stored", "configured"])
def test_the_secret_never_reaches_logs_audit_outbox_or_mail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, configured: str | None
) -> None:
    caplog.set_level(logging.DEBUG)
    store = SQLiteStore(tmp_path / "n.db", message_id_secret=configured)
    mailbox: MaildirMailbox = open_mailbox(tmp_path / "mail")
    (thread_id,) = open_threads(store, mailbox=mailbox)
    (offer,) = sent_by_recipient(mailbox)["jane@gmail.com"]
    mailbox.append_to_inbox(reply_to(offer, "My rate would be $1,500."))
    advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address],
        now=NOW,
    )
    deliver_pending(store, mailbox)

    key = store.installation.message_id_secret()
    forms = {key.hex(), key.hex().upper()}
    if configured is not None:
        forms.add(configured)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    audit = json.dumps(
        [e.model_dump(mode="json") for e in store.audit.query(AuditQuery(limit=1000))]
    )
    outbox = repr(store.outbox.for_thread(thread_id))
    mail = b"".join(mailbox.sent_messages()).decode("utf-8", "replace")
    assert len(store.outbox.for_thread(thread_id)) == 2  # the offer and our counter
    for form in forms:
        for place, text in (("log", logged), ("audit", audit), ("outbox", outbox), ("mail", mail)):
            assert form not in text, f"the secret is in the {place}"
