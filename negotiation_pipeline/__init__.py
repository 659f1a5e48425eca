"""A Dagster code location that negotiates influencer rates by email for a marketing agency.

Layers, inner to outer: `domain/` (pure negotiation, reading and campaign rules), `store/` (the
business store on SQLite or PostgreSQL), `integrations/` (ClickUp, mail, Slack, HTTP adapters),
`workflow/` (the services that combine them, without Dagster), `defs/` (the thin Dagster layer,
by feature), `cli/`, `settings/` and `config/` (the editable business rules), and `sandbox/`
(the account-free stand-ins). `definitions.py` is the only place resources are bound.
"""
