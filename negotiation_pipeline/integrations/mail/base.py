"""Mailbox interface shared by the IMAP/SMTP mailbox and the Maildir sandbox.

Message ids ("uids") are positive integers that only grow inside one `uidvalidity`: IMAP UIDs for
the real mailbox, index numbers for the Maildir sandbox. A `MailCursor` (domain/mail_cursor.py)
remembers the newest one handled.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from typing import Protocol

from negotiation_pipeline.domain.mail_cursor import MailCursor
from negotiation_pipeline.integrations.mail.mime import ParsedMessage

MESSAGE_ID_RE = re.compile(r'^<[^<>\s"\\]+@[^<>\s"\\]+>$')
_ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


class MailError(RuntimeError):
    """A mail server could not be reached or refused an operation (never contains a password)."""


class HeaderInjectionError(ValueError):
    """A structural header value (address, Message-ID) contains CR/LF or is malformed."""


class DeliveryError(MailError):
    """Sending one email failed, classified for the outbox.

    `permanent`: this email can never go out as it is (a 5xx answer, an address no server can
    take): retrying only repeats the failure. Otherwise a later attempt may work (4xx, a lost
    connection). `transport`: the server itself was unusable (connect, TLS, login, 421), so
    every other email would fail the same way right now. `maybe_delivered`: the connection was
    lost after the whole message went out and before the server answered.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        transport: bool = False,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.transport = transport and not permanent
        self.maybe_delivered = maybe_delivered


@dataclass(frozen=True)
class IncomingMessage:
    uid: int  # IMAP UID, or the Maildir sandbox's index number
    parsed: ParsedMessage
    raw: bytes


@dataclass(frozen=True)
class UnreadableMessage:
    """A message whose bytes did not parse: reported (never silently dropped), cursor moves on."""

    uid: int
    raw: bytes
    error: str


@dataclass(frozen=True)
class FetchResult:
    messages: tuple[IncomingMessage, ...]
    unreadable: tuple[UnreadableMessage, ...]
    cursor: MailCursor  # covers every uid returned (and every uid asked for, for fetch())
    rescanned: bool = False  # True when UIDVALIDITY changed and everything was listed again


@dataclass(frozen=True)
class NewIds:
    uidvalidity: int
    uids: tuple[int, ...]  # ascending, all > the cursor's last_uid (when uidvalidity matched)
    rescanned: bool = False

    def cursor_after(self, previous: MailCursor | None) -> MailCursor:
        """Cursor to store once every uid in this listing has been handled."""
        base = (
            0
            if previous is None or previous.uidvalidity != self.uidvalidity
            else (previous.last_uid)
        )
        return MailCursor(self.uidvalidity, max((base, *self.uids)))


class UidValidityChangedError(MailError):
    """fetch() was asked for uids of an older UIDVALIDITY: list again from the cursor."""


def _check_structural(name: str, value: str, pattern: re.Pattern[str]) -> None:
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(f"{name} contains a line break: {value!r}")
    if not pattern.match(value):
        raise HeaderInjectionError(f"{name} is malformed: {value!r}")


def _single_line(value: str) -> str:
    # Free-text headers (subject, display name) are folded onto one line rather than rejected.
    return " ".join(value.split())


@dataclass(frozen=True)
class OutgoingEmail:
    """One email we send. Addresses and ids with CR/LF are rejected; subject/name are flattened."""

    message_id: str  # "<...@domain>", from threading.make_message_id
    to_addr: str  # bare address
    to_name: str
    subject: str
    body: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_structural("message_id", self.message_id, MESSAGE_ID_RE)
        _check_structural("to_addr", self.to_addr, _ADDRESS_RE)
        if self.in_reply_to is not None:
            _check_structural("in_reply_to", self.in_reply_to, MESSAGE_ID_RE)
        for reference in self.references:
            _check_structural("references", reference, MESSAGE_ID_RE)
        object.__setattr__(self, "subject", _single_line(self.subject))
        object.__setattr__(self, "to_name", _single_line(self.to_name))


@dataclass(frozen=True)
class SenderIdentity:
    address: str  # the agent's bare address: From, and what is_own_message compares against
    name: str = ""

    def __post_init__(self) -> None:
        _check_structural("sender address", self.address, _ADDRESS_RE)
        object.__setattr__(self, "name", _single_line(self.name))

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1].lower()


def wire_address(address: str) -> tuple[str, bool]:
    """(the address as it goes on the wire, whether it needs SMTPUTF8).

    A non-ASCII domain is written in its ASCII (IDNA) form, which every server takes; a
    non-ASCII local part can only travel with SMTPUTF8. An address whose domain is not a
    domain name is a permanent DeliveryError.
    """
    local, _, domain = address.rpartition("@")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise DeliveryError(
                f"the address {address!r} has no valid domain name ({exc})", permanent=True
            ) from exc
    return f"{local}@{domain}", not local.isascii()


def _display(name: str, address: str) -> str | Address:
    if not address.isascii():  # SMTPUTF8: formataddr() takes ASCII addresses only
        local, _, domain = address.rpartition("@")
        return Address(display_name=name, username=local, domain=domain)
    return email.utils.formataddr((name, address)) if name else address


def render_email(
    email_: OutgoingEmail, sender: SenderIdentity, date: datetime | None = None
) -> bytes:
    """The wire bytes (CRLF) of an outgoing email, with our Message-ID and threading headers.
    An address with a non-ASCII local part makes it an SMTPUTF8 message (UTF-8 headers)."""
    from_addr, from_utf8 = wire_address(sender.address)
    to_addr, to_utf8 = wire_address(email_.to_addr)
    utf8 = from_utf8 or to_utf8
    message = EmailMessage(policy=SMTPUTF8_POLICY if utf8 else SMTP_POLICY)
    message["From"] = _display(sender.name, sender.address if utf8 else from_addr)
    message["To"] = _display(email_.to_name, email_.to_addr if utf8 else to_addr)
    message["Subject"] = email_.subject
    message["Date"] = (
        email.utils.format_datetime(date)
        if date is not None
        else email.utils.formatdate(localtime=True)
    )
    message["Message-ID"] = email_.message_id
    if email_.in_reply_to:
        message["In-Reply-To"] = email_.in_reply_to
    if email_.references:
        message["References"] = " ".join(email_.references)
    message.set_content(email_.body)
    return message.as_bytes(policy=SMTPUTF8_POLICY if utf8 else SMTP_POLICY)


class Mailbox(Protocol):
    """Reading new replies and sending our emails; IMAP/SMTP or the Maildir sandbox."""

    def list_new_ids(self, cursor: MailCursor | None, limit: int = 500) -> NewIds:
        """Uids after the cursor (oldest first, at most `limit`); no bodies. A changed
        UIDVALIDITY lists everything again (`rescanned`); callers dedupe by Message-ID."""
        ...

    def fetch(self, uids: Sequence[int], uidvalidity: int | None = None) -> FetchResult:
        """Bodies of these uids (without marking them read). With `uidvalidity`, raise
        UidValidityChangedError if the mailbox no longer has it."""
        ...

    def fetch_new(self, cursor: MailCursor | None, limit: int = 100) -> FetchResult:
        """list_new_ids + fetch in one step; the result's cursor is the one to store next."""
        ...

    def send(self, email_: OutgoingEmail) -> None:
        """Send now and keep a copy where already_sent() looks. Does not check for duplicates."""
        ...

    def already_sent(self, message_id: str) -> bool:
        """True when an email with this Message-ID is in the sent store (checked before resend)."""
        ...

    def send_once(self, email_: OutgoingEmail) -> bool:
        """send() unless already_sent(); True when it sent."""
        ...

    def in_sent_folder(self, message_id: str) -> bool:
        """True when a message with this Message-ID is among our sent mail, whoever on our side
        sent it (the IMAP Sent folder, the sandbox's sent Maildir). How a message that claims
        to come from our own address proves it really did."""

    # Delivery in two steps, for the outbox (workflow/outbox.py): the mail server's acceptance
    # is recorded before the Sent-folder copy is filed, so failing to file it never resends.
    files_sent_copy_separately: bool  # False: deliver() already keeps the copy

    def deliver(
        self, email_: OutgoingEmail, date: datetime, on_accepted: Callable[[], None]
    ) -> None:
        """Hand the email to the mail server now (no duplicate check) and call `on_accepted()`
        the moment the server took it. Raises DeliveryError (or HeaderInjectionError)."""
        ...

    def file_sent_copy(
        self, email_: OutgoingEmail, date: datetime, *, may_exist: bool = True
    ) -> None:
        """Keep the copy of an email delivered at `date` where already_sent() looks, unless it
        is there already (so a retried filing never files it twice). `may_exist=False`: no
        earlier attempt can have filed it (it was delivered a moment ago), skip the lookup."""
        ...

    def append_to_inbox(self, raw: bytes) -> int | None:
        """Deliver raw bytes into the inbox (tests, sandbox); the new uid when known."""
        ...
