"""Errors of roster reading. Messages name the source (redacted) and never quote its content."""

from __future__ import annotations


class RosterReadError(ValueError):
    """The roster cannot be read or lacks a required column; the message names the source."""


class RosterSourceError(RosterReadError):
    """The source is not allowed: a campaign roster that is not https to a public host, a
    redirect to such a place, or a response too large, too slow or not CSV text."""
