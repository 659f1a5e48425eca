"""The stored format of the domain's records does not change with the record codec.

`fixtures/stored_records.json` holds, for every record of `record_corpus`, the dict the
hand-written `to_dict` methods wrote before the codec, the JSON text of it, and the record
itself (pickled). The codec must write the same JSON for the same record, and read each stored
dict back to an equal record. Records written before later fields existed still load.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import pickle
from typing import Any

import pytest

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker
from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.domain.negotiation.emails import EmailDecision, OutgoingEmail
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.domain.negotiation.held import decision_from_dict, decision_to_dict
from negotiation_pipeline.domain.record_codec import RecordError
from tests.domain.record_corpus import FIXTURE, corpus

STORED: dict[str, dict[str, Any]] = json.loads(FIXTURE.read_text())
CASES = sorted(STORED)
EMAIL_KEYS = [f.name for f in dataclasses.fields(OutgoingEmail)]


def _record(name: str) -> Any:
    return pickle.loads(base64.b64decode(STORED[name]["record"]))  # our own fixture


def _class(name: str) -> type:
    module, _, qualname = STORED[name]["kind"].rpartition(".")
    found: type = getattr(importlib.import_module(module), qualname)
    return found


def _write(record: Any) -> dict[str, Any]:
    if isinstance(record, EmailDecision):
        return decision_to_dict(record)
    written: dict[str, Any] = record.to_dict()
    return written


def _read(cls: type, data: dict[str, Any]) -> Any:
    if cls is EmailDecision:
        return decision_from_dict(data)
    return cls.from_dict(data)  # type: ignore[attr-defined]


def _in_field_order(value: Any) -> Any:
    """The old JSON text with a held email's keys in its field order (the codec writes every
    record's keys in field order; the hand-written email dict put `to_name` second)."""
    if isinstance(value, dict):
        keys = list(value)
        if sorted(keys) == sorted(EMAIL_KEYS):
            keys = EMAIL_KEYS
        return {k: _in_field_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_in_field_order(v) for v in value]
    return value


def test_the_fixture_covers_every_record_the_corpus_builds() -> None:
    assert set(STORED) == set(corpus())
    kinds = {STORED[name]["kind"].rpartition(".")[2] for name in STORED}
    assert kinds >= {
        "Negotiation",
        "InfluencerTerms",
        "ScenarioPrice",
        "AgreedPackage",
        "LeverState",
        "HeldDraft",
        "ReplyThreading",
        "EmailDecision",
        "CampaignCPMTracker",
        "ResolutionResult",
    }


@pytest.mark.parametrize("name", CASES)
def test_the_codec_writes_what_was_written_before_for_the_same_record(name: str) -> None:
    new = _write(_record(name))
    old = STORED[name]["stored"]
    assert json.dumps(new, sort_keys=True, ensure_ascii=False) == json.dumps(
        old, sort_keys=True, ensure_ascii=False
    )
    old_text = json.dumps(_in_field_order(json.loads(STORED[name]["text"])), ensure_ascii=False)
    assert json.dumps(new, ensure_ascii=False) == old_text


@pytest.mark.parametrize("name", [n for n in CASES if "resolution_result" not in n])
def test_what_was_written_before_reads_back_to_the_same_record(name: str) -> None:
    cls, record = _class(name), _record(name)
    back = _read(cls, json.loads(json.dumps(STORED[name]["stored"])))
    if cls is CampaignCPMTracker:  # no equality of its own: compare what it holds
        held = ("campaign_id", "target_min_cpm", "target_max_cpm", "total_influencers")
        assert [getattr(back, a) for a in held] == [getattr(record, a) for a in held]
        assert back.agreements == record.agreements
    else:
        assert back == record
    assert json.dumps(_write(back), sort_keys=True) == json.dumps(
        STORED[name]["stored"], sort_keys=True
    )


@pytest.mark.parametrize("name", sorted(corpus()))
def test_records_the_engine_builds_today_round_trip_through_json(name: str) -> None:
    record, write = corpus()[name]
    data = json.loads(json.dumps(write(record)))
    if isinstance(record, CampaignCPMTracker | EmailDecision) or "resolution" in name:
        assert json.dumps(write(record)) == json.dumps(data)
        return
    assert type(record).from_dict(data) == record  # type: ignore[attr-defined]


# --- older stored shapes ----------------------------------------------------------------------
def _stored_negotiation(name: str = "negotiation_countered") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(STORED[name]["stored"]))
    return data


def test_asks_stored_as_pairs_before_the_lever_count_read_with_a_count_of_zero() -> None:
    data = _stored_negotiation("negotiation_levers_used")
    data["asks"] = [ask[:2] for ask in data["asks"]]
    back = Negotiation.from_dict(data)
    assert [n for _, _, n in back.asks] == [0] * len(data["asks"])
    assert [str(a) for a, _, _ in back.asks] == [ask[0] for ask in data["asks"]]


def test_a_record_from_a_version_one_store_loads() -> None:
    data = _stored_negotiation()
    for key in ("asks", "said", "recipient_name", "agreed_package", "held", "resolutions"):
        data.pop(key)
    for key in ("scenarios", "manager_emails"):
        data["terms"].pop(key)
    back = Negotiation.from_dict(data)
    assert back.asks == () and back.said == () and back.held is None and back.resolutions == ()
    assert back.terms.scenarios == () and back.terms.manager_emails == ()
    assert back.our_last_offer == _record("negotiation_countered").our_last_offer


@pytest.mark.parametrize("key", ["state", "history", "round_count", "levers", "counterparty_type"])
def test_fields_every_version_wrote_must_be_present(key: str) -> None:
    data = _stored_negotiation()
    del data[key]
    with pytest.raises(RecordError, match=rf"^Negotiation: missing field '{key}'$"):
        Negotiation.from_dict(data)


def test_a_nested_problem_names_the_path_from_the_negotiation() -> None:
    data = _stored_negotiation("negotiation_held_for_approval")
    data["held"]["after"]["terms"]["scenarios"] = [{"scenario": 1}]
    data["held"]["decision"]["kind"] = "telegram"
    with pytest.raises(RecordError, match=r"field 'held\.decision\.kind': 'telegram' is not"):
        Negotiation.from_dict(data)
    data = _stored_negotiation("negotiation_held_for_approval")
    data["held"]["after"]["terms"]["floor_rate"] = 1000.0
    with pytest.raises(RecordError, match=r"field 'held\.after\.terms\.floor_rate': float 1000\.0"):
        Negotiation.from_dict(data)


def test_a_held_draft_without_email_keeps_its_defaults() -> None:
    data = {"purpose": "escalation", "held_at": "2026-03-02T09:00:00+00:00"}
    draft = _class("draft_note_only").from_dict(data)  # type: ignore[attr-defined]
    assert (draft.action, draft.email, draft.decision, draft.after, draft.reason) == (
        None, None, None, None, "",
    )  # fmt: skip
    note = {"reason": "currency", "detail": None}
    held = _class("draft_note_only").from_dict({**data, "escalation": note})  # type: ignore[attr-defined]
    assert (held.escalation.detail, held.escalation.suggested_action) == ("", "")
    assert held.escalation.their_ask is None


def test_a_decision_must_say_its_amounts() -> None:
    data = _stored_negotiation("negotiation_held_for_approval")["held"]["decision"]
    del data["rate"]
    with pytest.raises(RecordError, match=r"^EmailDecision: missing field 'rate'$"):
        decision_from_dict(data)
    data["rate"] = None
    assert decision_from_dict(data).rate is None


def test_a_paused_record_still_needs_the_state_it_was_paused_in() -> None:
    data = _stored_negotiation("negotiation_paused")
    assert data["state"] == NegotiationState.PAUSED.value
    data["pre_pause_state"] = None
    restored = Negotiation.from_dict(data)
    with pytest.raises(ValueError, match="paused in"):
        restored.machine()


# --- the codec's rules name real records ------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(record_codec.RULES))
def test_every_rule_names_a_record_and_its_fields(kind: str) -> None:
    module, _, qualname = kind.rpartition(".")
    cls = getattr(importlib.import_module(module), qualname)
    names = {f.name for f in dataclasses.fields(cls)}
    assert set(record_codec.RULES[kind]) <= names
    assert all(rule.why for rule in record_codec.RULES[kind].values())


@pytest.mark.parametrize("name", sorted(record_codec.DEFERRED_NAMES))
def test_every_deferred_name_is_found_where_the_codec_looks(name: str) -> None:
    module = importlib.import_module(record_codec.DEFERRED_NAMES[name])
    assert dataclasses.is_dataclass(getattr(module, name))
