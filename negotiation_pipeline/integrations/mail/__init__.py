"""Mail integration: MIME parsing, threading rules, IMAP/SMTP and a Maildir sandbox."""
