"""The second opinion as Dagster wires it: bound only when LLM_API_URL is set, its key read
through dg.EnvVar, and advance_negotiations_job asking it for a low-confidence reply (a real
test instance, the real SQLite store and sandbox Maildir, the loopback chat-completions fake)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.negotiations.jobs import ADVANCE_OP
from negotiation_pipeline.defs.shared.resources import (
    SANDBOX_AGENT_EMAIL,
    ChatCompletionsSecondOpinionResource,
    SecondOpinionResource,
)
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.llm import IntentOpinionClient, LlmConfigError
from negotiation_pipeline.integrations.mail import MaildirMailbox, SenderIdentity
from negotiation_pipeline.settings.files import packaged_config_dir
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import list_new_mail
from tests.fakes.llm_server import LlmFake, llm_fake
from tests.workflow.support import (
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
    stored_campaign,
)

__all__ = ["llm_fake"]

JANE = "jane@gmail.com"


def test_nobody_is_asked_unless_llm_api_url_is_set() -> None:
    resource = build_resources({"LLM_MODEL": "gpt-x", "LLM_API_KEY": "sk-x"})["second_opinion"]
    assert type(resource) is SecondOpinionResource
    with resource.open() as ask:
        assert ask is None


def test_the_endpoint_is_bound_with_its_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "LLM_API_URL": "https://llm.example.test/v1",
        "LLM_MODEL": "gpt-x",
        "LLM_API_KEY": "sk-secret-value-123",
    }
    monkeypatch.setenv("LLM_API_KEY", env["LLM_API_KEY"])
    resource = build_resources(env)["second_opinion"]
    assert isinstance(resource, ChatCompletionsSecondOpinionResource)
    assert (resource.api_url, resource.model) == ("https://llm.example.test/v1", "gpt-x")
    assert "sk-secret-value-123" not in repr(resource)
    dg.Definitions.validate_loadable(build_definitions(env))
    with dg.build_resources({"second_opinion": resource}) as initialized:
        assert initialized.second_opinion.api_key == "sk-secret-value-123"
        with initialized.second_opinion.open() as ask:
            assert isinstance(ask, IntentOpinionClient)


def test_llm_settings_without_a_model_are_refused_by_name() -> None:
    with pytest.raises(LlmConfigError, match="LLM_MODEL"):
        build_resources({"LLM_API_URL": "https://llm.example.test/v1"})


def _config_dir(tmp_path: Path) -> Path:
    """A copy of config/ whose threshold is above the reader's highest confidence."""
    target = tmp_path / "config"
    shutil.copytree(packaged_config_dir(), target)
    policy = target / "negotiation_policy.yaml"
    text = re.sub(
        r"^confidence_threshold:.*$", "confidence_threshold: 0.98", policy.read_text(), flags=re.M
    )
    policy.write_text(text)
    return target


def test_advance_job_asks_the_bound_endpoint_about_an_unclear_reply(
    instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    llm_fake: LlmFake,
) -> None:
    env = sandbox_env | {
        "LLM_API_URL": llm_fake.api_url,
        "LLM_MODEL": llm_fake.model,
        "LLM_API_KEY": llm_fake.api_key,
        "NEGOTIATION_CONFIG_DIR": str(_config_dir(tmp_path)),
    }
    for name in ("LLM_API_KEY", "NEGOTIATION_CONFIG_DIR"):
        monkeypatch.setenv(name, env[name])
    defs = build_definitions(env)
    db_path = Path(env["NEGOTIATION_DB"])
    store = SQLiteStore(db_path)
    (db_path.parent / "maildir").mkdir(parents=True)
    mailbox = MaildirMailbox(db_path.parent / "maildir", SenderIdentity(SANDBOX_AGENT_EMAIL))
    stored_campaign(store)
    open_campaign_negotiations(
        store, "cmp-1", engine_config(), rows=[flex_row()], sender=mailbox.sender, now=NOW
    )
    deliver_pending(store, mailbox)
    (opening,) = sent_by_recipient(mailbox)[JANE]
    mailbox.append_to_inbox(reply_to(opening, "Alright, I'm game. Let's roll with it!"))
    llm_fake.answer_content('{"intent": "accept"}')
    batch = list_new_mail(store, mailbox, "sandbox-maildir")

    result = defs.resolve_job_def("advance_negotiations_job").execute_in_process(
        run_config={"ops": {ADVANCE_OP: {"config": {"uidvalidity": batch.uidvalidity,
                                                   "uids": list(batch.uids)}}}},
        instance=instance,
    )  # fmt: skip

    assert result.success
    assert len(llm_fake.requests) == 1
    assert llm_fake.requests[0].headers["authorization"] == f"Bearer {llm_fake.api_key}"
    thread = thread_id_for("cmp-1", JANE)
    stored = store.states.load(thread)
    assert stored is not None and stored.state is NegotiationState.AGREED
    (received,) = store.audit.query(
        AuditQuery(thread_id=thread, event_type=EventType.EMAIL_RECEIVED)
    )
    assert received.metadata is not None and received.metadata["second_opinion"]["adopted"]
    logged = " ".join(str(entry.user_message) for entry in instance.all_logs(result.run_id))
    assert logged and llm_fake.api_key not in logged
