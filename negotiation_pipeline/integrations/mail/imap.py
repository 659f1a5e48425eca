"""Reading replies with imaplib (`ImapReader`), and filing copies in IMAP folders.

Cursor rules:
- The cursor is (UIDVALIDITY, last UID). `UID SEARCH UID last+1:*` also returns the highest
  existing UID when it is <= last ("*" means "largest"), so uids are filtered `> last` here.
- When UIDVALIDITY differs from the cursor's, old UIDs mean nothing: everything is listed again
  (`rescanned=True`). Callers must dedupe on Message-ID (they already do, in the same
  transaction as the state change), so a rescan never processes a reply twice.
- Bodies are fetched with BODY.PEEK[] on a read-only SELECT: reading never sets \\Seen, so a
  human looking at the same inbox still sees what is new.

One IMAP connection per call by default: a sensor tick makes one or two calls, and a fresh login
survives server restarts and idle timeouts without reconnect logic. `with reader.connected():`
holds one login for a batch of calls.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Literal

from negotiation_pipeline.integrations.mail.base import (
    MESSAGE_ID_RE,
    FetchResult,
    IncomingMessage,
    MailCursor,
    MailError,
    NewIds,
    UidValidityChangedError,
    UnreadableMessage,
)
from negotiation_pipeline.integrations.mail.mime import (
    DEFAULT_LIMITS,
    MalformedMessageError,
    MessageLimits,
    parse_message,
)

ImapSecurity = Literal["ssl", "starttls", "plain"]

_FETCH_CHUNK = 200  # uids per UID FETCH command (keeps command lines short)
_UID_RE = re.compile(rb"UID (\d+)")
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
_APPENDUID_RE = re.compile(rb"APPENDUID (\d+) (\d+)")
_ANSWER_CHARS = 300


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int = 993
    user: str = ""
    password: str = field(default="", repr=False)
    security: ImapSecurity = "ssl"
    mailbox: str = "INBOX"  # where replies arrive
    sent_folder: str = "Sent"  # where copies of our mail go (created if absent)
    timeout_seconds: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    limits: MessageLimits = DEFAULT_LIMITS  # how much of each message is fetched and read

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ImapConfig:
        """From IMAP_HOST/PORT/USER/PASSWORD (+ optional IMAP_SECURITY, IMAP_MAILBOX,
        IMAP_SENT_FOLDER); port 993 implies ssl, anything else starttls unless told."""
        host = env.get("IMAP_HOST", "").strip()
        if not host:
            raise MailError("IMAP_HOST is not set")
        port_text = env.get("IMAP_PORT") or "993"
        try:
            port = int(port_text)
        except ValueError as exc:
            raise MailError(f"IMAP_PORT must be a port number, got {port_text!r}") from exc
        security = env.get("IMAP_SECURITY", "ssl" if port == 993 else "starttls").strip().lower()
        if security not in ("ssl", "starttls", "plain"):
            raise MailError(f"IMAP_SECURITY must be ssl, starttls or plain, got {security!r}")
        return cls(
            host=host,
            port=port,
            user=env.get("IMAP_USER", ""),
            password=env.get("IMAP_PASSWORD", ""),
            security=security,  # type: ignore[arg-type]
            mailbox=env.get("IMAP_MAILBOX", "INBOX"),
            sent_folder=env.get("IMAP_SENT_FOLDER", "Sent"),
        )


def _quote(mailbox: str) -> str:
    if any(char in mailbox for char in '\r\n"\\'):
        raise MailError(f"unsupported mailbox name: {mailbox!r}")
    return f'"{mailbox}"'


def _check(typ: str, data: object, what: str) -> None:
    if typ != "OK":
        raise MailError(f"{what} failed: {typ} {_bounded(_text(data))}")


def _text(data: object) -> str:
    if isinstance(data, list):
        return " ".join(_text(item) for item in data)
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return str(data)


def _bounded(text: str) -> str:
    """A server's words as one short line (they end up in logs, Slack and run failures)."""
    line = " ".join(text.split())
    return line if len(line) <= _ANSWER_CHARS else line[:_ANSWER_CHARS] + "…"


def _cause(exc: BaseException) -> str:
    text = _bounded(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ImapReader:
    """The IMAP half: listing, fetching, the Sent folder, appending."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self._held: imaplib.IMAP4 | None = None

    @property
    def where(self) -> str:
        return f"IMAP {self.config.host}:{self.config.port}"

    @contextmanager
    def _operation(self, what: str) -> Iterator[None]:
        """Every failure inside as a MailError naming the server, the step and the cause (never
        a bare imaplib.abort or socket error)."""
        try:
            yield
        except UidValidityChangedError:
            raise
        except MailError as exc:
            if str(exc).startswith(self.where):
                raise
            raise MailError(f"{self.where}: {exc}") from exc
        except imaplib.IMAP4.abort as exc:
            raise MailError(f"{self.where}: connection lost while {what} ({_cause(exc)})") from exc
        except imaplib.IMAP4.error as exc:
            raise MailError(f"{self.where}: the server refused {what} ({_cause(exc)})") from exc
        except OSError as exc:  # timeouts, resets, TLS failures
            message = f"{self.where}: connection failed while {what} ({_cause(exc)})"
            raise MailError(message) from exc

    @contextmanager
    def connected(self) -> Iterator[ImapReader]:
        """Reuse one login for every call inside the block (benchmarks, batch jobs; a login
        costs about 0.1 s on Dovecot). Not for sharing between threads."""
        if self._held is not None:
            yield self
            return
        with self._operation("logging in"):
            client = self._connect()
        self._held = client
        try:
            yield self
        finally:
            self._held = None
            self._logout(client)

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection: the held one inside connected(), else a new one."""
        if self._held is not None:
            yield self._held
            return
        with self._new_session() as client:
            yield client

    @contextmanager
    def _new_session(self) -> Iterator[imaplib.IMAP4]:
        client = self._connect()
        try:
            yield client
        finally:
            self._logout(client)

    @staticmethod
    def _logout(client: imaplib.IMAP4) -> None:
        # The connection is being discarded anyway; a failed LOGOUT changes nothing.
        with suppress(imaplib.IMAP4.error, OSError):
            client.logout()

    def _connect(self) -> imaplib.IMAP4:
        config = self.config
        where = f"IMAP {config.host}:{config.port}"
        context = config.ssl_context or ssl.create_default_context()
        try:
            client: imaplib.IMAP4
            if config.security == "ssl":
                client = imaplib.IMAP4_SSL(
                    config.host, config.port, ssl_context=context, timeout=config.timeout_seconds
                )
            else:
                client = imaplib.IMAP4(config.host, config.port, timeout=config.timeout_seconds)
                if config.security == "starttls":
                    client.starttls(ssl_context=context)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailError(f"{where}: cannot connect ({_cause(exc)})") from exc
        try:
            client.login(config.user, config.password)
        except imaplib.IMAP4.abort as exc:
            client.shutdown()
            raise MailError(f"{where}: connection lost while logging in ({_cause(exc)})") from exc
        except imaplib.IMAP4.error as exc:
            client.shutdown()
            raise MailError(f"{where}: login refused for user {config.user!r}") from exc
        except OSError as exc:
            client.shutdown()
            raise MailError(f"{where}: connection failed while logging in ({_cause(exc)})") from exc
        return client

    # --- reading ---------------------------------------------------------------------------

    def _select(self, client: imaplib.IMAP4, mailbox: str) -> int:
        """Read-only SELECT; returns UIDVALIDITY."""
        typ, data = client.select(_quote(mailbox), readonly=True)
        _check(typ, data, f"SELECT {mailbox}")
        _, values = client.response("UIDVALIDITY")
        if not values or values[0] is None:
            raise MailError(f"the server sent no UIDVALIDITY for {mailbox}")
        return int(values[0])

    def _search_after(self, client: imaplib.IMAP4, last_uid: int) -> list[int]:
        typ, data = client.uid("SEARCH", "UID", f"{last_uid + 1}:*")
        _check(typ, data, "UID SEARCH")
        found = (int(token) for item in data if item for token in _text(item).split())
        # "*" is the largest uid, so last+1:* matches it even when it is <= last: filter here.
        return sorted(uid for uid in found if uid > last_uid)

    def list_new_ids(self, cursor: MailCursor | None, limit: int = 500) -> NewIds:
        what = f"listing new mail in {self.config.mailbox}"
        with self._operation(what), self.session() as client:
            return self._list_new_ids(client, cursor, limit)

    def _list_new_ids(self, client: imaplib.IMAP4, cursor: MailCursor | None, limit: int) -> NewIds:
        uidvalidity = self._select(client, self.config.mailbox)
        rescanned = cursor is not None and cursor.uidvalidity != uidvalidity
        last_uid = cursor.last_uid if cursor is not None and not rescanned else 0
        uids = self._search_after(client, last_uid)[: max(limit, 0)]
        return NewIds(uidvalidity=uidvalidity, uids=tuple(uids), rescanned=rescanned)

    def fetch(self, uids: Sequence[int], uidvalidity: int | None = None) -> FetchResult:
        with self._operation(f"fetching from {self.config.mailbox}"), self.session() as client:
            current = self._select(client, self.config.mailbox)
            if uidvalidity is not None and uidvalidity != current:
                raise UidValidityChangedError(
                    f"{self.config.mailbox}: UIDVALIDITY is {current}, not {uidvalidity}; "
                    "list again from the stored cursor"
                )
            return self._fetch(client, current, uids, None, rescanned=False)

    def fetch_new(self, cursor: MailCursor | None, limit: int = 100) -> FetchResult:
        with self._operation(f"fetching from {self.config.mailbox}"), self.session() as client:
            listing = self._list_new_ids(client, cursor, limit)
            previous = None if listing.rescanned else cursor
            return self._fetch(
                client, listing.uidvalidity, listing.uids, previous, rescanned=listing.rescanned
            )

    def _fetch(
        self,
        client: imaplib.IMAP4,
        uidvalidity: int,
        uids: Sequence[int],
        previous: MailCursor | None,
        *,
        rescanned: bool,
    ) -> FetchResult:
        wanted = sorted(set(uids))
        limits = self.config.limits
        # Only the start of each message crosses the network: a stranger decides its size.
        items = f"(UID RFC822.SIZE BODY.PEEK[]<0.{limits.max_raw_bytes}>)"
        raw_by_uid: dict[int, tuple[bytes, int | None]] = {}
        for start in range(0, len(wanted), _FETCH_CHUNK):
            chunk = wanted[start : start + _FETCH_CHUNK]
            typ, data = client.uid("FETCH", ",".join(map(str, chunk)), items)
            _check(typ, data, "UID FETCH")
            raw_by_uid.update(_fetched_bodies(data))
        messages: list[IncomingMessage] = []
        unreadable: list[UnreadableMessage] = []
        for uid in wanted:
            found = raw_by_uid.get(uid)
            if found is None:
                continue  # expunged between SEARCH and FETCH: nothing to read
            raw, size = found
            complete = size is None or size <= len(raw)
            try:
                parsed = parse_message(raw, limits, complete=complete)
                messages.append(IncomingMessage(uid=uid, parsed=parsed, raw=raw))
            except MalformedMessageError as exc:
                unreadable.append(UnreadableMessage(uid=uid, raw=raw, error=str(exc)))
        base = previous.last_uid if previous is not None else 0
        cursor = MailCursor(uidvalidity, max((base, *wanted)))
        return FetchResult(tuple(messages), tuple(unreadable), cursor, rescanned)

    # --- Sent folder and appending ---------------------------------------------------------

    def already_sent(self, message_id: str) -> bool:
        if not MESSAGE_ID_RE.match(message_id):
            raise ValueError(f"not a Message-ID: {message_id!r}")
        folder = self.config.sent_folder
        with self._operation(f"searching {folder}"), self.session() as client:
            self._ensure_folder(client, folder)
            self._select(client, folder)
            typ, data = client.uid("SEARCH", "HEADER", "Message-ID", f'"{message_id}"')
            _check(typ, data, "UID SEARCH HEADER Message-ID")
            return any(_text(item).split() for item in data if item)

    def append(self, folder: str, raw: bytes, flags: str = "") -> int | None:
        """APPEND raw bytes to a folder (created if absent); the new uid when reported."""
        with self._operation(f"filing a message in {folder}"), self.session() as client:
            self._ensure_folder(client, folder)
            typ, data = client.append(_quote(folder), flags or None, None, raw)
            _check(typ, data, f"APPEND {folder}")
            found = _APPENDUID_RE.search(b" ".join(d for d in data if isinstance(d, bytes)))
            return int(found.group(2)) if found else None

    def _ensure_folder(self, client: imaplib.IMAP4, folder: str) -> None:
        typ, data = client.status(_quote(folder), "(UIDVALIDITY)")
        if typ == "OK":
            return
        typ, data = client.create(_quote(folder))
        if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(
            d for d in data if isinstance(d, bytes)
        ):
            _check(typ, data, f"CREATE {folder}")


def _fetched_bodies(data: list[object]) -> dict[int, tuple[bytes, int | None]]:
    """{uid: (body, RFC822.SIZE)} from imaplib's FETCH data, whether UID and the size come before
    or after the literal."""
    bodies: dict[int, tuple[bytes, int | None]] = {}
    pending: tuple[bytes, bytes] | None = None  # (prefix, body) still without its UID
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            prefix, body = item
            found = _UID_RE.search(prefix)
            if found:
                bodies[int(found.group(1))] = (body, _size_in(prefix))
                pending = None
            else:
                pending = (prefix, body)
        elif isinstance(item, bytes) and pending is not None:
            found = _UID_RE.search(item)
            if found:
                size = _size_in(pending[0])
                bodies[int(found.group(1))] = (
                    pending[1],
                    size if size is not None else _size_in(item),
                )
            pending = None
    return bodies


def _size_in(text: bytes) -> int | None:
    found = _SIZE_RE.search(text)
    return int(found.group(1)) if found else None
