"""The sandbox Mailbox: an inbox Maildir and a sent Maildir under one root directory.

Layout under `root`:
    inbox/                  Maildir: replies arrive here (append_to_inbox, or any Maildir writer)
    sent/                   Maildir: every email we "send"
    state/uidvalidity       random number chosen when the state is created
    state/inbox-index.tsv   "uid<TAB>maildir key" lines, uids 1, 2, 3... in arrival order
    state/sent-ids/<sha256 of Message-ID>   one empty marker file per sent email (O(1) lookup)
    state/lock              flock() held while the index is extended

Messages dropped into inbox/ by another program are given uids on the next listing (oldest file
first), so they are never lost. Deleting state/ starts a new uidvalidity: the next listing
rescans everything, like an IMAP UIDVALIDITY change (callers dedupe on Message-ID).
"""

from __future__ import annotations

import fcntl
import hashlib
import mailbox
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from negotiation_pipeline.integrations.mail.base import (
    MESSAGE_ID_RE,
    FetchResult,
    IncomingMessage,
    MailCursor,
    NewIds,
    OutgoingEmail,
    SenderIdentity,
    UidValidityChangedError,
    UnreadableMessage,
    render_email,
)
from negotiation_pipeline.integrations.mail.mime import (
    DEFAULT_LIMITS,
    MalformedMessageError,
    MessageLimits,
    parse_message,
)


class MaildirMailbox:
    def __init__(
        self, root: Path | str, sender: SenderIdentity, limits: MessageLimits = DEFAULT_LIMITS
    ) -> None:
        self.root = Path(root)
        self.sender = sender
        self.limits = limits
        self.inbox = mailbox.Maildir(self.root / "inbox", create=True)
        self.sent = mailbox.Maildir(self.root / "sent", create=True)
        self._state = self.root / "state"
        self._sent_ids = self._state / "sent-ids"
        self._sent_ids.mkdir(parents=True, exist_ok=True)
        self._index_file = self._state / "inbox-index.tsv"
        with self._locked():
            self.uidvalidity = self._load_or_create_uidvalidity()
            self._index_file.touch(exist_ok=True)

    # --- state ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._state / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load_or_create_uidvalidity(self) -> int:
        path = self._state / "uidvalidity"
        if path.exists():
            return int(path.read_text().strip())
        value = secrets.randbelow(2**31 - 2) + 1
        _write_atomically(path, f"{value}\n")
        return value

    def _read_index(self) -> list[tuple[int, str]]:
        entries: list[tuple[int, str]] = []
        for line in self._index_file.read_text().splitlines():
            uid_text, _, key = line.partition("\t")
            if uid_text and key:
                entries.append((int(uid_text), key))
        return entries

    def _synced_index(self) -> list[tuple[int, str]]:
        """The index, after giving uids to any inbox files it does not know yet."""
        entries = self._read_index()
        known = {key for _, key in entries}
        if not known.issuperset(self.inbox.iterkeys()):
            with self._locked():
                entries = self._read_index()
                known = {key for _, key in entries}
                unknown = [key for key in self.inbox.iterkeys() if key not in known]
                unknown.sort(key=_delivery_order)
                next_uid = (entries[-1][0] if entries else 0) + 1
                new_entries = [(next_uid + n, key) for n, key in enumerate(unknown)]
                self._append_index(new_entries)
                entries.extend(new_entries)
        return entries

    def _append_index(self, entries: Sequence[tuple[int, str]]) -> None:
        if not entries:
            return
        with open(self._index_file, "a") as handle:
            handle.write("".join(f"{uid}\t{key}\n" for uid, key in entries))
            handle.flush()
            os.fsync(handle.fileno())

    # --- Mailbox interface -----------------------------------------------------------------

    def list_new_ids(self, cursor: MailCursor | None, limit: int = 500) -> NewIds:
        rescanned = cursor is not None and cursor.uidvalidity != self.uidvalidity
        last_uid = cursor.last_uid if cursor is not None and not rescanned else 0
        uids = [uid for uid, _ in self._synced_index() if uid > last_uid][: max(limit, 0)]
        return NewIds(self.uidvalidity, tuple(uids), rescanned)

    def fetch(self, uids: Sequence[int], uidvalidity: int | None = None) -> FetchResult:
        if uidvalidity is not None and uidvalidity != self.uidvalidity:
            raise UidValidityChangedError(
                f"{self.root}: uidvalidity is {self.uidvalidity}, not {uidvalidity}"
            )
        return self._fetch(uids, None, rescanned=False)

    def fetch_new(self, cursor: MailCursor | None, limit: int = 100) -> FetchResult:
        listing = self.list_new_ids(cursor, limit)
        previous = None if listing.rescanned else cursor
        return self._fetch(listing.uids, previous, rescanned=listing.rescanned)

    def _fetch(
        self, uids: Sequence[int], previous: MailCursor | None, *, rescanned: bool
    ) -> FetchResult:
        wanted = sorted(set(uids))
        key_by_uid = dict(self._synced_index())
        messages: list[IncomingMessage] = []
        unreadable: list[UnreadableMessage] = []
        for uid in wanted:
            key = key_by_uid.get(uid)
            if key is None:
                continue
            try:
                raw, complete = self._read_start(key)
            except (KeyError, FileNotFoundError):
                continue  # removed from the Maildir since it was indexed
            try:
                parsed = parse_message(raw, self.limits, complete=complete)
                messages.append(IncomingMessage(uid, parsed, raw))
            except MalformedMessageError as exc:
                unreadable.append(UnreadableMessage(uid, raw, str(exc)))
        base = previous.last_uid if previous is not None else 0
        cursor = MailCursor(self.uidvalidity, max((base, *wanted)))
        return FetchResult(tuple(messages), tuple(unreadable), cursor, rescanned)

    def _read_start(self, key: str) -> tuple[bytes, bool]:
        """The first max_raw_bytes of a message, and whether that is all of it."""
        wanted = self.limits.max_raw_bytes
        with self.inbox.get_file(key) as handle:
            raw = handle.read(wanted + 1)
        return raw[:wanted], len(raw) <= wanted

    def send(self, email_: OutgoingEmail, date: datetime | None = None) -> None:
        """File the email in sent/ (the sandbox's "sending").

        Crash-safe without duplicates: the Message-ID's marker first records the file name the
        email will have, then the file appears in sent/new by an atomic rename. A process killed
        in between leaves a marker naming a missing file; the next send writes that same name,
        so one Message-ID never has two copies in sent/.
        """
        marker = self._sent_marker(email_.message_id)
        key = _read_marker(marker)
        if key is None:
            key = _sent_key(email_.message_id)
            _write_atomically(marker, key + "\n")
        if self._sent_file_exists(key):
            return
        temporary = self.root / "sent" / "tmp" / key
        temporary.write_bytes(render_email(email_, self.sender, date))
        os.replace(temporary, self.root / "sent" / "new" / key)

    def already_sent(self, message_id: str) -> bool:
        key = _read_marker(self._sent_marker(message_id))
        return key is not None and self._sent_file_exists(key)

    def send_once(self, email_: OutgoingEmail) -> bool:
        if self.already_sent(email_.message_id):
            return False
        self.send(email_)
        return True

    def in_sent_folder(self, message_id: str) -> bool:
        """Ours (found by its marker), or any other message filed in sent/ with this
        Message-ID (a person on our side writing from another client): headers are read."""
        if self.already_sent(message_id):
            return True
        wanted = message_id.strip()
        for key in self.sent.iterkeys():
            try:
                with self.sent.get_file(key) as handle:
                    head = handle.read(_SENT_HEADER_BYTES)
            except (KeyError, FileNotFoundError):
                continue  # removed meanwhile
            found = BytesHeaderParser().parsebytes(head).get("Message-ID")
            if found is not None and str(found).strip() == wanted:
                return True
        return False

    # The sandbox's "sending" is filing in sent/: one step, the copy is kept by deliver().
    files_sent_copy_separately = False

    def deliver(
        self, email_: OutgoingEmail, date: datetime, on_accepted: Callable[[], None]
    ) -> None:
        self.send(email_, date)
        on_accepted()

    def file_sent_copy(
        self, email_: OutgoingEmail, date: datetime, *, may_exist: bool = True
    ) -> None:
        """Nothing to do: deliver() wrote the copy into sent/."""

    def _sent_file_exists(self, key: str) -> bool:
        if key == "":
            return True  # marker written by an older version, after its file
        sent = self.root / "sent"
        return (sent / "new" / key).exists() or any((sent / "cur").glob(f"{key}:*"))

    def append_to_inbox(self, raw: bytes) -> int:
        with self._locked():
            entries = self._read_index()
            key = self.inbox.add(raw)
            uid = (entries[-1][0] if entries else 0) + 1
            self._append_index([(uid, key)])
        return uid

    # --- sandbox helpers -----------------------------------------------------------------

    def sent_messages(self) -> list[bytes]:
        """Raw bytes of everything sent, oldest first (for simulated influencers and tests)."""
        keys = sorted(self.sent.iterkeys(), key=_delivery_order)
        return [self.sent.get_bytes(key) for key in keys]

    def _sent_marker(self, message_id: str) -> Path:
        if not MESSAGE_ID_RE.match(message_id):
            raise ValueError(f"not a Message-ID: {message_id!r}")
        return self._sent_ids / hashlib.sha256(message_id.encode()).hexdigest()


def _read_marker(marker: Path) -> str | None:
    """The sent/ file name a marker reserved; "" for an old empty marker; None without one."""
    try:
        return marker.read_text().strip()
    except FileNotFoundError:
        return None


def _sent_key(message_id: str) -> str:
    """A Maildir file name that sorts by time like the ones `mailbox.Maildir.add` makes."""
    now = time.time()
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:16]
    return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{digest}.{_HOST}"


# Enough of a sent file to hold its headers (the body is never needed to find a Message-ID).
_SENT_HEADER_BYTES = 65_536
_HOST = re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "localhost"
_KEY_TIME_RE = re.compile(r"^(\d+)\.(?:M(\d+))?")


def _delivery_order(key: str) -> tuple[int, int, str]:
    """Maildir names start "SECONDS.M<microseconds>..." (Python, Dovecot, most writers)."""
    found = _KEY_TIME_RE.match(key)
    if found is None:
        return (0, 0, key)
    return (int(found.group(1)), int(found.group(2) or 0), key)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
