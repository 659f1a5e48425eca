"""`ImapSmtpMailbox`: the real Mailbox, replies read over IMAP and our mail sent over SMTP,
with a copy of each sent email filed in the IMAP Sent folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from negotiation_pipeline.integrations.mail.base import (
    FetchResult,
    MailCursor,
    NewIds,
    OutgoingEmail,
    render_email,
)
from negotiation_pipeline.integrations.mail.imap import ImapReader
from negotiation_pipeline.integrations.mail.smtp import SmtpSender


class ImapSmtpMailbox:
    """The real Mailbox: replies read over IMAP, mail sent over SMTP and filed in Sent.

    The outbox delivers in two steps: `deliver` (SMTP; the caller records the acceptance the
    moment the server answered 250) and `file_sent_copy` (APPEND to Sent, skipped when the copy
    is already there), retried on its own. So a cut at APPEND, or a crash between SMTP and
    APPEND, never sends an email twice: the outbox already says it was sent. already_sent()
    still finds copies filed by a run that died before recording its send.
    """

    files_sent_copy_separately = True

    def __init__(self, reader: ImapReader, sender: SmtpSender) -> None:
        self.reader = reader
        self.sender = sender

    def list_new_ids(self, cursor: MailCursor | None, limit: int = 500) -> NewIds:
        return self.reader.list_new_ids(cursor, limit)

    def fetch(self, uids: Sequence[int], uidvalidity: int | None = None) -> FetchResult:
        return self.reader.fetch(uids, uidvalidity)

    def fetch_new(self, cursor: MailCursor | None, limit: int = 100) -> FetchResult:
        return self.reader.fetch_new(cursor, limit)

    def send(self, email_: OutgoingEmail, date: datetime | None = None) -> None:
        raw = self.sender.send(email_, date)
        self.reader.append(self.reader.config.sent_folder, raw, r"(\Seen)")

    def already_sent(self, message_id: str) -> bool:
        return self.reader.already_sent(message_id)

    def send_once(self, email_: OutgoingEmail) -> bool:
        if self.already_sent(email_.message_id):
            return False
        self.send(email_)
        return True

    def in_sent_folder(self, message_id: str) -> bool:
        # The same Sent-folder search that guards resends: a copy a colleague's mail client
        # filed there counts as well as ours.
        return self.reader.already_sent(message_id)

    def deliver(
        self, email_: OutgoingEmail, date: datetime, on_accepted: Callable[[], None]
    ) -> None:
        self.sender.send(email_, date, on_accepted=on_accepted)

    def file_sent_copy(
        self, email_: OutgoingEmail, date: datetime, *, may_exist: bool = True
    ) -> None:
        raw = render_email(email_, self.sender.sender, date)  # the bytes deliver() sent
        with self.reader.connected():
            if not may_exist or not self.reader.already_sent(email_.message_id):
                self.reader.append(self.reader.config.sent_folder, raw, r"(\Seen)")

    def append_to_inbox(self, raw: bytes) -> int | None:
        return self.reader.append(self.reader.config.mailbox, raw)
