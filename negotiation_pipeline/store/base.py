"""The store interface: repository protocols and the unit of work (their records: records.py).

Everything outside `negotiation_pipeline/store/` talks to these protocols, never to sqlite3, so
a PostgreSQL implementation can replace `SQLiteStore` without touching callers.

Every repository method can be called two ways:
- on the store (`store.outbox.pending()`): its own short transaction (writes: BEGIN IMMEDIATE);
- on the unit of work (`with store.transaction() as uow: uow.outbox.add(...)`): part of ONE
  transaction with everything else done through `uow`, committed together or not at all.

`store.transaction()` runs alone among writers, as on SQLite. `store.transaction(exclusive=False)`
may run beside other such transactions where the engine allows it (PostgreSQL): its block
`uow.lock(...)`s each thing it reads and then rewrites (`Lockable`), before reading it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.mail_cursor import MailCursor
from negotiation_pipeline.domain.negotiation.state_machine import NegotiationStateMachine
from negotiation_pipeline.store.audit_filters import AuditQuery
from negotiation_pipeline.store.records import (
    Agreement,
    AllowedSender,
    CampaignRecord,
    Controller,
    HeldMessage,
    InboundMessage,
    InboundStatus,
    MailUid,
    NegotiationSummary,
    Notification,
    NotificationStatus,
    OutboxEmail,
    StoredNegotiation,
)

if TYPE_CHECKING:  # asset_tables.py imports StoreError from here
    from negotiation_pipeline.store.asset_tables import AssetTableRepository


class StoreError(RuntimeError):
    """The store cannot do what was asked (missing file, misuse of transactions...)."""


class StoreNotFoundError(StoreError):
    """The database file does not exist and the caller asked not to create it."""


class Lockable(StrEnum):
    """What a non-exclusive transaction locks for itself (`UnitOfWork.lock`): each names the
    rows a read-then-write of that kind depends on, so two transactions that touch different
    ones run side by side and two that touch the same one take turns."""

    MESSAGE = "message"  # one incoming message key: its inbound row and its held copy
    THREAD = "thread"  # one negotiation: its row, its outbox sequence, its allowed senders
    CAMPAIGN = "campaign"  # one campaign's row (its running CPM tracker)
    MAILBOX = "mailbox"  # one mailbox's cursor and the handled uids above it


class AuditLog(Protocol):
    def insert(self, entry: AuditEntry) -> int: ...

    def insert_many(self, entries: Iterable[AuditEntry]) -> int: ...

    def query(self, query: AuditQuery) -> list[AuditEntry]:
        """Entries matching every filter of `query`, newest first, at most `query.limit`."""
        ...


class StateRepository(Protocol):
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
    ) -> None: ...

    def load(self, thread_id: str) -> StoredNegotiation | None: ...

    def load_active(self, campaign_id: str | None = None) -> list[NegotiationSummary]: ...

    def load_by_email(self, email: str) -> list[NegotiationSummary]: ...

    def load_by_agency(self, agency_name: str) -> list[NegotiationSummary]: ...

    def summaries_for_campaign(self, campaign_id: str) -> list[NegotiationSummary]: ...

    def list_for_campaign(self, campaign_id: str) -> list[StoredNegotiation]: ...

    def set_controlled_by(self, thread_id: str, controlled_by: Controller | str) -> bool: ...

    def set_followup_not_before(self, thread_id: str, moment: datetime | None) -> bool: ...

    def delete(self, thread_id: str) -> bool: ...


class CampaignRepository(Protocol):
    def upsert(
        self,
        campaign_id: str,
        *,
        client_name: str,
        status: str,
        task_date_updated: int | None = None,
        campaign: Campaign | None = None,
        cpm_tracker_data: Mapping[str, Any] | None = None,
    ) -> None: ...

    def get(self, campaign_id: str) -> CampaignRecord | None: ...

    def list_campaigns(self, status: str | None = None) -> list[CampaignRecord]: ...

    def set_status(self, campaign_id: str, status: str) -> bool: ...

    def set_cpm_tracker(self, campaign_id: str, cpm_tracker_data: Mapping[str, Any]) -> bool: ...


class InboundRepository(Protocol):
    def record(
        self,
        message_id: str,
        *,
        status: InboundStatus | str,
        thread_id: str | None = None,
        campaign_id: str | None = None,
        from_addr: str | None = None,
        subject: str | None = None,
        detail: str | None = None,
        received_at: datetime | None = None,
    ) -> bool: ...

    def seen(self, message_id: str, from_addr: str | None = None) -> bool: ...

    def get(self, message_id: str, from_addr: str | None = None) -> InboundMessage | None: ...

    def thread_for(self, message_id: str) -> str | None: ...

    def quarantined(
        self, thread_id: str | None = None, from_addr: str | None = None
    ) -> list[InboundMessage]: ...

    def resolve(
        self, message_id: str, from_addr: str, *, status: InboundStatus | str, detail: str
    ) -> bool: ...

    def hold(
        self, message_id: str, from_addr: str, thread_id: str | None, raw: bytes
    ) -> HeldMessage: ...

    def held(self, message_id: str, from_addr: str) -> HeldMessage | None: ...


class AllowedSenderRepository(Protocol):
    def allow(self, thread_id: str, address: str, address_key: str, *, allowed_by: str) -> bool: ...

    def is_allowed(self, thread_id: str, address_key: str) -> bool: ...

    def threads_with_held(self) -> list[str]: ...

    def for_thread(self, thread_id: str) -> list[AllowedSender]: ...


class OutboxRepository(Protocol):
    def add(self, email: OutboxEmail) -> bool: ...

    def pending(
        self, limit: int | None = None, *, due_at: datetime | None = None
    ) -> list[OutboxEmail]: ...

    def claim(
        self,
        message_id: str,
        owner: str,
        *,
        now: datetime,
        until: datetime,
        due_at: datetime | None = None,
        replacing: str | None = None,
    ) -> OutboxEmail | None: ...

    def release(self, message_id: str, owner: str) -> bool: ...

    def mark_sent(
        self, message_id: str, sent_at: datetime | None = None, *, copy_pending: bool = False
    ) -> bool: ...

    def record_attempt(
        self, message_id: str, error: str, next_attempt_at: datetime
    ) -> int | None: ...

    def mark_failed(self, message_id: str, error: str) -> bool: ...

    def copies_to_file(self, limit: int | None = None) -> list[OutboxEmail]: ...

    def mark_copy_filed(self, message_id: str) -> bool: ...

    def get(self, message_id: str) -> OutboxEmail | None: ...

    def for_thread(self, thread_id: str) -> list[OutboxEmail]: ...


class NotificationRepository(Protocol):
    def add(self, notification: Notification) -> bool: ...

    def deliverable(self, now: datetime, limit: int | None = None) -> list[Notification]: ...

    def claim(self, key: str, now: datetime, until: datetime) -> bool: ...

    def mark_sent(self, key: str, sent_at: datetime | None = None) -> bool: ...

    def record_failure(self, key: str, error: str, *, refused: bool = False) -> bool: ...

    def with_status(
        self, status: NotificationStatus | str, limit: int | None = None
    ) -> list[Notification]: ...

    def pending_count(self) -> int: ...

    def get(self, key: str) -> Notification | None: ...


class InstallationRepository(Protocol):
    def message_id_secret(self) -> bytes: ...


class AgreementRepository(Protocol):
    def record(self, agreement: Agreement) -> bool: ...

    def for_campaign(self, campaign_id: str) -> list[Agreement]: ...


class MailCursorRepository(Protocol):
    def get(self, mailbox: str) -> MailCursor | None: ...

    def set(self, mailbox: str, uidvalidity: int, last_uid: int) -> None: ...

    def note_senders(self, mailbox: str, uidvalidity: int, senders: Mapping[int, str]) -> None: ...

    def mark_handled(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> None: ...

    def uids_between(
        self, mailbox: str, uidvalidity: int, low: int, high: int
    ) -> dict[int, MailUid]: ...

    def handled_among(
        self, mailbox: str, uidvalidity: int, uids: Iterable[int]
    ) -> frozenset[int]: ...

    def forget_handled_through(self, mailbox: str, uidvalidity: int, last_uid: int) -> int: ...


class ViewRefreshRepository(Protocol):
    def request(self, campaign_id: str, reason: str) -> None: ...

    def pending(self) -> list[str]: ...

    def clear(self, campaign_ids: Sequence[str]) -> int: ...


class UnitOfWork(Protocol):
    """Repositories bound to one open transaction (see module docstring)."""

    @property
    def audit(self) -> AuditLog: ...

    @property
    def states(self) -> StateRepository: ...

    @property
    def campaigns(self) -> CampaignRepository: ...

    @property
    def inbound(self) -> InboundRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def agreements(self) -> AgreementRepository: ...

    @property
    def mail_cursors(self) -> MailCursorRepository: ...

    @property
    def notifications(self) -> NotificationRepository: ...

    @property
    def allowed_senders(self) -> AllowedSenderRepository: ...

    @property
    def installation(self) -> InstallationRepository: ...

    @property
    def asset_tables(self) -> AssetTableRepository: ...

    @property
    def view_refresh(self) -> ViewRefreshRepository: ...

    def lock(self, kind: Lockable, name: str) -> None:
        """In a non-exclusive transaction: wait until no other transaction holds `kind` `name`,
        then hold it until this one ends. A no-op where the transaction is exclusive anyway."""
        ...


class NegotiationStore(UnitOfWork, Protocol):
    """The business store. Repository attributes run one transaction per call."""

    def transaction(self, *, exclusive: bool = True) -> AbstractContextManager[UnitOfWork]:
        """One transaction. `exclusive=False` lets it run beside other non-exclusive ones where
        the engine can (PostgreSQL); its block must then `lock` what it reads and rewrites."""
        ...

    def claim_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> frozenset[int]:
        """The uids this process may fetch now: none another live process is working on."""
        ...

    def release_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> None: ...

    def close(self) -> None: ...


def iter_chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most `size` (batch inserts)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
