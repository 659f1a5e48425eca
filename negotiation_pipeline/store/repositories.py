"""The audit, negotiation-state, campaign and agreement repositories of base.py, written once for
SQLite and PostgreSQL. The others have modules of their own (inbound.py, outbox.py,
notifications.py, mail_cursors.py, asset_repository.py); unit_of_work.py puts them together.

A repository runs each call in `scope(write)`: the store's own short transaction, or the open
transaction of a unit of work (see base.py). Backend differences go through the `Dialect`
(dialect.py); row decoding and parameter encoding are in rows.py. Statements are composed from
constant column lists and dialect markers only, once per dialect (`functools.cache`); values
always go through placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.negotiation.state_machine import NegotiationStateMachine
from negotiation_pipeline.domain.redaction import redact_data
from negotiation_pipeline.store import codec
from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.audit_filters import AuditQuery, audit_where
from negotiation_pipeline.store.dialect import Dialect, quoted
from negotiation_pipeline.store.records import (
    Agreement,
    CampaignRecord,
    Controller,
    NegotiationSummary,
    StoredNegotiation,
)
from negotiation_pipeline.store.schema import LIVE_NEGOTIATION, SUMMARY_COLUMNS
from negotiation_pipeline.store.sql_repository import SqlRepository

_SUMMARY_SELECT = ", ".join(SUMMARY_COLUMNS)


# --- audit -------------------------------------------------------------------------------------
@cache
def _audit_sql(d: Dialect) -> tuple[str, str]:
    """(insert one row, select) for the audit log."""
    names = row_codec.AUDIT_COLUMN_NAMES
    columns = quoted(names)
    marks = ", ".join(d.mark + (d.written_json_cast if n == "metadata" else "") for n in names)
    insert = f"INSERT INTO audit_log ({columns}) VALUES ({marks}){d.returning_id}"  # noqa: S608
    return insert, f"SELECT id, {columns} FROM audit_log"  # noqa: S608


class SqlAuditLog(SqlRepository):
    def insert(self, entry: AuditEntry) -> int:
        """Write one entry; returns its id. Timestamp = entry.timestamp or now (UTC, µs)."""
        insert, _ = _audit_sql(self._dialect)
        with self._scope(True) as conn:
            cursor = conn.execute(insert, self._row(entry, self._dialect.now()))
            return self._dialect.inserted_id(cursor)

    def insert_many(self, entries: Iterable[AuditEntry]) -> int:
        """Batch path: one transaction, the dialect's bulk insert; returns the number written."""
        with self._scope(True) as conn:
            now = self._dialect.now()
            rows = (self._row(entry, now) for entry in entries)
            return self._dialect.bulk_insert(conn, "audit_log", row_codec.AUDIT_COLUMN_NAMES, rows)

    def query(self, query: AuditQuery) -> list[AuditEntry]:
        """Newest first; every filter of `query` ANDed together."""
        d = self._dialect
        where, params = audit_where(query, d.mark, d.timestamp)
        # id breaks ties between equal timestamps. Every audit index ends in (timestamp, id)
        # (SQLite's rowid is id), so the rows come in this order from one index scan, no sort.
        sql = f'{_audit_sql(d)[1]}{where} ORDER BY "timestamp" DESC, id DESC LIMIT {d.mark}'
        with self._scope(False) as conn:
            found = conn.execute(sql, [*params, query.limit]).fetchall()
        return [row_codec.audit_entry_from_row(row) for row in found]

    def _row(self, entry: AuditEntry, default_time: Any) -> tuple[Any, ...]:
        stamp = (
            default_time
            if entry.timestamp is None
            else self._dialect.trusted_timestamp(entry.timestamp)
        )
        # Error texts and details may quote URLs with keys; the email body is evidence, kept as is.
        redacted = entry.model_copy(update={"metadata": redact_data(entry.metadata)})
        return row_codec.audit_values(redacted, stamp)


# --- negotiation state -------------------------------------------------------------------------
@cache
def _state_upsert(d: Dialect) -> str:
    p, j = d.param, d.json_param
    empty_json = "'{}'" + d.json_cast
    return f"""
INSERT INTO negotiation_state (
    thread_id, state, round_count, context_json, campaign_json, cpm_tracker_json, history_json,
    created_at, updated_at, campaign_id, influencer_name, influencer_email, pre_pause_state,
    lever_state_json, controlled_by, agency_name
) VALUES (
    {p("thread_id")}, {p("state")}, {p("round_count")}, {j("context_json")},
    {j("campaign_json")}, {j("cpm_tracker_json")}, {j("history_json")}, {p("now")}, {p("now")},
    {p("campaign_id")}, {p("influencer_name")}, {p("influencer_email")}, {p("pre_pause_state")},
    COALESCE({j("lever_state_json")}, {empty_json}), COALESCE({p("controlled_by")}, 'agent'),
    {p("agency_name")}
)
ON CONFLICT (thread_id) DO UPDATE SET
    state = excluded.state,
    round_count = excluded.round_count,
    context_json = excluded.context_json,
    campaign_json = excluded.campaign_json,
    cpm_tracker_json = excluded.cpm_tracker_json,
    history_json = excluded.history_json,
    updated_at = excluded.updated_at,
    campaign_id = excluded.campaign_id,
    pre_pause_state = excluded.pre_pause_state,
    influencer_name = COALESCE({p("influencer_name")}, negotiation_state.influencer_name),
    influencer_email = COALESCE({p("influencer_email")}, negotiation_state.influencer_email),
    lever_state_json = COALESCE({j("lever_state_json")}, negotiation_state.lever_state_json),
    controlled_by = COALESCE({p("controlled_by")}, negotiation_state.controlled_by),
    agency_name = COALESCE({p("agency_name")}, negotiation_state.agency_name)
"""  # noqa: S608


class SqlStates(SqlRepository):
    """Seed 09-01 names: save / load / load_active / delete, plus lookups the CLI needs."""

    def save(
        self,
        thread_id: str,
        state_machine: NegotiationStateMachine,
        context: Mapping[str, Any],
        campaign: Campaign,
        cpm_tracker_data: Mapping[str, Any],
        round_count: int,
        *,
        influencer_name: str | None = None,
        influencer_email: str | None = None,
        lever_state: Mapping[str, Any] | None = None,
        controlled_by: Controller | str | None = None,
        agency_name: str | None = None,
    ) -> None:
        """Insert or update; created_at is kept. Optional fields left None keep their value."""
        params = row_codec.state_save_params(
            thread_id, state_machine, context, campaign, cpm_tracker_data, round_count,
            now=self._dialect.now(), influencer_name=influencer_name,
            influencer_email=influencer_email, lever_state=lever_state,
            controlled_by=controlled_by, agency_name=agency_name,
        )  # fmt: skip
        with self._scope(True) as conn:
            conn.execute(_state_upsert(self._dialect), params)

    def load(self, thread_id: str) -> StoredNegotiation | None:
        found = self._select(f"WHERE thread_id = {self._dialect.mark}", (thread_id,))
        return found[0] if found else None

    def load_active(self, campaign_id: str | None = None) -> list[NegotiationSummary]:
        """Non-terminal negotiations (not agreed/rejected/stopped), optionally of one campaign,
        oldest first. Read from the live-rows index: the cost follows the live rows, not the
        finished history."""
        if campaign_id is None:
            return self._summaries(f"WHERE {LIVE_NEGOTIATION}", ())
        where = f"WHERE campaign_id = {self._dialect.mark} AND {LIVE_NEGOTIATION}"
        return self._summaries(where, (campaign_id,))

    def load_by_email(self, email: str) -> list[NegotiationSummary]:
        """Every negotiation with this influencer email (case-insensitive), newest first."""
        where = f"WHERE {self._dialect.ci_equals('influencer_email')}"
        return self._summaries(where, (email.strip(),), "updated_at DESC, thread_id")

    def load_by_agency(self, agency_name: str) -> list[NegotiationSummary]:
        where = f"WHERE {self._dialect.ci_equals('agency_name')}"
        return self._summaries(where, (agency_name.strip(),), "updated_at DESC, thread_id")

    def summaries_for_campaign(self, campaign_id: str) -> list[NegotiationSummary]:
        """A campaign's negotiations, oldest first, without decoding their JSON columns."""
        return self._summaries(f"WHERE campaign_id = {self._dialect.mark}", (campaign_id,))

    def list_for_campaign(self, campaign_id: str) -> list[StoredNegotiation]:
        """A campaign's negotiations, oldest first, whole (context, campaign, history...)."""
        return self._select(f"WHERE campaign_id = {self._dialect.mark}", (campaign_id,))

    def set_controlled_by(self, thread_id: str, controlled_by: Controller | str) -> bool:
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE negotiation_state SET controlled_by = {d.mark}, updated_at = {d.mark} "  # noqa: S608
                f"WHERE thread_id = {d.mark}",
                (Controller(controlled_by).value, d.now(), thread_id),
            )
            return cursor.rowcount > 0

    def set_followup_not_before(self, thread_id: str, moment: datetime | None) -> bool:
        """Hold the thread's follow-up until `moment` (aware), or release it (None). Saving the
        negotiation keeps this value; only this call changes it."""
        d = self._dialect
        stored = None if moment is None else d.timestamp(moment)
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE negotiation_state SET followup_not_before = {d.mark}, "  # noqa: S608
                f"updated_at = {d.mark} WHERE thread_id = {d.mark}",
                (stored, d.now(), thread_id),
            )
            return cursor.rowcount > 0

    def delete(self, thread_id: str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"DELETE FROM negotiation_state WHERE thread_id = {self._dialect.mark}",  # noqa: S608
                (thread_id,),
            )
            return cursor.rowcount > 0

    def _select(
        self, where: str, params: Iterable[Any], order: str = "created_at, thread_id"
    ) -> list[StoredNegotiation]:
        # `where` and `order` are fixed strings from this class; values go through params only.
        sql = f"SELECT * FROM negotiation_state {where} ORDER BY {order}"  # noqa: S608
        with self._scope(False) as conn:
            found = conn.execute(sql, tuple(params)).fetchall()
        campaigns: dict[str, Campaign] = {}
        return [row_codec.negotiation_from_row(row, campaigns) for row in found]

    def _summaries(
        self, where: str, params: Iterable[Any], order: str = "created_at, thread_id"
    ) -> list[NegotiationSummary]:
        sql = f"SELECT {_SUMMARY_SELECT} FROM negotiation_state {where} ORDER BY {order}"  # noqa: S608
        with self._scope(False) as conn:
            found = conn.execute(sql, tuple(params)).fetchall()
        return [row_codec.summary_from_row(row) for row in found]


# --- campaigns ---------------------------------------------------------------------------------
@cache
def _campaign_upsert(d: Dialect) -> str:
    p, j = d.param, d.json_param
    return f"""
INSERT INTO campaigns (campaign_id, client_name, task_date_updated, campaign_json,
    cpm_tracker_json, status, created_at, updated_at)
VALUES ({p("campaign_id")}, {p("client_name")}, {p("task_date_updated")}, {j("campaign_json")},
    {j("cpm_tracker_json")}, {p("status")}, {p("now")}, {p("now")})
ON CONFLICT (campaign_id) DO UPDATE SET
    client_name = excluded.client_name,
    status = excluded.status,
    task_date_updated = COALESCE(excluded.task_date_updated, campaigns.task_date_updated),
    campaign_json = COALESCE(excluded.campaign_json, campaigns.campaign_json),
    cpm_tracker_json = COALESCE(excluded.cpm_tracker_json, campaigns.cpm_tracker_json),
    updated_at = excluded.updated_at
"""  # noqa: S608


class SqlCampaigns(SqlRepository):
    def upsert(
        self,
        campaign_id: str,
        *,
        client_name: str,
        status: str,
        task_date_updated: int | None = None,
        campaign: Campaign | None = None,
        cpm_tracker_data: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert or update (created_at kept); campaign/tracker left None keep stored values."""
        params = row_codec.campaign_upsert_params(
            campaign_id, client_name=client_name, status=status,
            task_date_updated=task_date_updated, campaign=campaign,
            cpm_tracker_data=cpm_tracker_data, now=self._dialect.now(),
        )  # fmt: skip
        with self._scope(True) as conn:
            conn.execute(_campaign_upsert(self._dialect), params)

    def get(self, campaign_id: str) -> CampaignRecord | None:
        with self._scope(False) as conn:
            row = conn.execute(
                f"SELECT * FROM campaigns WHERE campaign_id = {self._dialect.mark}",  # noqa: S608
                (campaign_id,),
            ).fetchone()
        return None if row is None else row_codec.campaign_from_row(row)

    def list_campaigns(self, status: str | None = None) -> list[CampaignRecord]:
        d = self._dialect
        order = f"ORDER BY created_at, {d.tiebreak('campaigns')}"
        with self._scope(False) as conn:
            if status is None:
                found = conn.execute(f"SELECT * FROM campaigns {order}").fetchall()  # noqa: S608
            else:
                found = conn.execute(
                    f"SELECT * FROM campaigns WHERE status = {d.mark} {order}",  # noqa: S608
                    (status,),
                ).fetchall()
        return [row_codec.campaign_from_row(row) for row in found]

    def set_status(self, campaign_id: str, status: str) -> bool:
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE campaigns SET status = {d.mark}, updated_at = {d.mark} "  # noqa: S608
                f"WHERE campaign_id = {d.mark}",
                (status, d.now(), campaign_id),
            )
            return cursor.rowcount > 0

    def set_cpm_tracker(self, campaign_id: str, cpm_tracker_data: Mapping[str, Any]) -> bool:
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE campaigns SET cpm_tracker_json = {d.mark}{d.json_cast}, "  # noqa: S608
                f"updated_at = {d.mark} WHERE campaign_id = {d.mark}",
                (codec.dumps_plain(dict(cpm_tracker_data)), d.now(), campaign_id),
            )
            return cursor.rowcount > 0


# --- agreements --------------------------------------------------------------------------------
class SqlAgreements(SqlRepository):
    def record(self, agreement: Agreement) -> bool:
        """Store the agreed deal for a thread. False = that thread already has one (kept)."""
        d = self._dialect
        stamp = d.timestamp(agreement.agreed_at) if agreement.agreed_at else d.now()
        engagement = agreement.engagement_rate
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"""INSERT INTO agreements (thread_id, campaign_id, influencer_name, rate, cpm,
                       engagement_rate, agreed_at, package_json)
                   VALUES ({d.marks(7)}, {d.mark}{d.json_cast})
                   ON CONFLICT (thread_id) DO NOTHING""",  # noqa: S608
                (
                    agreement.thread_id,
                    agreement.campaign_id,
                    agreement.influencer_name,
                    d.money(row_codec.require_money(agreement.rate)),
                    d.money(row_codec.require_money(agreement.cpm)),
                    None if engagement is None else d.money(engagement),
                    stamp,
                    None
                    if agreement.package is None
                    else codec.dumps_plain(dict(agreement.package)),
                ),
            )
            return cursor.rowcount == 1

    def for_campaign(self, campaign_id: str) -> list[Agreement]:
        """A campaign's agreements in the order they were made (to rebuild the CPM tracker)."""
        with self._scope(False) as conn:
            found = conn.execute(
                f"SELECT * FROM agreements WHERE campaign_id = {self._dialect.mark} "  # noqa: S608
                "ORDER BY agreed_at, thread_id",
                (campaign_id,),
            ).fetchall()
        return [row_codec.agreement_from_row(row) for row in found]
