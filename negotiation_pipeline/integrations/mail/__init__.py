"""Mail integration: MIME parsing, threading rules, IMAP/SMTP and a Maildir sandbox.

Pick a Mailbox: `ImapSmtpMailbox(ImapReader(ImapConfig...), SmtpSender(SmtpConfig..., identity))`
for real mail, `MaildirMailbox(root, identity)` for the sandbox. Both satisfy `base.Mailbox`.
"""

from negotiation_pipeline.integrations.mail.base import (
    DeliveryError,
    FetchResult,
    HeaderInjectionError,
    IncomingMessage,
    Mailbox,
    MailCursor,
    MailError,
    NewIds,
    OutgoingEmail,
    SenderIdentity,
    UidValidityChangedError,
    UnreadableMessage,
    render_email,
    wire_address,
)
from negotiation_pipeline.integrations.mail.imap import ImapConfig, ImapReader
from negotiation_pipeline.integrations.mail.imap_smtp import ImapSmtpMailbox
from negotiation_pipeline.integrations.mail.maildir import MaildirMailbox
from negotiation_pipeline.integrations.mail.mime import (
    MalformedMessageError,
    MessageLimits,
    ParsedMessage,
    parse_message,
)
from negotiation_pipeline.integrations.mail.smtp import SmtpConfig, SmtpSender
from negotiation_pipeline.integrations.mail.thread_headers import (
    InMemoryThreadIndex,
    ThreadLookup,
    auto_reply_reason,
    bare_address,
    is_auto_reply,
    is_own_message,
    make_message_id,
    match_reply,
    normalize_subject,
    references_for,
    reply_subject,
)

__all__ = [
    "DeliveryError",
    "FetchResult",
    "HeaderInjectionError",
    "ImapConfig",
    "ImapReader",
    "ImapSmtpMailbox",
    "InMemoryThreadIndex",
    "IncomingMessage",
    "MailCursor",
    "MailError",
    "Mailbox",
    "MaildirMailbox",
    "MalformedMessageError",
    "MessageLimits",
    "NewIds",
    "OutgoingEmail",
    "ParsedMessage",
    "SenderIdentity",
    "SmtpConfig",
    "SmtpSender",
    "ThreadLookup",
    "UidValidityChangedError",
    "UnreadableMessage",
    "auto_reply_reason",
    "bare_address",
    "is_auto_reply",
    "is_own_message",
    "make_message_id",
    "match_reply",
    "normalize_subject",
    "parse_message",
    "references_for",
    "render_email",
    "reply_subject",
    "wire_address",
]
