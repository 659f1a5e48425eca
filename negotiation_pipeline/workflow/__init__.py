"""Application services: open negotiations, advance them from replies, deliver the outbox.

Plain Python over the store, the mailbox and the domain engine; never imports Dagster.
"""
